"""CCC (one implementation, loss and metric) and the Regression objective."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from care_superb.downstream.concordance import ccc
from care_superb.downstream.dataset import make_loader
from care_superb.downstream.objectives import Regression


def lin_ccc(x, y) -> float:
    """Lin's CCC written independently: 2 r sx sy / (sx^2 + sy^2 + (mx - my)^2), population moments."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    r = np.corrcoef(x, y)[0, 1]
    sx, sy = np.sqrt(np.cov(x, bias=True)), np.sqrt(np.cov(y, bias=True))
    return 2 * r * sx * sy / (sx ** 2 + sy ** 2 + (x.mean() - y.mean()) ** 2)


def torch_ccc(x, y) -> float:
    return float(ccc(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)))


TRUE = np.array([1.2, 2.5, 3.1, 4.8, 2.2, 3.9, 1.7, 4.1])


def test_perfect_agreement_is_one():
    assert torch_ccc(TRUE, TRUE) == pytest.approx(1.0, abs=1e-7)


def test_constant_prediction_is_zero():
    assert torch_ccc(np.full_like(TRUE, 3.0), TRUE) == pytest.approx(0.0, abs=1e-9)
    assert torch_ccc(np.full_like(TRUE, TRUE.mean()), TRUE) == pytest.approx(0.0, abs=1e-9)


def test_mirrored_prediction_is_minus_one():
    mirrored = 2 * TRUE.mean() - TRUE
    assert torch_ccc(mirrored, TRUE) == pytest.approx(-1.0, abs=1e-7)


@pytest.mark.parametrize("a, b", [(1.0, 0.5), (2.0, 0.0), (0.5, -1.0), (-1.5, 3.0)])
def test_shifted_and_scaled_prediction_has_the_closed_form_value(a, b):
    """pred = a x + b: cov = a s^2, var = a^2 s^2, mean gap = (a - 1) m + b."""
    m, s2 = TRUE.mean(), TRUE.var()
    expected = 2 * a * s2 / (s2 + a * a * s2 + ((a - 1) * m + b) ** 2)
    assert torch_ccc(a * TRUE + b, TRUE) == pytest.approx(expected, rel=1e-6)
    assert torch_ccc(a * TRUE + b, TRUE) == pytest.approx(lin_ccc(a * TRUE + b, TRUE), rel=1e-6)


def test_agrees_with_lins_formula_on_random_data():
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.normal(3, 1, 50)
        y = 0.6 * x + rng.normal(0.3, 0.8, 50)
        assert torch_ccc(y, x) == pytest.approx(lin_ccc(y, x), rel=1e-6)


def test_per_attribute_along_the_sample_axis():
    rng = np.random.default_rng(1)
    true = rng.normal(size=(40, 3))
    pred = true * np.array([1.0, 0.5, -1.0]) + np.array([0.0, 0.2, 0.0])
    values = ccc(torch.tensor(pred), torch.tensor(true), dim=0)
    assert values.shape == (3,)
    assert values.tolist() == pytest.approx([lin_ccc(pred[:, i], true[:, i]) for i in range(3)], rel=1e-6)


def test_a_batch_of_one_is_refused_and_the_loaders_never_make_one():
    objective = Regression(["valence", "arousal", "dominance"])
    with pytest.raises(ValueError, match="undefined for fewer than two samples"):
        objective.loss(torch.tensor([[3.0, 2.0, 1.0]], requires_grad=True), torch.tensor([[1.0, 2.0, 3.0]]))
    assert objective.min_batch == 2
    # 65 utterances in batches of 32: the last one joins the batch before it, none is dropped.
    dataset = [(torch.zeros(1), [1.0, 2.0, 3.0], str(i)) for i in range(65)]
    for train in (True, False):
        loader = make_loader(dataset, 32, train, 0, objective.collate, objective.min_batch)
        sizes = [len(keys) for _, _, keys in loader]
        assert sizes == [32, 33] and len(loader) == 2
        assert sorted(int(k) for _, _, keys in loader for k in keys) == list(range(65))
    assert [len(k) for _, _, k in make_loader(dataset, 32, False, 0, objective.collate)] == [32, 32, 1]


