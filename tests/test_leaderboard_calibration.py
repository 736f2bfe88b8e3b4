"""Are the leaderboard's intervals and paired test calibrated? Measured on simulated tables.

Each simulated test set has clusters (speakers, dialogues) whose utterances share errors: a
cluster is harder or easier for everyone (``SD_CLUSTER``), and each system has its own luck per
cluster (``SD_SYSTEM``), so the two systems' differences are clustered too. Each system is
trained with several seeds on the same test set; a seed draws each utterance's outcome anew from
the system's per-utterance probability. Both systems have the same expected accuracy, which
(with balanced binary classes and errors independent of the class) is their expected weighted F1
too, computed once from a large draw.

Calibrated means: the paired test rejects equal systems at most ``ALPHA`` of the time (plus
Monte-Carlo error), and the 95% intervals cover the true value at least 93% of the time. The
same tables with each utterance its own cluster (what rows said before schema version 3) must
fail both: that is what shows this test can fail.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from care_superb.downstream.registry import TASKS
from care_superb.leaderboard import stats
from care_superb.leaderboard.aggregate import Column, build_cells
from care_superb.leaderboard.rows import Row
from care_superb.leaderboard.tables import paired_terms

TASK = "cmu_mosi"  # two classes
CLUSTERS, MEAN_SIZE, SEEDS = 30, 12, 3
LOGIT, SD_CLUSTER, SD_SYSTEM, SD_UTTERANCE = math.log(0.7 / 0.3), 1.0, 0.8, 0.5
RESAMPLES = 400


def true_score(rng: np.random.Generator, n: int = 2_000_000) -> float:
    z = LOGIT + rng.normal(0, SD_CLUSTER, n) + rng.normal(0, SD_SYSTEM, n) + rng.normal(0, SD_UTTERANCE, n)
    return float(np.mean(1 / (1 + np.exp(-z))))


def simulated_rows(rng: np.random.Generator, by_utterance: bool) -> list[Row]:
    sizes = MEAN_SIZE // 3 + rng.poisson(MEAN_SIZE - MEAN_SIZE // 3, CLUSTERS)
    cluster = np.repeat(np.arange(CLUSTERS), sizes)
    n = len(cluster)
    keys = [f"c{c:02d}/u{i:04d}" for i, c in enumerate(cluster)]
    units = keys if by_utterance else [f"c{c:02d}" for c in cluster]
    targets = rng.integers(0, 2, n)
    shared = rng.normal(0, SD_CLUSTER, CLUSTERS)[cluster] + rng.normal(0, SD_UTTERANCE, n)
    objective = TASKS[TASK].objective()
    rows = []
    for system in ("A", "B"):
        p = 1 / (1 + np.exp(-(LOGIT + shared + rng.normal(0, SD_SYSTEM, CLUSTERS)[cluster])))
        for seed in range(SEEDS):
            right = rng.random(n) < p
            outputs = np.where(right, targets, 1 - targets).tolist()
            metrics = objective.metrics(true=targets.tolist(), pred=outputs)
            data = {"task": TASK, "metrics": metrics, "primary_metric": "weighted_f1", "seed": seed,
                    "protocol": {"split_seed": 0}, "upstream": {"name": system}, "benchmark": {"label": system},
                    "resampling": {"unit": "utterance" if by_utterance else "speaker"}}
            rows.append(Row(Path(f"/sim/{system}/seed{seed}"), data, keys, targets.tolist(), outputs, list(units)))
    return rows


def calibration(n_tables: int, by_utterance: bool, seed: int = 0) -> tuple[float, float, int]:
    """(false-positive rate of the paired test at ALPHA, coverage of the intervals, tables)."""
    rng = np.random.default_rng(seed)
    truth = true_score(rng)
    rejected = covered = intervals = 0
    for i in range(n_tables):
        rows = simulated_rows(rng, by_utterance)
        cells = build_cells(rows, [Column(TASK, TASK, "CMU-MOSI")])
        a, b = cells[("A", TASK)], cells[("B", TASK)]
        scorers = stats.Scorers()
        terms, notes = paired_terms(a, b, scorers)
        assert terms and not notes
        p_value, _ = stats.paired_test(terms, RESAMPLES, stats.rng_for(seed, "test", i))
        rejected += p_value < stats.ALPHA
        for cell in (a, b):
            low, high = stats.bootstrap_interval(stats.cell_terms(cell.weights(), scorers), RESAMPLES,
                                                 stats.rng_for(seed, "bootstrap", i, cell.label))
            covered += low <= truth <= high
            intervals += 1
    return rejected / n_tables, covered / intervals, n_tables


def test_the_paired_test_and_the_intervals_are_calibrated_on_clustered_seeded_tables():
    false_positives, coverage, n = calibration(300, by_utterance=False)
    monte_carlo = 2 * math.sqrt(stats.ALPHA * (1 - stats.ALPHA) / n)
    assert false_positives <= stats.ALPHA + monte_carlo, false_positives
    assert coverage >= 0.93, coverage


def test_resampling_utterances_of_clustered_tables_fails_the_same_calibration():
    false_positives, coverage, _ = calibration(100, by_utterance=True, seed=1)
    assert false_positives > 0.15 and coverage < 0.85, (false_positives, coverage)


@pytest.mark.parametrize("by_utterance", [False, True])
def test_seeds_of_one_test_set_share_each_swap_of_the_paired_test(by_utterance):
    """Three identical seeds are one seed three times: the paired test must give the p-value of one
    seed. Swapping each seed's pair on its own would treat them as three independent test sets."""
    rng = np.random.default_rng(3)
    rows = simulated_rows(rng, by_utterance)
    one_seed = [r for r in rows if r.seed == 0]
    copies = [Row(Path(f"{r.path}-copy{s}"), {**r.data, "seed": s}, r.keys, r.targets, r.outputs, r.units)
              for r in one_seed for s in range(3)]
    p_values = []
    for chosen in (one_seed, copies):
        cells = build_cells(chosen, [Column(TASK, TASK, "CMU-MOSI")])
        terms, _ = paired_terms(cells[("A", TASK)], cells[("B", TASK)], stats.Scorers())
        p_values.append(stats.paired_test(terms, 2000, stats.rng_for(0, "test"))[0])
    assert p_values[0] == pytest.approx(p_values[1], abs=1e-12)
