from care_superb.downstream import splits
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task
from care_superb.downstream.toycorpus import corpus

TASK = Task("toycorpus", corpus, lambda: Classification(list(corpus.EMOTIONS)), splits.speaker_independent,
            "a toy corpus, 2 emotions")