def gradient(pred, true):
    pred = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    (1 - ccc(pred, torch.tensor(true, dtype=torch.float64))).sum().backward()
    return pred.grad


def test_the_gradient_where_ccc_is_degenerate_is_exactly_zero_and_finite():
    # A constant target: CCC is 0 whatever the prediction, and nothing moves the prediction.
    for pred in ([[1.0], [2.0], [4.0]], [[3.0], [3.0], [3.0]], [[5.0], [5.0], [5.0]]):
        grad = gradient(pred, [[2.0], [2.0], [2.0]])
        assert torch.isfinite(grad).all() and torch.equal(grad, torch.zeros_like(grad)), (pred, grad)
    # A constant prediction of a varying target does get a gradient (towards the target's shape).
    grad = gradient([[3.0], [3.0], [3.0]], [[1.0], [2.0], [4.0]])
    assert grad.abs().sum() > 0 and grad[0, 0] > 0 > grad[2, 0]  # lowering 1 - CCC: raise the high one
    # The check above is not blind: an ordinary batch has a non-zero gradient.
    assert gradient([[1.0], [2.5], [2.0]], [[1.0], [2.0], [4.0]]).abs().sum() > 0


def test_objective_interface_and_metrics():
    objective = Regression(["valence", "arousal", "dominance"])
    assert objective.output_dim == 3 and objective.selection == "mean_ccc"
    assert objective.accepts((3.0, 2.5, 4.0)) and not objective.accepts((3.0, 2.5))
    assert not objective.accepts((3.0, float("nan"), 4.0)) and not objective.accepts("happy")
    batch = objective.collate([objective.target((1, 2, 3)), objective.target((2.0, 3.0, 4.0))])
    assert batch.dtype == torch.float32 and batch.shape == (2, 3)
    true = [[1.0, 5.0, 2.0], [2.0, 4.0, 3.0], [3.0, 3.0, 5.0], [4.0, 1.0, 4.0]]
    pred = [[1.0, 4.0, 2.0], [2.0, 4.0, 3.0], [3.0, 4.0, 3.0], [4.0, 4.0, 2.0]]
    metrics = objective.metrics(true, pred, keys=["a", "b", "c", "d"])
    assert metrics["valence_ccc"] == pytest.approx(1.0, abs=1e-7)
    assert metrics["arousal_ccc"] == pytest.approx(0.0, abs=1e-9)
    assert metrics["dominance_ccc"] == pytest.approx(lin_ccc([2, 3, 3, 2], [2, 3, 5, 4]), rel=1e-6)
    assert metrics["mean_ccc"] == pytest.approx(np.mean([metrics[f"{a}_ccc"] for a in objective.attributes]))
    assert objective.describe([1.23456, 2, 3]) == {"valence": 1.2346, "arousal": 2.0, "dominance": 3.0}


def test_the_loss_is_differentiable_and_training_on_it_raises_ccc():
    """A linear model trained only on sum(1 - CCC) learns three attributes of a toy problem."""
    torch.manual_seed(0)
    objective = Regression(["valence", "arousal", "dominance"])
    x = torch.randn(256, 8)
    mixing = torch.randn(8, 3)
    y = 3.0 + x @ mixing * 0.7 + 0.1 * torch.randn(256, 3)
    model = torch.nn.Linear(8, 3)
    before = objective.metrics(y.tolist(), model(x).detach().tolist())["mean_ccc"]
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    for step in range(200):
        batch = torch.randint(0, 256, (32,))
        loss = objective.loss(model(x[batch]), y[batch])
        optimiser.zero_grad()
        loss.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
        optimiser.step()
    after = objective.metrics(y.tolist(), model(x).detach().tolist())
    assert after["mean_ccc"] > 0.95 and after["mean_ccc"] > before + 0.3, (before, after)
    assert objective.loss(model(x), y).item() == pytest.approx(3 - sum(after[f"{a}_ccc"] for a in objective.attributes), abs=1e-3)
