"""Do the leaderboard's marks and intervals hold under the null? Measured on simulated columns.

A simulated column: K upstreams, each trained with R seeds, on one test set of clusters (speakers,
dialogues) whose utterances share errors. Sources of variance, all of them in the leaderboard's
statistics (``stats.py``) and here:

- a cluster is harder or easier for everyone (``SD_CLUSTER``) and each upstream has its own luck
  per cluster (``SD_SYSTEM``): clustered errors, so the upstreams' differences are clustered too;
- a training seed shifts the whole test set for that (upstream, seed) (``spread``: the standard
  deviation of the shift in WF1 points; real runs of this harness show 4 to 14), what another head
  initialisation and batch order does;
- each seed draws each utterance's outcome anew from the upstream's per-utterance probability.

Equal upstreams have the same expected accuracy, which (balanced binary classes, errors independent
of the class) is their expected weighted F1 too, computed once from a large draw. A column is tested
as a table does: its pre-declared family (the first upstream, the reference, against each other one;
or all pairs) with Holm's correction (``tables.compare_family``).

Calibrated means: the family-wise false-positive rate per column at most ALPHA (plus Monte-Carlo
error), 95% intervals covering the true value at least 93% of the time, and a real difference of 10
points found in at least 80% of comparisons (at a seed spread of 4 points with the seeds that takes,
``SEEDS_NEEDED``). The statistics before issue 27 fail the first, and at a spread of 4 the second
(``tools/leaderboard_calibration.py --before f4f8347``, the commit before issue 27, on these same
columns: family-wise error 0.37 and 0.73 at seed spreads of 2 and 4, coverage 0.94 and 0.89).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from care_superb.downstream.registry import TASKS
from care_superb.leaderboard import stats, tables
from care_superb.leaderboard.aggregate import Cell, Column, build_cells
from care_superb.leaderboard.rows import Row
from care_superb.leaderboard.tables import describe_cell, compare_family

TASK = "cmu_mosi"  # two classes
CLUSTERS, MEAN_SIZE, SEEDS, UPSTREAMS = 40, 15, 3, 5
LOGIT, SD_CLUSTER, SD_SYSTEM, SD_UTTERANCE = math.log(0.7 / 0.3), 1.0, 0.5, 0.5
DRAW = 2_000_000  # the large draw of the true scores


def logistic(z):
    return 1 / (1 + np.exp(-z))


@lru_cache(maxsize=None)
def slope() -> float:
    """d accuracy / d logit, averaged over utterances: turns a seed spread in points into logits."""
    rng = np.random.default_rng(11)
    z = LOGIT + rng.normal(0, math.hypot(SD_CLUSTER, SD_SYSTEM, SD_UTTERANCE), DRAW)
    return float(np.mean(logistic(z) * (1 - logistic(z))))


def seed_sd(spread: float) -> float:
    """The seed shift in logits whose standard deviation in WF1 is ``spread`` points."""
    return spread / 100 / slope()


@lru_cache(maxsize=None)
def true_score(spread: float, lift: float = 0.0) -> float:
    rng = np.random.default_rng(12)
    sd = math.sqrt(SD_CLUSTER ** 2 + SD_SYSTEM ** 2 + SD_UTTERANCE ** 2 + seed_sd(spread) ** 2)
    return float(np.mean(logistic(LOGIT + lift + rng.normal(0, sd, DRAW))))


@lru_cache(maxsize=None)
def lift_for(points: float, spread: float) -> float:
    """The logit shift that makes an upstream ``points`` better in expected WF1 (bisection)."""
    low, high = 0.0, 3.0
    for _ in range(24):
        mid = (low + high) / 2
        low, high = (mid, high) if true_score(spread, mid) - true_score(spread) < points / 100 else (low, mid)
    return (low + high) / 2


def simulate(rng: np.random.Generator, spread: float, lifts: list[float], seeds: int = SEEDS):
    """One column's outcomes: cluster of each utterance, targets, and per (upstream, seed) whether
    each utterance is right; an upstream per entry of ``lifts`` (its logit shift)."""
    sizes = MEAN_SIZE // 3 + rng.poisson(MEAN_SIZE - MEAN_SIZE // 3, CLUSTERS)
    cluster = np.repeat(np.arange(CLUSTERS), sizes)
    n = len(cluster)
    targets = rng.integers(0, 2, n)
    shared = rng.normal(0, SD_CLUSTER, CLUSTERS)[cluster] + rng.normal(0, SD_UTTERANCE, n)
    z = LOGIT + np.asarray(lifts)[:, None] + shared + rng.normal(0, SD_SYSTEM, (len(lifts), CLUSTERS))[:, cluster]
    shifts = rng.normal(0, seed_sd(spread), (len(lifts), seeds, 1))
    right = rng.random((len(lifts), seeds, n)) < logistic(z[:, None, :] + shifts)
    return cluster, targets, right


def simulated_rows(rng: np.random.Generator, spread: float, lifts: list[float], seeds: int = SEEDS) -> list[Row]:
    """The column as result rows (weighted F1 stated by the task's own objective)."""
    cluster, targets, right = simulate(rng, spread, lifts, seeds)
    keys = [f"c{c:02d}/u{i:04d}" for i, c in enumerate(cluster)]
    units = [f"c{c:02d}" for c in cluster]
    objective = TASKS[TASK].objective()
    rows = []
    for u in range(len(lifts)):
        name = f"u{u}"
        for seed in range(seeds):
            outputs = np.where(right[u, seed], targets, 1 - targets).tolist()
            metrics = objective.metrics(true=targets.tolist(), pred=outputs)
            data = {"task": TASK, "metrics": metrics, "primary_metric": "weighted_f1", "seed": seed,
                    "protocol": {"split_seed": 0}, "upstream": {"name": name}, "benchmark": {"label": name},
                    "resampling": {"unit": "speaker"}}
            rows.append(Row(Path(f"/sim/{name}/seed{seed}"), data, keys, targets.tolist(), outputs, units))
    return rows


class Accuracy:
    """A Scorer's interface (``n_units``, a batch of resamples -> scores) for accuracy from per-cluster
    counts: the fast tier's metric (here equal to the expected weighted F1), ~1000 times faster than
    scikit-learn's per call."""

    def __init__(self, cluster: np.ndarray, right: np.ndarray):
        self.n_units = int(cluster.max()) + 1
        self.right = np.bincount(cluster, weights=right, minlength=self.n_units)
        self.total = np.bincount(cluster, minlength=self.n_units).astype(float)

    def __call__(self, units: np.ndarray) -> np.ndarray:
        return self.right[units].sum(1) / self.total[units].sum(1)


def fast_column(rng: np.random.Generator, spread: float, lifts: list[float], reference: bool, seeds: int = SEEDS):
    """The column's cells (``stats.Linear`` from each seed's accuracy and its jackknife) and its family
    tested (``tables.compare_family``), without rows: the fast tier."""
    cluster, _, right = simulate(rng, spread, lifts, seeds)
    names = tuple(("sim", c) for c in range(CLUSTERS))
    cells = []
    for u in range(len(lifts)):
        scorers = [Accuracy(cluster, right[u, s]) for s in range(seeds)]
        linear = stats.Linear(tuple(range(seeds)), ((TASK, None, 0),),
                              np.array([right[u, s].mean() for s in range(seeds)]), names,
                              np.array([stats.jackknife(scorer) for scorer in scorers]), np.zeros(CLUSTERS, int))
        cell = Cell(f"u{u}", TASK, "accuracy", linear=linear, estimate=linear.estimate())
        cell.ci = cell.estimate.interval()
        cells.append(cell)
    return cells, compare_family(cells, {"u0"} if reference else set())


def column(rows: list[Row], reference: bool):
    """The column's cells described and its family tested, as ``tables.compute_statistics`` does."""
    cells = build_cells(rows, [Column(TASK, TASK, "CMU-MOSI")])
    scorers = stats.Scorers()
    present = [cells[(f"u{u}", TASK)] for u in range(len({r.label for r in rows}))]
    for cell in present:
        describe_cell(cell, scorers)
    return present, compare_family(present, {"u0"} if reference else set())


def calibration(n_columns: int, spread: float, points: float = 0.0, reference: bool = True, seed: int = 0,
                upstreams: int = UPSTREAMS, seeds: int = SEEDS, rows: bool = False) -> dict[str, float]:
    """Over ``n_columns`` simulated columns: how often the family marks anything, how often each 95%
    interval covers its upstream's true score, and (``points`` > 0: the first upstream that much
    better) how often it is found significantly better than each other one, and than all of them.
    ``rows``: through result rows and their recomputed weighted F1 (slow), else ``fast_column``."""
    rng = np.random.default_rng(seed)
    lift = lift_for(points, spread) if points else 0.0
    truths = [true_score(spread, lift)] + [true_score(spread)] * (upstreams - 1)
    any_mark = covered = intervals = found = found_each = 0
    for _ in range(n_columns):
        lifts = [lift] + [0.0] * (upstreams - 1)
        cells, comparisons = (column(simulated_rows(rng, spread, lifts, seeds), reference) if rows
                              else fast_column(rng, spread, lifts, reference, seeds))
        any_mark += any(c.significant for c in comparisons)
        mine = [c for c in comparisons if "u0" in (c.a, c.b)]
        found += bool(mine) and all(c.winner == "u0" for c in mine)
        found_each += sum(c.winner == "u0" for c in mine) / max(len(mine), 1)
        for cell, truth in zip(cells, truths):
            covered += cell.ci[0] <= truth <= cell.ci[1]
            intervals += 1
    return {"family_wise": any_mark / n_columns, "coverage": covered / intervals, "found": found_each / n_columns,
            "found_all": found / n_columns}


def monte_carlo(p: float, n: int) -> float:
    return 2 * math.sqrt(p * (1 - p) / n)


# Seeds a 10-point difference needs per seed spread (measured with tools/leaderboard_calibration.py):
# at a spread of 4 points 3 seeds find it in 54% of comparisons (the seed part alone puts a 10-point
# difference at z = 3.1, and Holm's first step over 4 comparisons needs more), 5 in 74%, 8 in 88%.
SEEDS_NEEDED = {2.0: 3, 4.0: 8}


@pytest.mark.parametrize("spread", [2.0, 4.0])
@pytest.mark.parametrize("reference", [True, False], ids=["care-vs-each", "all-pairs"])
def test_equal_upstreams_are_marked_at_most_alpha_of_the_time_and_intervals_cover(spread, reference):
    n = 400
    got = calibration(n, spread, reference=reference, seed=int(spread))
    assert got["family_wise"] <= stats.ALPHA + monte_carlo(stats.ALPHA, n), got
    assert got["coverage"] >= 0.93, got


@pytest.mark.parametrize("spread", [2.0, 4.0])
def test_a_real_ten_point_difference_is_found(spread):
    got = calibration(200, spread, points=10.0, seed=10 + int(spread), seeds=SEEDS_NEEDED[spread])
    assert got["found"] >= 0.8, got


def test_a_cells_own_seeds_alone_fail_the_calibration(monkeypatch):
    """What shows that the test can fail: each comparison's seed variance from its two cells' own 3
    seeds (2 df each, Satterthwaite's df taken at face value) instead of pooled over the column."""
    monkeypatch.setattr(tables, "pooled_seed_shift", lambda cells: None)
    got = calibration(400, 4.0, reference=False, seed=4)
    assert got["family_wise"] > stats.ALPHA + monte_carlo(stats.ALPHA, 400), got


@pytest.mark.slow
@pytest.mark.parametrize("spread", [2.0, 4.0])
def test_through_result_rows_and_weighted_f1_too(spread):
    """The same columns as result rows, every metric recomputed from the predictions by the task's
    objective (weighted F1) and linearised by the leaderboard's own jackknife: calibrated too, and
    marking what the fast tier marks on the same outcomes."""
    n = 150
    got = calibration(n, spread, reference=False, seed=20 + int(spread), rows=True)
    fast = calibration(n, spread, reference=False, seed=20 + int(spread))
    assert got["family_wise"] <= stats.ALPHA + monte_carlo(stats.ALPHA, n), got
    assert got["coverage"] >= 0.93, got
    assert abs(got["family_wise"] - fast["family_wise"]) <= 2 / n, (got, fast)
