from care_superb.downstream import splits
from care_superb.downstream.cafe import corpus
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task

TASK = Task("cafe", corpus, lambda: Classification(list(corpus.EMOTIONS.values())), splits.speaker_independent,
            "CaFE (Canadian French), 7 emotions, speaker-independent seeded splits")
