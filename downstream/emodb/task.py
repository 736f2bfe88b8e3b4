from care_superb.downstream import splits
from care_superb.downstream.emodb import corpus
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task

TASK = Task("emodb", corpus, lambda: Classification(list(corpus.EMOTIONS.values())), splits.speaker_independent,
            "EmoDB, 7 emotions, speaker-independent seeded splits")
