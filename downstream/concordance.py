"""Lin's concordance correlation coefficient (CCC), the one implementation used for both the
regression loss (``1 - CCC`` per attribute) and the reported metric.

    CCC = 2 cov(x, y) / (var(x) + var(y) + (mean(x) - mean(y))^2)

with population (1/n) moments, as Lin (1989) defines it. CCC is 1 for perfect agreement, 0 for a
constant prediction, -1 for a prediction mirrored about the mean; unlike Pearson's r it also
penalises a shift or a change of scale.

Degenerate inputs, as they are (tested, gradient included):
- fewer than two samples: CCC is undefined (every deviation from the mean is 0); ``ccc`` refuses
  them, and the task loaders never form a batch of one (``dataset.make_loader``'s ``min_batch``).
- a constant target (every sample of the batch rated the same): cov = 0 whatever the prediction,
  so CCC = 0 and its gradient is exactly zero: such a batch teaches the head nothing, not even
  to move its mean towards the target's. The same holds for a constant prediction of a constant
  target. ``EPS`` only keeps 0 / 0 (both constant, equal means) at 0 instead of NaN.
"""
from __future__ import annotations

import torch

EPS = 1e-8


def ccc(pred: torch.Tensor, true: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """CCC along ``dim`` (the samples); differentiable. ``pred`` and ``true`` share a shape, e.g.
    N x A for N samples of A attributes -> A values. Needs N >= 2."""
    if pred.shape != true.shape:
        raise ValueError(f"ccc needs equal shapes, got {tuple(pred.shape)} and {tuple(true.shape)}")
    if pred.shape[dim] < 2:
        raise ValueError(f"CCC is undefined for fewer than two samples (got {pred.shape[dim]} along dim {dim})")
    mean_p, mean_t = pred.mean(dim=dim, keepdim=True), true.mean(dim=dim, keepdim=True)
    dp, dt = pred - mean_p, true - mean_t
    return from_moments((dp * dt).mean(dim=dim), (dp * dp).mean(dim=dim), (dt * dt).mean(dim=dim),
                        (mean_p - mean_t).squeeze(dim))


def from_moments(covariance, var_pred, var_true, mean_difference):
    """CCC from population moments (tensors or arrays of one shape): what ``ccc`` computes, and
    what the leaderboard computes for a whole batch of resamples from summed moments."""
    return 2 * covariance / (var_pred + var_true + mean_difference ** 2 + EPS)
