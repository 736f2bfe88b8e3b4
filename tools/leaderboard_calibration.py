"""How calibrated the leaderboard's marks and intervals are: now, and as another commit had them.

    OMP_NUM_THREADS=1 python tools/leaderboard_calibration.py [--columns 200] [--before main]

On the simulated columns of ``tests/test_leaderboard_calibration.py`` (K = 5 upstreams, 3 seeds, 40
clusters of clustered errors, a per-(upstream, seed) shift of the whole test set), prints per seed
spread: the family-wise false-positive rate per column (equal upstreams: how often anything in the
column is marked), the 95% intervals' coverage of the true score, and how often a real 10-point
difference is found. ``--before REV`` runs the same columns through the statistics of that commit
(its ``leaderboard/stats.py`` and ``tables.py``, read with ``git show``; a table of one column built
and tested as that code did: each upstream against the best other by mean, at p < 0.05, with its
own resampling), e.g. ``--before f4f8347`` (the last commit before issue 27). ``--seeds``, ``--spreads`` and
``--points`` change the grid (how many seeds a 10-point difference needs at a given spread).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import test_leaderboard_calibration as sim  # noqa: E402
from care_superb.leaderboard.aggregate import Column, build_cells  # noqa: E402


def load_before(rev: str) -> types.ModuleType:
    """That commit's tables module, its stats module beside it (both from ``git show``)."""
    def source(path):
        return subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True, capture_output=True,
                              text=True).stdout

    modules = {}
    for name in ("stats", "tables"):
        module = types.ModuleType(f"before_{name}")
        sys.modules[module.__name__] = module  # dataclasses look their module up
        text = source(f"leaderboard/{name}.py").replace("from care_superb.leaderboard import stats\n", "")
        module.__dict__["stats"] = modules.get("stats")
        exec(compile(text, f"{rev}:leaderboard/{name}.py", "exec"), module.__dict__)
        modules[name] = module
    return modules["tables"]


def before_column(tables, rows, resamples: int, seed: int):
    """(anything marked, each cell's interval and the marker of u0's cell) as that commit's tables had them."""
    column = Column(sim.TASK, sim.TASK, "CMU-MOSI")
    spec = tables.TableSpec("sim", "simulated", (column,), lambda r: "all", ("all",), 100, 1, "weighted F1 (%)")
    table = tables.build_table(spec, rows, build_cells(rows, [column]), allow_mixed_heads=False)
    scorers = tables.stats.Scorers()
    tables.compute_intervals(table, scorers, resamples, seed)
    tables.compute_tests(table, scorers, resamples, seed)
    labels = sorted({r.label for r in rows})
    marks = {label: table.comparisons[(label, sim.TASK)].marker for label in labels}
    return any(marks.values()), [table.cell(label, sim.TASK).ci for label in labels], marks


def measure_before(tables, n: int, spread: float, points: float, seeds: int, resamples: int) -> dict[str, float]:
    rng = np.random.default_rng(1 if not points else 2)
    lift = sim.lift_for(points, spread) if points else 0.0
    truths = [sim.true_score(spread, lift)] + [sim.true_score(spread)] * (sim.UPSTREAMS - 1)
    marked = covered = found = 0
    for i in range(n):
        rows = sim.simulated_rows(rng, spread, [lift] + [0.0] * (sim.UPSTREAMS - 1), seeds)
        anything, intervals, marks = before_column(tables, rows, resamples, i)
        marked += anything
        covered += sum(low <= truth <= high for (low, high), truth in zip(intervals, truths))
        found += marks["u0"] == "*"
    return {"family_wise": marked / n, "coverage": covered / (n * sim.UPSTREAMS), "found_all": found / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=200, help="simulated columns per line (default 200)")
    parser.add_argument("--before", help="also the statistics of this commit (e.g. main)")
    parser.add_argument("--resamples", type=int, default=500, help="resamples of --before's statistics (default 500)")
    parser.add_argument("--spreads", type=float, nargs="+", default=[2.0, 4.0], help="seed spreads, WF1 points")
    parser.add_argument("--seeds", type=int, nargs="+", default=[sim.SEEDS], help="training seeds per cell")
    parser.add_argument("--points", type=float, default=10.0, help="the real difference (WF1 points)")
    args = parser.parse_args()
    print(f"| statistics | seed spread | seeds | family-wise false positives (pairs / CARE vs each) | coverage | "
          f"{args.points:g}-point difference found (each / all) |\n|---|---|---|---|---|---|")
    for spread in args.spreads:
        for seeds in args.seeds:
            pairs = sim.calibration(args.columns, spread, reference=False, seed=1, seeds=seeds)
            ref = sim.calibration(args.columns, spread, reference=True, seed=1, seeds=seeds)
            power = sim.calibration(args.columns, spread, points=args.points, seed=2, seeds=seeds)
            print(f"| now | {spread:g} | {seeds} | {pairs['family_wise']:.3f} / {ref['family_wise']:.3f} | "
                  f"{pairs['coverage']:.3f} | {power['found']:.3f} / {power['found_all']:.3f} |", flush=True)
            if args.before:
                tables = load_before(args.before)
                null = measure_before(tables, args.columns, spread, 0.0, seeds, args.resamples)
                real = measure_before(tables, args.columns, spread, args.points, seeds, args.resamples)
                print(f"| {args.before}: best other by mean, p < 0.05 | {spread:g} | {seeds} | "
                      f"{null['family_wise']:.3f} (one family) | {null['coverage']:.3f} | - / {real['found_all']:.3f} |",
                      flush=True)


if __name__ == "__main__":
    main()
