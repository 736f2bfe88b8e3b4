from care_superb.downstream import splits
from care_superb.downstream.daic_woz import corpus
from care_superb.downstream.objectives import InterviewClassification
from care_superb.downstream.registry import Task


def avec2017(utterances, datarc):
    """The scored list is the parser's ``datarc.corpus.test_list``. ``dev`` (default, where CARE
    reports): test on the AVEC 2017 dev list, select on ``valid_fraction`` of the train list's
    participants (per class, seed ``split_seed``). ``test``: the challenge's own partition, the train,
    dev and test lists as they are."""
    test_list = (datarc.get("corpus") or {}).get("test_list", "dev")
    if test_list == "test":
        drawn, description = splits.official(utterances, datarc)
        description = {**description, "split_seed": splits.split_seed(datarc)}  # seeds the segment draw
    else:
        drawn, description = splits.official_split_held_out_dev(
            utterances, {**datarc, "train_split": "train", "test_split": "dev"})
    return drawn, {**description, "test_list": test_list, "test_labels": corpus.TEST_LISTS[test_list]}


TASK = Task("daic_woz", corpus,
            lambda **options: InterviewClassification([corpus.LABELS[0], corpus.LABELS[1]],
                                                      positive=corpus.LABELS[1], **options),
            splits.segmented(avec2017),
            "DAIC-WOZ depression, fixed-length participant segments, tested on the AVEC 2017 dev list "
            "(or its test list: corpus.test_list)")
