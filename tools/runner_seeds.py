"""The runner tests that assert a head learns ("beats chance", "detects", "predicts") run once, on
s3prl's default head seed. Their short schedules are only trustworthy if they pass on other head
seeds too: this runs those tests once per seed and prints pass / fail per test and seed, with the
metrics each test printed.

    python tools/runner_seeds.py                    # seeds 1337 (s3prl's default), 1, 2, 3
    python tools/runner_seeds.py --seeds 1337 4 5 -k cafe

Each seed is one pytest process (the corpora are rendered once per process); the seed reaches
s3prl's ``--seed`` through ``tests/helpers.HEAD_SEED``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from helpers import HEAD_SEED  # noqa: E402

# The tests whose assertions depend on what the head learned in its few steps.
LEARNING_TESTS = ["tests/test_emodb_runner.py", "tests/test_classification_runners.py",
                  "tests/test_daic_woz_runner.py", "tests/test_msp_improv_runner.py"]


def run_seed(seed: int, select: str | None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-o", "addopts=",
                   f"--junitxml={report}", *LEARNING_TESTS] + (["-k", select] if select else [])
        env = dict(os.environ, **{HEAD_SEED: str(seed), "OMP_NUM_THREADS": "1"})
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if not report.is_file():
            raise SystemExit(f"pytest wrote no report for seed {seed}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        printed = [line for line in done.stdout.splitlines() if ": test {" in line]
        found = []
        for case in ET.parse(report).iter("testcase"):
            failure = case.find("failure") if case.find("failure") is not None else case.find("error")
            name = case.get("name")
            task = name.split("[")[1].rstrip("]") if "[" in name else case.get("classname").split("test_")[-1]
            metrics = next((line.split(": test ", 1)[1] for line in printed if line.startswith(f"{task}: ")), "")
            found.append({"seed": seed, "test": f"{case.get('classname').split('.')[-1]}::{name}",
                          "passed": failure is None, "seconds": round(float(case.get("time")), 1),
                          "detail": (failure.get("message") or "")[:160] if failure is not None else metrics[:160]})
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2, 3])
    parser.add_argument("-k", dest="select", help="pytest -k expression: only these tests")
    args = parser.parse_args(argv)
    results = [row for seed in args.seeds for row in run_seed(seed, args.select)]
    table = pd.DataFrame(results)
    wide = table.pivot(index="test", columns="seed", values="passed")[args.seeds].replace({True: "pass", False: "FAIL"})
    print(wide.to_markdown())
    print()
    failed = table[~table.passed]
    for _, row in failed.iterrows():
        print(f"seed {row.seed}: {row.test}: {row.detail}")
    print(f"{len(table) - len(failed)} of {len(table)} (test, seed) runs passed; "
          f"median {table.seconds.median():.0f} s per test")
    return 1 if len(failed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
