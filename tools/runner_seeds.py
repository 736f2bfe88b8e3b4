"""The runner tests that assert a head learns ("beats chance", "detects", "predicts") run once, on
s3prl's default head seed and one thread. Their short schedules are only trustworthy if they pass
with a margin on other head seeds and thread counts too (another CPU's floating point takes another
trajectory, as another seed does): this runs those tests once per (seed, threads, CPU kernels) and
prints each test's margin (its metric minus its floor, the smallest over its floors; each test prints them as
``[margin]`` lines, tests/helpers.assert_learned), then the worst margin per test and overall.

    python tools/runner_seeds.py                       # seeds 1337 (s3prl's default), 1, 2, 3; 1 thread
    python tools/runner_seeds.py --threads 1 2         # and each seed again with 2 threads
    python tools/runner_seeds.py --seeds 1337 4 5 -k cafe
    python tools/runner_seeds.py --cpu native avx2 default  # as a CPU without AVX-512 (or AVX) would run them

``--cpu`` emulates another machine's floating point on this one: torch's own kernels
(ATEN_CPU_CAPABILITY), MKL's (MKL_ENABLE_INSTRUCTIONS) and oneDNN's (DNNL_MAX_CPU_ISA) limited to an
instruction set, as on a CPU that has no wider one; ``native`` leaves them as they are.

Each (seed, threads) is one pytest process (the corpora are rendered once per process); the seed
reaches s3prl's ``--seed`` through ``tests/helpers.HEAD_SEED``, the thread count the runs' torch
through ``tests/helpers.THREADS`` (and OMP_NUM_THREADS).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from helpers import HEAD_SEED, THREADS  # noqa: E402

# The tests whose assertions depend on what the head learned in its few steps.
LEARNING_TESTS = ["tests/test_emodb_runner.py", "tests/test_classification_runners.py",
                  "tests/test_daic_woz_runner.py", "tests/test_msp_improv_runner.py"]
MARGIN = re.compile(r"^\[margin\] (\S+) (\S+) (\S+) floor (\S+) margin (\S+)$", re.M)


def margins(text: str) -> list[dict]:
    """The ``[margin]`` lines a test printed."""
    return [{"metric": m[1], "value": float(m[2]), "floor": float(m[3]), "margin": float(m[4])}
            for m in MARGIN.findall(text)]


# What each --cpu choice sets: torch's, MKL's and oneDNN's instruction-set limits.
CPU_KERNELS = {"native": {}, "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                                      "DNNL_MAX_CPU_ISA": "AVX2"},
               "default": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
                           "DNNL_MAX_CPU_ISA": "SSE41"}}


def run(seed: int, threads: int, select: str | None, cpu: str = "native") -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        # no per-test timeout (setup.cfg's 15 min): a measurement on a busy machine may take longer
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-o", "timeout=0",
                   "-o", "junit_logging=system-out", f"--junitxml={report}", *LEARNING_TESTS]
        command += ["-k", select] if select else []
        env = dict(os.environ, **{HEAD_SEED: str(seed), THREADS: str(threads), "OMP_NUM_THREADS": str(threads)},
                   **CPU_KERNELS[cpu])
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if not report.is_file():
            raise SystemExit(f"pytest wrote no report for seed {seed}, {threads} threads:\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        found = []
        for case in ET.parse(report).iter("testcase"):
            failure = case.find("failure") if case.find("failure") is not None else case.find("error")
            out = "".join(node.text or "" for node in case.iter("system-out"))
            measured = margins(out)
            worst = min(measured, key=lambda m: m["margin"]) if measured else None
            found.append({"seed": seed, "threads": threads, "cpu": cpu,
                          "test": f"{case.get('classname').split('.')[-1]}::{case.get('name')}",
                          "passed": failure is None, "seconds": round(float(case.get("time")), 1),
                          "margin": worst["margin"] if worst else float("nan"),
                          "metric": f"{worst['metric']} {worst['value']:.3f}, floor {worst['floor']:.3f}" if worst else "",
                          "detail": (failure.get("message") or "")[:160] if failure is not None else ""})
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2, 3])
    parser.add_argument("--threads", type=int, nargs="+", default=[1], help="torch threads of the runs (default 1)")
    parser.add_argument("--cpu", nargs="+", default=["native"], choices=list(CPU_KERNELS),
                        help="the kernels' instruction set: native (this CPU's), avx2, default (no AVX)")
    parser.add_argument("-k", dest="select", help="pytest -k expression: only these tests")
    args = parser.parse_args(argv)
    rows = []
    for cpu in args.cpu:
        for threads in args.threads:
            for seed in args.seeds:
                done = run(seed, threads, args.select, cpu)
                rows += done
                for row in done:  # as each run ends: a long run shows its progress
                    print(f"seed {seed}, {threads} threads, {cpu} kernels: {row['test']}: margin {row['margin']:+.4f} "
                          f"({row['metric'] or row['detail']})", flush=True)
    table = pd.DataFrame(rows)
    table["run"] = [f"seed {s}, {t} thr" + ("" if c == "native" else f", {c}")
                    for s, t, c in zip(table.seed, table.threads, table.cpu)]
    shown = table.assign(cell=[f"{m:+.3f}" + ("" if ok else " FAIL") for m, ok in zip(table.margin, table.passed)])
    print("Margin over the floor (metric - floor; the smallest of a test's floors):\n")
    print(shown.pivot(index="test", columns="run", values="cell")[list(dict.fromkeys(table.run))].to_markdown())
    print()
    worst = table.loc[table.groupby("test").margin.idxmin()] if table.margin.notna().any() else table.iloc[:0]
    print("Worst per test:\n")
    print(worst[["test", "margin", "metric", "seed", "threads", "cpu"]].to_markdown(index=False, floatfmt="+.4f"))
    print()
    failed = table[~table.passed]
    for _, row in failed.iterrows():
        print(f"seed {row.seed}, {row.threads} threads, {row.cpu} kernels: {row.test}: {row.detail}")
    lowest = table.loc[table.margin.idxmin()] if table.margin.notna().any() else None
    print(f"{len(table) - len(failed)} of {len(table)} (test, seed, threads) runs passed; median "
          f"{table.seconds.median():.0f} s per test" + (
              f"; worst margin {lowest.margin:+.4f} ({lowest.test}, {lowest.metric}, seed {lowest.seed}, "
              f"{lowest.threads} threads, {lowest.cpu} kernels)" if lowest is not None else ""))
    return 1 if len(failed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
