"""A held-out check of the leaderboard's marks: result rows of equal upstreams, made by a model of
errors that is not the calibration's, through ``care-superb leaderboard`` itself.

    OMP_NUM_THREADS=1 python tools/leaderboard_heldout.py [--boards 25] [--points 10]

The calibration (``tests/test_leaderboard_calibration.py``) shifts each (upstream, seed) on the logit
scale of a binary task. Here instead, on four of Table II's tasks as the benchmark lays them out
(MELD's dialogues, CMU-MOSI's videos, IEMOCAP-4's dialogues in one session, EmoDB's ten speakers
over the five test pairs of its test grid, ``downstream/splits.py``), an upstream's head is right
on an utterance with a probability set by the cluster (harder speakers, dialogues) and by the
upstream's own luck on it; a training seed gives the head a favourite class, predicted for a
seed-drawn share of the utterances whatever they are (a seed-level bias, not a shift). Rows are
written in the contracts' format (``tests/leaderboard_rows.write_row``: predictions with keys,
clusters, targets and outputs; metrics by the task's objective), three seeds each, CARE and four
baselines, and the leaderboard is run by its command line. Counted per column: whether anything
was marked (the family-wise error, to be at most 0.05) and, with ``--points``, how often CARE,
``points`` better in expected accuracy, is found better than each baseline.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from care_superb.cli import main as care_superb  # noqa: E402
from leaderboard_rows import write_row  # noqa: E402

UPSTREAMS = ("care", "hubert", "wavlm", "wav2vec2", "data2vec")
SEEDS = (1, 2, 3)
# task: (classes, clusters per test set, utterances per cluster, test sets: fold / split seeds)
TASKS = {"meld": (7, 60, 8, [None]), "cmu_mosi": (2, 31, 20, [None]), "iemocap4": (4, 30, 12, [None]),
         "emodb": (7, 2, 25, [0, 1, 2, 3, 4])}
TITLES = {"meld": "MELD", "cmu_mosi": "CMU-MOSI", "iemocap4": "IEMOCAP-4", "emodb": "EmoDB"}
SKILL, SD_CLUSTER, SD_LUCK = 0.65, 0.12, 0.05  # P(right), on the probability scale
FAVOURITE = (0.0, 0.15)  # a seed's share of utterances given its head's favourite class: uniform


def write_board(root: Path, rng: np.random.Generator, lift: float = 0.0) -> None:
    """One leaderboard's rows: CARE's probability of being right raised by ``lift``."""
    for task, (k, n_clusters, per_cluster, test_sets) in TASKS.items():
        for t, test_set in enumerate(test_sets):
            n = n_clusters * per_cluster
            # EmoDB's grid: test pair t holds speakers 2t and 2t + 1, every speaker in one test set
            names = [f"spk{t * n_clusters + c:02d}" if task == "emodb" else f"{task}{c:02d}" for c in range(n_clusters)]
            cluster = np.repeat(np.arange(n_clusters), per_cluster)
            targets = rng.integers(0, k, n)
            difficulty = rng.normal(0, SD_CLUSTER, n_clusters)
            for upstream in UPSTREAMS:
                p = SKILL + (lift if upstream == "care" else 0.0) + difficulty + rng.normal(0, SD_LUCK, n_clusters)
                p = np.clip(p, 0.02, 0.98)[cluster]
                for seed in SEEDS:
                    favourite, share = rng.integers(0, k), rng.uniform(*FAVOURITE)
                    right = rng.random(n) < p
                    wrong = (targets + rng.integers(1, k, n)) % k
                    outputs = np.where(right, targets, wrong)
                    outputs = np.where(rng.random(n) < share, favourite, outputs)
                    split = {"split_seed": test_set} if task == "emodb" else {"fold": 1} if task == "iemocap4" else {}
                    write_row(root / upstream / task / f"{test_set}-{seed}", task, upstream, targets.tolist(),
                              outputs.tolist(), [f"{names[c]}/u{i:04d}" for i, c in enumerate(cluster)],
                              units=[names[c] for c in cluster], unit="speaker" if task == "emodb" else "cluster",
                              seed=seed, category="base", **split)


def board(rng: np.random.Generator, lift: float = 0.0) -> pd.DataFrame:
    """Write one board's rows, run ``care-superb leaderboard`` on them, return its Table II comparisons."""
    with tempfile.TemporaryDirectory() as tmp:
        write_board(Path(tmp) / "rows", rng, lift)
        with contextlib.redirect_stdout(io.StringIO()):  # the tables it prints: read from the CSV instead
            status = care_superb(["leaderboard", str(Path(tmp) / "rows"), "--out", str(Path(tmp) / "out")])
        if status != 0:
            raise SystemExit("care-superb leaderboard failed")
        return pd.read_csv(Path(tmp) / "out" / "table2.comparisons.csv", comment="#")


def count(boards: int, lift: float, seed: int = 0) -> dict[str, float]:
    """Over ``boards`` leaderboards: the share of task columns with any mark, and of CARE's
    comparisons found in CARE's favour; and how many comparisons were tested."""
    rng = np.random.default_rng(seed)
    marked = columns = found = tested = compared = 0
    for _ in range(boards):
        comparisons = board(rng, lift)
        for title in TITLES.values():
            mine = comparisons[comparisons.column == title]
            columns += 1
            marked += bool(mine.significant.any())
            found += int((mine.better == "care").sum())
            tested += int(mine.p_value.notna().sum())
            compared += len(mine)
    return {"family_wise": marked / columns, "found": found / compared, "tested": tested / compared,
            "columns": columns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=25, help="leaderboards per line (4 columns each)")
    parser.add_argument("--points", type=float, default=10.0, help="CARE's real advantage, accuracy points")
    args = parser.parse_args()
    null = count(args.boards, 0.0)
    real = count(args.boards, args.points / 100, seed=1)
    mc = 2 * math.sqrt(0.05 * 0.95 / null["columns"])
    print(f"equal upstreams: family-wise false positives {null['family_wise']:.3f} over {null['columns']} columns "
          f"(bound 0.05 + {mc:.3f}); comparisons tested {null['tested']:.2f}")
    print(f"CARE {args.points:g} points better: found better than each baseline in {real['found']:.3f} of comparisons")


if __name__ == "__main__":
    main()
