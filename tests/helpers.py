"""Helpers the tests import (``from helpers import run_downstream``)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_downstream(*args: str, cwd: Path = REPO, timeout: int = 900) -> str:
    """Run the repository's run_downstream.py (s3prl's runner) in a subprocess; returns its output."""
    # One thread: the runner's tiny models gain nothing from two, and on a busy 2-core machine two
    # threads per process oversubscribe it (measured: 6 min vs 43 s for the same 300 steps).
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(REPO / "run_downstream.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"run_downstream.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    return done.stdout + done.stderr
