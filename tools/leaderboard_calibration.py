"""How calibrated the leaderboard's paired test and intervals are, now and as they were before.

    OMP_NUM_THREADS=1 python tools/leaderboard_calibration.py [--tables 300]

On the simulated tables of ``tests/test_leaderboard_calibration.py`` (two systems with the same
expected accuracy, 3 seeds, 30 clusters of clustered errors per test set), prints the paired
test's false-positive rate at p < 0.05 and the 95% intervals' coverage of the true value for:
the statistics before issue 21 (utterances resampled, each seed's pair of rows swapped on its
own, plain percentile interval), each fix added in turn, and the statistics now. The earlier
statistics are emulated by swapping two functions: one block per pair of rows in the paired test
(``paired_terms``'s old behaviour) and the plain percentile level.
"""
from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from care_superb.leaderboard import stats, tables  # noqa: E402
from test_leaderboard_calibration import calibration  # noqa: E402

EXPANDED = stats.expanded_level
# tables.paired_terms blocks its terms by stats.test_set; the old code used one block per pair of rows.
PER_PAIR = types.SimpleNamespace(**{k: getattr(stats, k) for k in dir(stats) if not k.startswith("__")},)
PER_PAIR.test_set = lambda row: (row.task, str(row.path))

SETTINGS = (  # (name, utterances resampled, each seed's pair swapped on its own, plain percentile)
    ("before: utterances resampled; each seed's pair swapped on its own; percentile", True, True, True),
    ("clusters resampled; each seed's pair swapped on its own; percentile", False, True, True),
    ("clusters; one swap for all seeds of a test set; percentile", False, False, True),
    ("now: clusters; one swap for all seeds; expanded percentile", False, False, False),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=300, help="simulated tables per line (default 300)")
    args = parser.parse_args()
    print("| statistics | false positives at p < 0.05 | coverage of 95% intervals |\n|---|---|---|")
    for name, by_utterance, per_seed_swaps, plain in SETTINGS:
        stats.expanded_level = (lambda sizes, confidence=stats.CONFIDENCE: confidence) if plain else EXPANDED
        tables.stats = PER_PAIR if per_seed_swaps else stats
        false_positives, coverage, _ = calibration(args.tables, by_utterance=by_utterance, seed=7)
        print(f"| {name} | {false_positives:.3f} | {coverage:.3f} |", flush=True)


if __name__ == "__main__":
    main()
