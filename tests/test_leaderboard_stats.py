"""The leaderboard's statistics piece by piece: Holm, the family, the per-stratum expansion, clusters
shared by two columns of one corpus, and when a column is testable."""
from __future__ import annotations

import numpy as np
import pytest

from care_superb.downstream import metrics
from care_superb.leaderboard import stats
from care_superb.leaderboard.aggregate import Cell, Column, average_cell, build_cells
from care_superb.leaderboard.rows import find_row_files, load_rows
from care_superb.leaderboard.scoring import known_tasks
from care_superb.leaderboard.tables import describe_cell, family
from leaderboard_rows import labels, predict, write_row


def test_holm_adjusts_step_down_and_keeps_the_order():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4 x 0.005, 3 x 0.01, 2 x 0.03, max(0.06, 1 x 0.04)
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.4, 0.3]) == pytest.approx([0.6, 0.6]) and stats.holm([]) == []


def test_the_family_is_the_reference_against_each_other_else_every_pair():
    cells = [Cell(label, "k", None) for label in ("care", "hubert", "wavlm", "fbank")]
    pairs = lambda found: {(a.label, b.label) for a, b in found}  # noqa: E731
    assert pairs(family(cells, {"care"})) == {("care", "fbank"), ("care", "hubert"), ("care", "wavlm")}
    assert len(family(cells, set())) == 6
    assert len(family(cells, {c.label for c in cells})) == 6  # only references: nothing to set them against


def linear(influence, strata, values=None):
    influence = np.atleast_2d(np.asarray(influence, dtype=float))
    r, g = influence.shape
    return stats.Linear(tuple(range(r)), (), np.zeros(r) if values is None else np.asarray(values, float),
                        tuple(range(g)), influence, np.asarray(strata))


def test_the_expansion_is_per_stratum():
    """Five test sets of 2 speakers (EmoDB's grid) are five strata: each one's sum of squares is
    doubled (n / (n - 1) = 2), not multiplied by 10 / 9 as one pool of 10 clusters would be."""
    z = np.array([0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.3, -0.3, 0.0, 0.0])
    grid = linear(z, np.repeat(np.arange(5), 2)).estimate()
    pooled = linear(z, np.zeros(10, int)).estimate()
    assert grid.var_clusters == pytest.approx(2 * np.sum(z ** 2))
    assert pooled.var_clusters == pytest.approx(10 / 9 * np.sum(z ** 2))
    assert (grid.df, pooled.df) == (5, 9) and grid.conditional


def test_seed_variance_enters_and_the_seeds_own_luck_is_not_counted_twice():
    """Per-seed values 0.70, 0.74, 0.66 vary by more than the clusters' luck in each seed explains:
    the rest is a seed shift, added to the clusters' part (which already holds the luck / R)."""
    rng = np.random.default_rng(0)
    shared, luck = rng.normal(0, 0.002, 40), rng.normal(0, 0.001, (3, 40))
    luck -= luck.mean(1, keepdims=True)  # contributions sum to zero within each seed
    values = [0.70, 0.74, 0.66]
    est = linear(shared - shared.mean() + luck, np.zeros(40, int), values=values).estimate()
    f = 40 / 39
    z = (shared - shared.mean() + luck).mean(0)
    assert est.var_clusters == pytest.approx(f * np.sum(z ** 2))
    assert est.var_seed == pytest.approx((np.var(values, ddof=1) - f * np.sum(luck.var(0, ddof=1))) / 3)
    assert 2 < est.df < 2 + 39 and not est.conditional
    # seeds that differ by no more than their luck on the clusters: no seed shift
    calm = linear(luck, np.zeros(40, int), values=0.7 + luck.sum(1)).estimate()
    assert calm.var_seed == 0


def test_two_columns_of_one_corpus_share_their_clusters_in_the_average(tmp_path):
    """IEMOCAP-4's dialogues are IEMOCAP-6's: the same predictions in both columns make an Average
    that varies exactly as one column does (the dialogues drawn once), not 1/sqrt(2) as much."""
    y = labels(240, 4, seed=1)
    units = [f"Ses01_dia{i % 24:02d}" for i in range(240)]
    p = predict(y, 0.6, 4, seed=2)
    for task in ("iemocap4", "iemocap6"):
        write_row(tmp_path / task, task, "care", y, p, units=units, unit="dialogue", fold=1)
    rows = load_rows(find_row_files([tmp_path]), known_tasks())
    cells = build_cells(rows, [Column(t, t, t) for t in ("iemocap4", "iemocap6")])
    average = average_cell("care", "average", [cells[("care", "iemocap4")], cells[("care", "iemocap6")]])
    scorers = stats.Scorers()
    for c in (cells[("care", "iemocap4")], average):
        describe_cell(c, scorers)
    assert average.estimate.n_clusters == 24
    assert average.estimate.se == pytest.approx(cells[("care", "iemocap4")].estimate.se, rel=1e-9)


def test_a_column_is_testable_from_ten_clusters():
    assert stats.smallest_p(2) == 0.5 and stats.smallest_p(3) == 0.25
    assert not linear(np.zeros(9), np.zeros(9, int)).estimate().testable
    assert linear(np.zeros(10), np.zeros(10, int)).estimate().testable


def test_an_interval_on_two_seeds_stops_at_what_the_metric_can_be(tmp_path):
    """Two seeds far apart (DAIC-WOZ in the demo): Student's t on about one degree of freedom
    reaches past [0, 1]; the cell shows the interval cut to the metric's range, no further."""
    y = labels(240, 4, seed=1)
    units = [f"spk{i % 12}" for i in range(240)]
    for seed, accuracy in ((1, 0.97), (2, 0.3)):
        write_row(tmp_path / str(seed), "emodb", "care", y, predict(y, accuracy, 4, seed=seed), units=units,
                  unit="speaker", seed=seed)
    rows = load_rows(find_row_files([tmp_path]), known_tasks())
    cell = build_cells(rows, [Column("emodb", "emodb", "emodb")])[("care", "emodb")]
    describe_cell(cell, stats.Scorers())
    low, high = cell.estimate.interval()
    assert low < 0 and high > 1  # the t interval itself
    assert cell.ci == (0.0, 1.0)
    assert metrics.bounds("mean_ccc") == (-1.0, 1.0) and metrics.bounds("interview_weighted_f1") == (0.0, 1.0)
