from care_superb.downstream import splits
from care_superb.downstream.cmu_mosi import corpus
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task

TASK = Task("cmu_mosi", corpus, lambda: Classification(list(corpus.LABELS)), splits.official,
            "CMU-MOSI sentiment, negative (< 0) vs positive (>= 0), split by video")
