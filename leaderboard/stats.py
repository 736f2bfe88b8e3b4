"""Uncertainty over test utterances: a bootstrap interval per cell and a paired test between two
upstreams, both with scipy and both on the cell's own aggregate (folds, then seeds).

- Interval: percentile bootstrap (``scipy.stats.bootstrap``), test units resampled with
  replacement, independently per test set (stratified: IEMOCAP's five sessions are five test
  sets); rows that share a test set (seeds) share each resample. Percentile rather than BCa: BCa's
  jackknife costs one metric per test unit, and F1 is not smooth enough for it to gain much.
- Test: approximate randomisation (``scipy.stats.permutation_test``, ``permutation_type="samples"``):
  for each test unit of each paired row, the two systems' outputs are swapped with probability 1/2
  and the difference of the aggregates recomputed; two-sided. It assumes nothing about the
  metric's distribution and tests exactly "the two systems' outputs are exchangeable", which is
  why it is the usual choice for non-additive metrics such as F1 (Noreen 1989; Yeh 2000; Riezler
  & Maxwell 2005). Rows are paired by (fold, split, seed), utterances by key.

Units are utterances, or the recording for objectives that score recordings (DAIC-WOZ interviews),
so that a resample never splits what the metric groups. Every random draw is seeded from the
``--seed`` and the names of what is drawn, never from the order of the work.
"""
from __future__ import annotations

import zlib
from typing import Callable

import numpy as np
from scipy import stats

from care_superb.leaderboard.rows import LeaderboardError, Row
from care_superb.leaderboard.scoring import Scorer

CONFIDENCE = 0.95
ALPHA = 0.05
BATCH = 200  # resamples scored at once (memory: batch x test units x systems)
MATCH_TOLERANCE = 1e-6


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """A generator determined by the seed and the names only (stable across runs and orderings)."""
    return np.random.default_rng([seed, zlib.crc32("|".join(map(str, names)).encode())])


class Scorers:
    """One Scorer per (rows, metric), built once; each row's recomputed metric is checked against it."""

    def __init__(self):
        self._made: dict[tuple, Scorer] = {}

    def __call__(self, rows: tuple[Row, ...], metric: str) -> Scorer:
        key = (tuple(str(r.path) for r in rows), metric)
        if key not in self._made:
            scorer = Scorer(list(rows), metric)
            for system, row in enumerate(rows):
                check_recomputed(row, metric, scorer.observed(system))
            self._made[key] = scorer
        return self._made[key]


def check_recomputed(row: Row, metric: str, value: float) -> None:
    stated = row.data["metrics"].get(metric)
    if stated is None or abs(stated - value) > MATCH_TOLERANCE:
        raise LeaderboardError(
            f"{row.path}: its predictions file gives {metric} = {value!r}, the row says {stated!r}; the two files do "
            f"not belong together (re-run `python run_downstream.py -m evaluate -e <expdir>/dev-best.ckpt`)")


Term = tuple[Scorer, float, object]  # (scorer, weight, block): terms of one block share its units


def _layout(terms: list[Term]) -> tuple[list, list[int]]:
    blocks: list = []
    for _, _, block in terms:
        if block not in blocks:
            blocks.append(block)
    return blocks, [blocks.index(block) for _, _, block in terms]


def bootstrap_interval(terms: list[Term], n_resamples: int, rng: np.random.Generator) -> tuple[float, float] | None:
    """Percentile interval of sum(weight * metric) over resampled test sets; None if a test set has one unit."""
    blocks, where = _layout(terms)
    sizes = [next(s.n_units for (s, _, b) in terms if b == block) for block in blocks]
    if min(sizes) < 2:
        return None

    def statistic(*samples, axis=-1):
        batched = [np.atleast_2d(s) for s in samples]
        total = sum(w * scorer(batched[i]) for (scorer, w, _), i in zip(terms, where))
        return total if np.ndim(samples[0]) > 1 else total[0]

    result = stats.bootstrap(tuple(np.arange(n) for n in sizes), statistic, n_resamples=n_resamples,
                             vectorized=True, paired=False, confidence_level=CONFIDENCE, method="percentile",
                             batch=BATCH, rng=rng)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_test(terms: list[Term], n_resamples: int, rng: np.random.Generator) -> tuple[float, float]:
    """Two-sided approximate-randomisation p-value of sum(weight * (metric(A) - metric(B))) and its
    observed value; each term's scorer holds A's (system 0) and B's (system 1) outputs."""
    blocks, where = _layout(terms)
    sizes = [next(s.n_units for (s, _, b) in terms if b == block) for block in blocks]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    total = int(offsets[-1])

    def statistic(x, y, axis=-1):
        source = (np.atleast_2d(x) >= total).astype(np.int64)  # 1 where x holds B's output of that unit
        diff = 0.0
        for (scorer, w, _), i in zip(terms, where):
            swapped = source[:, offsets[i]:offsets[i + 1]]
            units = np.broadcast_to(np.arange(sizes[i]), swapped.shape)
            diff = diff + w * (scorer(units, swapped) - scorer(units, 1 - swapped))
        return diff if np.ndim(x) > 1 else diff[0]

    x = np.arange(total)
    result = stats.permutation_test((x, x + total), statistic, permutation_type="samples", vectorized=True,
                                    n_resamples=n_resamples, alternative="two-sided", batch=BATCH, rng=rng)
    return float(result.pvalue), float(result.statistic)


def cell_terms(weights: list[tuple[Row, str, float]], scorers: Callable) -> list[Term]:
    """Bootstrap terms of a cell: rows on the same test utterances share a block."""
    return [(scorers((row,), metric), w, tuple(sorted(row.keys))) for row, metric, w in weights]
