"""Classification metrics, each written once, as pure functions of confusion matrices.

The definitions are scikit-learn's with ``labels=`` every class of the task and
``zero_division=0`` (checked against ``f1_score`` / ``recall_score`` / ``accuracy_score`` in
``tests/test_metrics.py``). Taking a confusion matrix instead of labels lets one call score a
split (the objectives: ``confusion(true, pred, k)``) or a whole batch of resamples at once (the
leaderboard: a ``B x k x k`` stack); every function maps ``(..., k, k)`` to ``(...)``.

A confusion matrix ``c[i, j]`` counts utterances of true class i predicted as j. Classes absent
from the split keep their place: their recall and F1 count as 0 in the macro averages (so that
numbers compare across splits), and weigh 0 in the weighted F1.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix


def confusion(true, pred, n_classes: int) -> np.ndarray:
    """k x k counts (scikit-learn's ``confusion_matrix`` over every class of the task)."""
    return confusion_matrix(true, pred, labels=list(range(n_classes))).astype(float)


def _f1(c: np.ndarray) -> np.ndarray:
    """(..., k): per-class F1 = 2 TP / (2 TP + FP + FN); 0 where a class was neither true nor predicted."""
    hits = np.diagonal(c, axis1=-2, axis2=-1)
    denominator = c.sum(-1) + c.sum(-2)
    return np.divide(2 * hits, denominator, out=np.zeros_like(hits, dtype=float), where=denominator > 0)


def class_f1(c: np.ndarray, index: int) -> np.ndarray:
    """F1 of one class."""
    return _f1(c)[..., index]


def weighted_f1(c: np.ndarray) -> np.ndarray:
    """Per-class F1 weighted by the class's support (``average="weighted"``): the paper's metric."""
    support = c.sum(-1)
    return (support * _f1(c)).sum(-1) / support.sum(-1)


def macro_f1(c: np.ndarray) -> np.ndarray:
    """Unweighted mean of the per-class F1 over every class (``average="macro"``)."""
    return _f1(c).mean(-1)


def unweighted_accuracy(c: np.ndarray) -> np.ndarray:
    """UA: mean recall over every class (``recall_score(average="macro")``); absent classes count 0."""
    support = c.sum(-1)
    hits = np.diagonal(c, axis1=-2, axis2=-1)
    return np.divide(hits, support, out=np.zeros_like(hits, dtype=float), where=support > 0).mean(-1)


def accuracy(c: np.ndarray) -> np.ndarray:
    """WA: the share of utterances classified right."""
    return np.diagonal(c, axis1=-2, axis2=-1).sum(-1) / c.sum((-2, -1))


# The metrics of a classification row, in the order rows list them (the paper's first).
CLASSIFICATION = {"weighted_f1": weighted_f1, "accuracy": accuracy, "unweighted_accuracy": unweighted_accuracy,
                  "macro_f1": macro_f1}


def classification_metrics(c: np.ndarray) -> dict[str, float]:
    return {name: float(metric(c)) for name, metric in CLASSIFICATION.items()}


def bounds(metric: str) -> tuple[float, float]:
    """The values a row metric can take: a CCC (``mean_ccc``, ``valence_ccc``, ...) lies in
    [-1, 1], every classification metric here (F1s, accuracies, the interview-level ones) in [0, 1]."""
    return (-1.0, 1.0) if metric.endswith("ccc") else (0.0, 1.0)
