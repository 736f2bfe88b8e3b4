from care_superb.downstream import splits
from care_superb.downstream.msp_improv import corpus
from care_superb.downstream.objectives import Regression
from care_superb.downstream.registry import Task

TASK = Task("msp_improv", corpus, lambda: Regression(list(corpus.ATTRIBUTES)), splits.speaker_folds,
            "MSP-IMPROV valence/arousal/dominance regression (CCC), folds by speaker")
