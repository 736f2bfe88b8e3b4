from care_superb.downstream import splits
from care_superb.downstream.daic_woz import corpus
from care_superb.downstream.objectives import InterviewClassification
from care_superb.downstream.registry import Task

TASK = Task("daic_woz", corpus,
            lambda **options: InterviewClassification([corpus.LABELS[0], corpus.LABELS[1]],
                                                      positive=corpus.LABELS[1], **options),
            splits.segmented(splits.official_split_held_out_dev),
            "DAIC-WOZ depression, fixed-length participant segments, tested on the AVEC 2017 dev list")
