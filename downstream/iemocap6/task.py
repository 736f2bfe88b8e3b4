from care_superb.downstream import splits
from care_superb.downstream.iemocap import corpus
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task

TASK = Task("iemocap6", corpus, lambda: Classification(["ang", "hap", "sad", "neu", "exc", "fru"]),
            splits.leave_one_session_out, "IEMOCAP, 6 classes, leave one session out")
