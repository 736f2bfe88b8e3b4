from care_superb.downstream import splits
from care_superb.downstream.iemocap import corpus
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task

# Excited is merged into happy by the config's label_map; the other codes are dropped there.
TASK = Task("iemocap4", corpus, lambda: Classification(["ang", "hap", "sad", "neu"]), splits.leave_one_session_out,
            "IEMOCAP, 4 classes (excited merged into happy), leave one session out")
