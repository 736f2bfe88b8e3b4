"""downstream/metrics.py against scikit-learn's own functions (an implementation this project did
not write), on splits with absent classes, and batched equal to one at a time."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, recall_score

from care_superb.downstream import metrics as m
from care_superb.downstream.concordance import ccc, from_moments


def draws(seed: int, k: int = 5, n: int = 40):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k - 1, n)  # class k-1 never true: absent from the split
    pred = np.where(rng.random(n) < 0.5, true, rng.integers(0, k, n))
    return true, pred


@pytest.mark.parametrize("seed", range(6))
def test_each_metric_is_scikit_learns_with_every_class_of_the_task(seed):
    k = 5
    true, pred = draws(seed, k)
    c = m.confusion(true, pred, k)
    labels = list(range(k))
    assert m.weighted_f1(c) == pytest.approx(f1_score(true, pred, labels=labels, average="weighted", zero_division=0))
    assert m.macro_f1(c) == pytest.approx(f1_score(true, pred, labels=labels, average="macro", zero_division=0))
    assert m.unweighted_accuracy(c) == pytest.approx(recall_score(true, pred, labels=labels, average="macro",
                                                                  zero_division=0))
    assert m.accuracy(c) == pytest.approx(accuracy_score(true, pred))
    for index in range(k):
        assert m.class_f1(c, index) == pytest.approx(f1_score(true, pred, labels=[index], average="macro",
                                                              zero_division=0))


def test_a_batch_of_confusions_gives_each_ones_metric():
    batch = np.stack([m.confusion(*draws(seed), 5) for seed in range(4)])
    for name, metric in m.CLASSIFICATION.items():
        assert metric(batch) == pytest.approx([metric(c) for c in batch]), name


def test_ccc_from_moments_is_the_one_formula_of_the_loss_and_the_metric():
    rng = np.random.default_rng(0)
    true = rng.normal(size=(50, 3))
    pred = 0.5 * true + rng.normal(size=(50, 3)) + 0.3
    by_torch = ccc(torch.tensor(pred), torch.tensor(true)).numpy()
    # Lin's definition, computed independently with numpy's population moments
    cov = ((pred - pred.mean(0)) * (true - true.mean(0))).mean(0)
    lin = 2 * cov / (pred.var(0) + true.var(0) + (pred.mean(0) - true.mean(0)) ** 2)
    np.testing.assert_allclose(by_torch, lin, rtol=1e-6)
    np.testing.assert_allclose(from_moments(cov, pred.var(0), true.var(0), pred.mean(0) - true.mean(0)), lin, rtol=1e-6)
