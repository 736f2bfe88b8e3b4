"""Uncertainty of a cell and of the difference between two upstreams, over both sources of variance:
the training seed (which head a run trains) and the test set's clusters (which speakers, dialogues,
videos, scenes or interviews were recorded).

The model (a mixed model with seed and cluster as crossed random effects, estimated by moments).
A cell's value is the mean over its seeds of the per-seed value M_s (the mean over the seed's test
sets: folds, split seeds). Each row's metric is linearised over the clusters of its test set by the
leave-one-cluster-out jackknife: J[s, g], cluster g's contribution to M_s, sums to zero within each
test set. Then, with R seeds,

    M_s = mu + a_s + sum_g (b_g + c_sg)
    Var(mean of M_s) = var(a) / R + sum_g var(b_g) + sum_g var(c_g) / R

a_s: what a different head initialisation and batch order does to the whole test set (a seed
shift); b_g: how hard cluster g is for this upstream in every seed; c_sg: the seed's own luck on g.
Estimated by moments (ANOVA style), in two parts that are never negative:

- clusters: sum_g f_h * z_g^2, z_g the seed mean of J[., g], holds sum var(b) + sum var(c) / R;
  f_h = n_h / (n_h - 1) per stratum h of n_h clusters (Hesterberg's expansion, per stratum: a test set
  of 2 speakers needs f = 2, one of 30 dialogues 1.03); df sum(n_h - 1);
- seeds: var(a), the variance of M_s across seeds less sum_g f_h S_g^2 (S_g^2: J[., g]'s variance
  across seeds, the seeds' own luck, already in the clusters' part), over R, floored at 0; its df
  by Satterthwaite (R - 1 when the luck is negligible, fewer when it is most of the spread); a
  cell's interval uses its own seeds, a comparison the column's pooled (``tables.compare_family``);
- the two combined with Satterthwaite's degrees of freedom; intervals and tests use Student's t.

Why this and not a resampling: with R seeds no resampling of seeds can do better than the R values
it has (3 seeds: 10 distinct bootstrap samples, a randomisation test's smallest p over 3 + 3 seeds is
0.1), so any honest use of 3 seeds needs a t reference with R - 1 degrees of freedom; the clusters
enter the same estimate, which makes every p-value analytic (no Monte-Carlo floor that a
multiplicity correction could not get under). ``tests/test_leaderboard_calibration.py`` measures it.

Clusters are identified by their corpus and name, strata are test sets that share no cluster: the
same speaker drawn into the test sets of two split seeds, and IEMOCAP-4's dialogues (a subset of
IEMOCAP-6's) in the Average, are one cluster, drawn once. With one seed per cell the seed part
cannot be estimated: the interval is then conditional on that one trained head (said so) and no
comparison is tested. With fewer than ``MIN_CLUSTERS`` clusters (EmoDB's and CaFE's 2 test speakers,
RAVDESS-Song's 3) nothing is tested and no interval is shown: the cell shows the range of its
per-cluster scores instead (``downstream/splits.py``'s test grid puts every speaker in a test set).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from care_superb.leaderboard.aggregate import sort_seeds
from care_superb.leaderboard.rows import LeaderboardError, Row
from care_superb.leaderboard.scoring import Scorer

CONFIDENCE = 0.95
ALPHA = 0.05
MATCH_TOLERANCE = 1e-6
# Fewer clusters than this in a cell's test sets: no interval, no test. An exact randomisation over G
# clusters cannot give p below 2^(1 - G) (2 speakers: 0.5, 3: 0.25), and a t reference on the
# variance of fewer than ~10 clusters rests on a handful of numbers.
MIN_CLUSTERS = 10


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


def smallest_p(n_clusters: int) -> float:
    """The smallest two-sided p an exact randomisation over ``n_clusters`` clusters can give."""
    return 2.0 ** (1 - n_clusters)


def test_set(row: Row) -> tuple:
    """Which test set of its task a row is on (rows of several seeds share it)."""
    return row.task, row.fold, row.split_seed


def cluster_ids(row: Row) -> list[tuple]:
    """Each utterance's cluster, named by its corpus, so that two tasks on one corpus (IEMOCAP-4 and
    IEMOCAP-6) and two split seeds drawing one speaker share it."""
    from care_superb.downstream.registry import TASKS

    corpus = getattr(TASKS[row.task].corpus, "__name__", row.task) if row.task in TASKS else row.task
    return [(corpus, unit) for unit in row.units]


def jackknife(scorer: Scorer) -> np.ndarray:
    """Each cluster's contribution to the metric (linearised by the leave-one-cluster-out jackknife,
    the pseudo-values less their mean, over the number of clusters): they sum to zero, and
    f * sum(contribution^2) with f = C / (C - 1) is the jackknife variance."""
    c = scorer.n_units
    if c < 2:
        return np.zeros(c)
    units = np.array([[u for u in range(c) if u != left] for left in range(c)])
    left_out = scorer(units)
    return (c - 1) * (left_out.mean() - left_out) / c


@dataclass(frozen=True)
class Estimate:
    mean: float
    var_seed: float  # the seed part of the variance of the mean (0 with one seed)
    var_clusters: float  # the cluster part
    df: float
    n_seeds: int
    n_clusters: int  # distinct clusters in the test sets

    @property
    def se(self) -> float:
        return math.sqrt(self.var_seed + self.var_clusters)

    @property
    def conditional(self) -> bool:
        """One seed: the variance is over the test set only, conditional on one trained head."""
        return self.n_seeds < 2

    @property
    def testable(self) -> bool:
        return self.n_clusters >= MIN_CLUSTERS and self.df > 0

    def interval(self, confidence: float = CONFIDENCE) -> tuple[float, float]:
        half = stats.t.ppf(0.5 + confidence / 2, self.df) * self.se
        return self.mean - half, self.mean + half

    def p_value(self) -> float:
        """Two-sided, of mean = 0 (for a difference of two upstreams)."""
        if self.se == 0:
            return 1.0 if self.mean == 0 else 0.0
        return float(2 * stats.t.sf(abs(self.mean) / self.se, self.df))


@dataclass(frozen=True)
class Linear:
    """A cell (or a difference of two cells) linearised: its value per seed and each cluster's
    contribution per seed. Two cells compared must hold the same seeds, test sets and clusters."""
    seeds: tuple
    test_sets: tuple  # the test sets every seed averages
    values: np.ndarray  # R: the statistic per seed
    clusters: tuple  # G cluster ids
    influence: np.ndarray  # R x G
    strata: np.ndarray  # G: stratum of each cluster

    def __sub__(self, other: "Linear") -> "Linear":
        reason = self.unlike(other)
        if reason:
            raise LeaderboardError(reason)
        return Linear(self.seeds, self.test_sets, self.values - other.values, self.clusters,
                      self.influence - other.influence, self.strata)

    def unlike(self, other: "Linear") -> str:
        """Why the two cannot be compared ("" when they can)."""
        if self.seeds != other.seeds:
            return f"different training seeds ({', '.join(map(str, self.seeds))} vs {', '.join(map(str, other.seeds))})"
        if self.test_sets != other.test_sets:
            return "different test sets (folds or split seeds)"
        if self.clusters != other.clusters:
            return "different clusters in the same test sets"
        return ""

    def _expansion(self) -> tuple[np.ndarray, float]:
        """Per cluster its stratum's n / (n - 1) (0 in a stratum of one), and the clusters' df."""
        sizes = np.bincount(self.strata) if len(self.strata) else np.zeros(0, int)
        expansion = np.where(sizes > 1, sizes / np.maximum(sizes - 1, 1), 0.0)[self.strata]
        return expansion, float(np.sum(np.maximum(sizes - 1, 0)))

    def seed_shift(self) -> tuple[float, float, float]:
        """var(a), what a seed does to the whole test set: the variance of the per-seed values across
        seeds less what the seeds' own luck on each cluster explains; with the variance of that
        estimate (Satterthwaite: the spread has R - 1 df, the luck R - 1 per cluster), and the
        weight it pools with (R - 1). (0, 0, 0) with one seed."""
        r = len(self.seeds)
        if r < 2:
            return 0.0, 0.0, 0.0
        expansion, _ = self._expansion()
        spread = float(self.values.var(ddof=1))
        per_cluster = expansion * self.influence.var(0, ddof=1)
        noise = 2 * spread ** 2 / (r - 1) + 2 * float(np.sum(per_cluster ** 2)) / (r - 1)
        return spread - float(per_cluster.sum()), noise, float(r - 1)

    def estimate(self, seed_shift: tuple[float, float] | None = None) -> Estimate:
        """``seed_shift``: (var(a), the variance of that estimate) from elsewhere (pooled over the
        column's upstreams, ``tables.compare_family``); default: from this cell's own seeds."""
        r = len(self.seeds)
        expansion, df_clusters = self._expansion()
        mean = float(self.values.mean())
        # The clusters' part, seed-averaged: sum var(b) + sum var(c) / R, one positive sum of squares.
        cluster_part = float(np.sum(expansion * self.influence.mean(0) ** 2))
        if r < 2:  # conditional on the one head
            return Estimate(mean, 0.0, cluster_part, df_clusters, r, len(self.clusters))
        shift, shift_noise = seed_shift or self.seed_shift()[:2]
        seed_part = max(shift, 0.0) / r
        # Satterthwaite: each part's variance over its estimate's; the seed part's df is
        # 2 shift^2 / noise (R - 1 when the clusters' luck is negligible, fewer when it is not)
        noise = (cluster_part ** 2 / df_clusters if df_clusters else 0.0) + (
            seed_part ** 2 * shift_noise / (2 * shift ** 2) if seed_part > 0 else 0.0)
        df = (seed_part + cluster_part) ** 2 / noise if noise > 0 else float(r - 1)
        return Estimate(mean, seed_part, cluster_part, df, r, len(self.clusters))


def linearise(weights: list[tuple[Row, str, float]], scorers: Scorers) -> Linear:
    """A cell from its (row, metric, weight) terms (``Cell.weights()``: the weights sum to 1, each seed
    the same share): per seed the weighted sum of its rows' metrics, per cluster the weighted sum of
    its jackknife contributions."""
    seeds = sort_seeds({row.seed for row, _, _ in weights})
    share = {s: sum(w for row, _, w in weights if row.seed == s) for s in seeds}
    ids, sets_of = {}, {}
    parts = []
    for row, metric, w in weights:
        scorer = scorers((row,), metric)
        names = cluster_ids(row)
        per_unit = {names[scorer.members[i][0]]: value for i, value in enumerate(jackknife(scorer))}
        for name in per_unit:
            ids.setdefault(name, len(ids))
        sets_of.setdefault(test_set(row), set()).update(per_unit)
        # the row's own metric: ``Scorers`` checked it against the recomputed one
        parts.append((row.seed, w / share[row.seed], row.data["metrics"][metric], per_unit))
    values = np.zeros(len(seeds))
    influence = np.zeros((len(seeds), len(ids)))
    for seed, w, observed, per_unit in parts:
        s = seeds.index(seed)
        values[s] += w * observed
        for name, value in per_unit.items():
            influence[s, ids[name]] += w * value
    order = sorted(ids, key=str)
    influence = influence[:, [ids[name] for name in order]]
    tested = {tuple(sorted((test_set(r) for r, _, _ in weights if r.seed == s), key=str)) for s in seeds}
    if len(tested) > 1:
        raise LeaderboardError(f"the seeds of one cell are on different test sets: {sorted(tested, key=str)}")
    return Linear(tuple(seeds), tested.pop() if tested else (), values, tuple(order), influence,
                  strata(order, list(sets_of.values())))


def strata(clusters: list, test_sets: list[set]) -> np.ndarray:
    """Each cluster's stratum: test sets that share a cluster are one stratum (union-find)."""
    parent = list(range(len(test_sets)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    home: dict = {}
    for i, members in enumerate(test_sets):
        for name in members:
            if name in home:
                parent[root(i)] = root(home[name])
            else:
                home[name] = i
    roots = sorted({root(i) for i in range(len(test_sets))})
    return np.array([roots.index(root(home[name])) for name in clusters], dtype=int)


def per_cluster_range(weights: list[tuple[Row, str, float]], scorers: Scorers) -> tuple[float, float] | None:
    """The lowest and highest score of a single cluster (each cluster's own metric, averaged over the
    rows that have it): what a cell with too few clusters for an interval shows instead."""
    totals: dict = {}
    for row, metric, w in weights:
        scorer = scorers((row,), metric)
        names = cluster_ids(row)
        values = scorer(np.arange(scorer.n_units)[:, None])
        for i, value in enumerate(values):
            name = names[scorer.members[i][0]]
            total, weight = totals.get(name, (0.0, 0.0))
            totals[name] = (total + w * value, weight + w)
    means = [total / weight for total, weight in totals.values() if weight > 0]
    return (min(means), max(means)) if means else None


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error at most alpha under any dependence);
    scipy has only the false-discovery-rate adjustment."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted.tolist()
