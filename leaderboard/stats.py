"""Uncertainty over the test set: a bootstrap interval per cell and a paired test between two
upstreams, both with scipy and both on the cell's own aggregate (test sets, then seeds).

The unit resampled is the test set's *cluster*, never the single utterance: an utterance's errors
go with its speaker (EmoDB, RAVDESS, CaFE), dialogue (MELD, IEMOCAP), video (CMU-MOSI), scene
(MSP-IMPROV) or interview (DAIC-WOZ), as each prediction's ``unit`` says. Resampling utterances of
clustered errors understates the variance, more so the larger the clusters.

- Interval: expanded percentile cluster bootstrap (``scipy.stats.bootstrap``; ``expanded_level``),
  clusters resampled with replacement, independently per test set (stratified: IEMOCAP's five
  sessions are five test sets); rows that share a test set (seeds) share each resample. Percentile
  rather than BCa: BCa's jackknife costs one metric per unit, and F1 is not smooth enough for it to
  gain much; expanded because a plain percentile interval over ~30 clusters (IEMOCAP's dialogues
  per session, CMU-MOSI's test videos, DAIC-WOZ's interviews) covers ~93.6%, not 95%. With 2-3
  clusters per test set (EmoDB, RAVDESS, CaFE: test speakers) no bootstrap gives a 95% interval:
  the expanded level is then ~100% (the range of the resamples), and such cells are marked
  (``MIN_CLUSTERS``).
- Test: approximate randomisation (``scipy.stats.permutation_test``, ``permutation_type="samples"``):
  for each cluster of a test set, the two systems' outputs on all of its utterances are swapped
  with probability 1/2, the same swap in every seed's pair of rows on that test set (seeds share
  their test utterances, so their differences are correlated; swapping them independently would
  understate the null variance up to the number of seeds times), and the difference of the
  aggregates recomputed; two-sided. It assumes nothing about the metric's distribution and tests
  exactly "the two systems' outputs are exchangeable cluster by cluster" (Noreen 1989; Yeh 2000;
  Riezler & Maxwell 2005). Rows are paired by (fold, split, seed), utterances by key.
  ``tests/test_leaderboard_calibration.py`` measures both on simulated clustered tables.

Every random draw is seeded from the ``--seed`` and the names of what is drawn, never from the
order of the work.
"""
from __future__ import annotations

import math
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
MIN_CLUSTERS = 10  # per test set: with fewer, a percentile bootstrap interval is not a 95% interval


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


def test_set(row: Row) -> tuple:
    """The block a row's terms belong to: its test utterances (seeds of one test set share it)."""
    return row.task, tuple(sorted(row.keys))


def _layout(terms: list[Term]) -> tuple[list, list[int]]:
    blocks: list = []
    first: dict = {}
    for scorer, _, block in terms:
        if block not in blocks:
            blocks.append(block)
        seen = first.setdefault(block, scorer)
        if seen.clusters != scorer.clusters:
            raise LeaderboardError(f"rows on the same test utterances put them in different clusters: "
                                   f"{', '.join(seen.paths)} and {', '.join(scorer.paths)}; re-evaluate them "
                                   f"with one care-superb version")
    return blocks, [blocks.index(block) for _, _, block in terms]


def clusters_per_test_set(terms: list[Term]) -> list[int]:
    """How many clusters each test set of these terms has (what the resampling has to work with)."""
    blocks, where = _layout(terms)
    return [terms[where.index(i)][0].n_units for i in range(len(blocks))]


def expanded_level(clusters: list[int], confidence: float = CONFIDENCE) -> float:
    """The level of Hesterberg's expanded percentile interval (Hesterberg 2015, "What teachers should
    know about the bootstrap"): a percentile bootstrap over n clusters is as narrow as a z interval
    with the variance shrunk by (n - 1) / n, so it under-covers for small n (about 93.6% for a
    nominal 95% at 30 clusters). It is taken at the level whose normal quantile is
    sqrt(n / (n - 1)) * t_{df}: n the smallest test set's clusters, df the clusters less one per
    test set."""
    n, df = min(clusters), sum(c - 1 for c in clusters)
    z = math.sqrt(n / (n - 1)) * stats.t.ppf(0.5 + confidence / 2, df)
    return float(1 - 2 * stats.norm.sf(z))


def bootstrap_interval(terms: list[Term], n_resamples: int, rng: np.random.Generator) -> tuple[float, float] | None:
    """95% expanded percentile interval of sum(weight * metric) over resampled test sets (clusters
    resampled per test set); None if a test set has one cluster."""
    blocks, where = _layout(terms)
    sizes = [next(s.n_units for (s, _, b) in terms if b == block) for block in blocks]
    if min(sizes) < 2:
        return None

    def statistic(*samples, axis=-1):
        batched = [np.atleast_2d(s) for s in samples]
        total = sum(w * scorer(batched[i]) for (scorer, w, _), i in zip(terms, where))
        return total if np.ndim(samples[0]) > 1 else total[0]

    result = stats.bootstrap(tuple(np.arange(n) for n in sizes), statistic, n_resamples=n_resamples,
                             vectorized=True, paired=False, confidence_level=expanded_level(sizes), method="percentile",
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
    return [(scorers((row,), metric), w, test_set(row)) for row, metric, w in weights]
