"""How much the leaderboard's batched metrics save: the same bootstrap resamples scored by the
task's objective one by one (scikit-learn / concordance.ccc) and all at once, in the same run.

    OMP_NUM_THREADS=1 python benchmark/leaderboard_speed.py [--resamples 200]

Prints, for an IEMOCAP-sized fold (weighted F1, 1100 utterances, 4 classes) and an MSP-IMPROV-sized
fold (mean CCC, 700 utterances), both timings, their ratio and the largest difference.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=200)
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


if __name__ == "__main__":
    main()
