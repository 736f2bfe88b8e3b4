"""The s3prl engine: a cell is s3prl's own runner, in a subprocess, exactly as a user runs it:
``run_downstream.py -m train ...`` then ``run_downstream.py -m evaluate -e <cell>/dev-best.ckpt``.
The upstream's forward runs on every batch of every step (slow; it is the reference the cached
engine is checked against, and the engine for heads the cache cannot serve)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import care_superb

REPO = Path(care_superb.__file__).resolve().parent.parent
ENTRY = REPO / "run_downstream.py"


class CellFailed(RuntimeError):
    pass


def run(train: list[str], expdir: Path, device: str, threads: int, evaluate: bool = True) -> Path:
    """The training, then (``evaluate``) the evaluation of dev-best on test; the row's path. A run of
    the converge schedule stops on dev in run_downstream.py (schedule.EarlyStop); without
    ``evaluate`` (a learning-rate search run) the test split is never read. The s3prl engine has no
    cache, so its rows carry no linear probe."""
    if not ENTRY.is_file():
        raise CellFailed(f"{ENTRY} is missing: the s3prl engine runs the repository's run_downstream.py "
                         f"(install care-superb editable from its checkout)")
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    log = Path(expdir) / "bench-log.txt"
    evaluation = ["-m", "evaluate", "-e", str(Path(expdir) / "dev-best.ckpt"), "--device", device]
    runs = [train, evaluation] if evaluate else [train]
    for argv in runs:
        with open(log, "a") as out:
            out.write(f"$ python run_downstream.py {' '.join(argv)}\n")
            out.flush()
            code = subprocess.run([sys.executable, str(ENTRY), *argv], cwd=REPO, env=env, stdout=out,
                                  stderr=subprocess.STDOUT).returncode
        if code != 0:
            tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
            raise CellFailed(f"run_downstream.py {argv[1]} exited with {code}; the end of {log}:\n{tail}")
    return Path(expdir) / ("result-test-dev-best.json" if evaluate else "dev-best.json")
