from care_superb.downstream import splits
from care_superb.downstream.meld import corpus
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task

TASK = Task("meld", corpus, lambda: Classification(list(corpus.EMOTIONS)), splits.official,
            "MELD (Friends dialogue), 7 emotions, official train/dev/test")
