"""Segment- and interview-level scoring of DAIC-WOZ's objective."""
from __future__ import annotations

import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, f1_score

from care_superb.downstream.objectives import Classification, InterviewClassification

LABELS = ["not_depressed", "depressed"]


def seg(cls: int, p_depressed: float):
    return (cls, [1 - p_depressed, p_depressed])


def test_predict_returns_class_and_probabilities():
    objective = InterviewClassification(LABELS, positive="depressed")
    out = objective.predict(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
    assert [p[0] for p in out] == [0, 1]
    assert out[0][1] == pytest.approx(torch.tensor([2.0, 0.0]).softmax(-1).tolist())
    assert "depressed (p=" in objective.describe(out[1]) and objective.describe(1) == "depressed"


def test_interview_decisions_majority_and_mean_probability_differ_where_they_should():
    # Interview "a" (depressed): 2 of 3 segments say not depressed, but weakly; one says
    # depressed with high confidence. Majority -> not depressed; mean probability -> depressed.
    keys = ["a/seg000", "a/seg001", "a/seg002", "b/seg000", "b/seg001"]
    true = [1, 1, 1, 0, 0]
    pred = [seg(0, 0.45), seg(0, 0.45), seg(1, 0.99), seg(0, 0.1), seg(0, 0.2)]
    majority = InterviewClassification(LABELS, "depressed", decision="majority").metrics(true, pred, keys)
    mean = InterviewClassification(LABELS, "depressed", decision="mean_probability").metrics(true, pred, keys)
    assert majority["interview_accuracy"] == 0.5 and majority["interview_depressed_f1"] == 0.0
    assert mean["interview_accuracy"] == 1.0 and mean["interview_depressed_f1"] == 1.0
    # Segment-level metrics do not depend on the decision rule.
    classes = [p[0] for p in pred]
    for metrics in (majority, mean):
        assert metrics["weighted_f1"] == pytest.approx(f1_score(true, classes, average="weighted"))
        assert metrics["depressed_f1"] == pytest.approx(f1_score(true, classes, pos_label=1))
        assert metrics["macro_f1"] == pytest.approx(f1_score(true, classes, average="macro"))


def test_a_tied_vote_goes_to_the_higher_mean_probability():
    objective = InterviewClassification(LABELS, "depressed")
    assert objective.decide([seg(0, 0.4), seg(1, 0.9)]) == 1
    assert objective.decide([seg(0, 0.1), seg(1, 0.6)]) == 0


def test_interview_metrics_group_by_the_key_prefix():
    objective = InterviewClassification(LABELS, "depressed")
    keys = ["300/seg000", "300/seg001", "301/seg000", "302/seg000", "302/seg001", "302/seg002"]
    true = [1, 1, 0, 0, 0, 0]
    pred = [seg(1, 0.8), seg(1, 0.7), seg(1, 0.9), seg(0, 0.1), seg(0, 0.2), seg(1, 0.6)]
    metrics = objective.metrics(true, pred, keys)
    # interviews: 300 depressed -> depressed, 301 not -> depressed, 302 not -> not
    assert metrics["interview_accuracy"] == pytest.approx(2 / 3)
    assert metrics["interview_depressed_f1"] == pytest.approx(f1_score([1, 0, 0], [1, 1, 0]))
    assert metrics["interview_weighted_f1"] == pytest.approx(f1_score([1, 0, 0], [1, 1, 0], average="weighted"))


def test_keys_are_required_and_an_interview_has_one_label():
    objective = InterviewClassification(LABELS, "depressed")
    with pytest.raises(ValueError, match="one key per prediction"):
        objective.metrics([0], [seg(0, 0.1)])
    with pytest.raises(ValueError, match="different labels"):
        objective.metrics([0, 1], [seg(0, 0.1), seg(0, 0.1)], ["300/seg000", "300/seg001"])


def test_options_are_checked():
    with pytest.raises(ValueError, match="decision"):
        InterviewClassification(LABELS, "depressed", decision="vote")
    with pytest.raises(ValueError, match="selection"):
        InterviewClassification(LABELS, "depressed", selection="f1")
    with pytest.raises(ValueError, match="positive class"):
        InterviewClassification(LABELS, "sad")
    assert InterviewClassification(LABELS, "depressed", selection="interview_depressed_f1").selection == "interview_depressed_f1"


def test_plain_classification_accepts_and_ignores_keys():
    objective = Classification(LABELS)
    assert objective.metrics([0, 1], [0, 1], keys=["x", "y"]) == objective.metrics([0, 1], [0, 1])


def test_macro_scores_count_every_class_of_the_task_even_one_absent_from_the_split():
    objective = Classification(["anger", "joy", "sad"])  # nobody in this split is sad, nobody is called sad
    true, pred = [0, 0, 1, 1], [0, 0, 1, 0]
    metrics = objective.metrics(true, pred)
    assert metrics["n_classes_present"] == 2
    # anger: F1 0.8, joy: F1 2/3, sad: 0 -> the mean over the task's 3 classes
    assert metrics["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0) / 3)
    assert metrics["unweighted_accuracy"] == pytest.approx((1 + 0.5 + 0) / 3)
    # scikit-learn's defaults average over the classes seen (2), which is not comparable across splits
    assert f1_score(true, pred, average="macro") == pytest.approx((0.8 + 2 / 3) / 2)
    assert balanced_accuracy_score(true, pred) == pytest.approx(0.75)
    assert metrics["weighted_f1"] == pytest.approx(f1_score(true, pred, average="weighted"))
