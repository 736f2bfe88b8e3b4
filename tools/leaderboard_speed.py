"""How much the leaderboard's batched metrics save: the same resamples (the jackknife's
leave-one-cluster-out sets are such resamples) scored by the task's objective one by one
(scikit-learn / concordance.ccc) and all at once, in the same run.

    OMP_NUM_THREADS=1 python tools/leaderboard_speed.py [--resamples 200] [--grid]

Prints, for an IEMOCAP-sized fold (weighted F1, 1100 utterances, 4 classes) and an MSP-IMPROV-sized
fold (mean CCC, 700 utterances), both timings, their ratio and the largest difference. ``--grid``
also times ``care-superb leaderboard`` on the paper's whole grid of rows (6 upstreams x 9 tasks x 3
seeds, IEMOCAP's 5 and MSP-IMPROV's 12 folds, EmoDB/RAVDESS/CaFE 3 split seeds: 612 rows of realistic
test-set sizes and clusters, written to a temporary folder).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from care_superb.leaderboard.rows import Row
from care_superb.leaderboard.scoring import Scorer


def row(task: str, targets: list, outputs: list) -> Row:
    keys = [f"u{i:05d}" for i in range(len(targets))]
    units = [f"c{i // 10:04d}" for i in range(len(targets))]  # clusters of 10, as dialogues
    return Row(path=Path(f"<{task}>"), data={"task": task, "config": {}}, keys=keys, targets=targets, outputs=outputs,
               units=units)


def cases(rng: np.random.Generator):
    y = rng.integers(0, 4, 1100)
    right = rng.random(1100) < 0.6
    yield "iemocap4 fold, weighted_f1", row("iemocap4", y.tolist(), np.where(right, y, (y + 1) % 4).tolist()), "weighted_f1"
    t = rng.normal(size=(700, 3))
    yield "msp_improv fold, mean_ccc", row("msp_improv", t.tolist(), (0.7 * t + rng.normal(size=t.shape)).tolist()), "mean_ccc"


# task -> (test sets, utterances per test set, clusters per test set, classes; 0: regression)
GRID = {"iemocap4": (5, 1100, 30, 4), "iemocap6": (5, 1480, 30, 6), "meld": (1, 2610, 280, 7),
        "cmu_mosi": (1, 752, 31, 2), "daic_woz": (1, 35 * 40, 35, 2), "ravdess_song": (3, 132, 3, 6),
        "cafe": (3, 156, 2, 7), "emodb": (3, 107, 2, 7), "msp_improv": (12, 700, 80, 0)}
UPSTREAMS = ("CARE", "WavLM", "HuBERT", "data2vec", "emotion2vec", "SONAR")


def write_grid(folder: Path, rng: np.random.Generator) -> int:
    """The paper's grid as result rows (tests/leaderboard_rows.py's writer); returns how many."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from leaderboard_rows import write_row

    written = 0
    for task, (sets, n, clusters, k) in GRID.items():
        for variant in range(sets):
            units = [f"c{i * clusters // n:03d}" for i in range(n)]
            keys = [f"{u}/seg{i:04d}" if task == "daic_woz" else f"{task}-{variant}-{i:05d}" for i, u in enumerate(units)]
            y = rng.normal(size=(n, 3)) if k == 0 else rng.integers(0, k, n)
            if task == "daic_woz":  # an interview's segments share its label
                y = rng.integers(0, k, clusters)[[i * clusters // n for i in range(n)]]
            for label in UPSTREAMS:
                for seed in range(3):
                    if k == 0:
                        out = (0.6 * y + rng.normal(size=y.shape)).tolist()
                    else:
                        pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
                        out = [[int(c), [0.5, 0.5]] for c in pred] if task == "daic_woz" else pred.tolist()
                    fold = variant if task in ("iemocap4", "iemocap6", "msp_improv") else None
                    split_seed = variant if fold is None else 0
                    write_row(folder / label / task / str(variant) / str(seed), task, label.lower(),
                              y.tolist(), out, keys, seed=seed, fold=fold, split_seed=split_seed, label=label, units=units)
                    written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--grid", action="store_true", help="also time the leaderboard on the paper's grid")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for name, the_row, metric in cases(rng):
        scorer = Scorer([the_row], metric)
        units = rng.integers(0, scorer.n_units, size=(args.resamples, scorer.n_units))
        source = np.zeros_like(units)
        start = time.perf_counter()
        reference = scorer._generic(units, source)
        objective_s = time.perf_counter() - start
        start = time.perf_counter()
        batched = scorer.batched(units, source)
        batched_s = time.perf_counter() - start
        print(f"{name}: {args.resamples} resamples, objective {objective_s:.3f} s, batched {batched_s:.4f} s, "
              f"ratio {objective_s / batched_s:.0f}x, max |difference| {np.abs(reference - batched).max():.1e}")
    if args.grid:
        import tempfile

        from care_superb.leaderboard.make import make_leaderboard

        with tempfile.TemporaryDirectory() as tmp:
            n = write_grid(Path(tmp) / "rows", rng)
            start = time.perf_counter()
            make_leaderboard([Path(tmp) / "rows"], Path(tmp) / "out")
            print(f"the paper's grid: {n} rows, leaderboard (analytic intervals and tests) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
