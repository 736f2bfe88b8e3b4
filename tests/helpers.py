"""Helpers the tests import (``from helpers import run_downstream``)."""
from __future__ import annotations

import builtins
import contextlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAD_SEED = "CARE_SUPERB_TEST_HEAD_SEED"  # set: s3prl's --seed for the runs that do not give one
THREADS = "CARE_SUPERB_TEST_THREADS"  # set: torch threads of the runner's runs (default 1)
# A few steps of small batches: a run that checks plumbing, not what a head learns. With the same
# head seed, runs on one task meet the same training utterances (asr_text's transcripts are shared).
FEW_STEPS = ("config.runner.total_steps=10,,config.runner.eval_step=10,,config.runner.save_step=10,,"
             "config.downstream_expert.datarc.batch_size=4")


def learning_schedule(steps: int, workers: int = 0, lr: float = 1e-3) -> str:
    """The overrides of the runner tests that assert a head learned: ``steps`` batches of 16 at
    ``lr``, dev every 50 (the configs: 32 at 1e-4 for ~50 epochs of the real corpus). ``workers=0``
    loads in the main process: a worker forked again at every short epoch cost more than it saved.
    Each test's ``steps`` and ``lr`` hold their margin over head seeds and thread counts
    (``python tools/runner_seeds.py --threads 1 2``; docs/development.md has the table)."""
    return (f"config.runner.total_steps={steps},,config.runner.eval_step=50,,config.runner.save_step={steps},,"
            f"config.optimizer.lr={lr!r},,config.downstream_expert.datarc.batch_size=16,,"
            f"config.downstream_expert.datarc.num_workers={workers}")


def assert_learned(name: str, metrics: dict, floors: dict[str, float]) -> None:
    """Each metric above its floor. Prints each margin (metric - floor) as a ``[margin]`` line,
    which ``tools/runner_seeds.py`` collects over head seeds and thread counts."""
    for metric, floor in floors.items():
        print(f"[margin] {name} {metric} {metrics[metric]:.4f} floor {floor:.4f} margin {metrics[metric] - floor:+.4f}")
    below = {metric: round(metrics[metric], 4) for metric, floor in floors.items() if not metrics[metric] > floor}
    assert not below, f"{name}: {below} not above the floors {floors}; all metrics: {metrics}"


# The English synthetic corpus with the fewest dev and test utterances (13 and 19): each utterance
# a Whisper upstream meets costs one 30 s window.
ENGLISH_TASK = "msp_improv"


def run_downstream(*args: str, cwd: Path = REPO, timeout: int = 900, fresh_process: bool = False) -> None:
    """s3prl's runner as the repository's run_downstream.py runs it: in this process (s3prl's own
    ``main()`` after ``plug()``, as the script does; each start of torch, s3prl and transformers in
    a subprocess costs several seconds), or, with ``fresh_process``, the script itself in a
    subprocess, for a test whose point is what a new process finds (a folder added on disk)."""
    if "--seed" not in args and os.environ.get(HEAD_SEED):  # tools/runner_seeds.py: another head seed
        args = (*args, "--seed", os.environ[HEAD_SEED])
    if fresh_process:
        # One thread: the runner's tiny models gain nothing from two, and on a busy 2-core machine
        # two threads per process oversubscribe it (measured: 6 min vs 43 s for the same 300 steps).
        env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS=os.environ.get(THREADS, "1"))
        done = subprocess.run([sys.executable, str(REPO / "run_downstream.py"), *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"run_downstream.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
        return
    import torch

    from care_superb.plug import plug

    plug()
    from s3prl.run_downstream import main

    argv = ["run_downstream.py", *args]
    if "--device" not in args and not torch.cuda.is_available():
        argv += ["--device", "cpu"]  # as run_downstream.py does
    # s3prl's main() wraps builtins.isinstance in a new closure on every call (hack_isinstance):
    # restored after each run, or the wrappers nest, run after run, and slow the whole session.
    saved = sys.argv, torch.get_num_threads(), builtins.isinstance
    try:
        sys.argv = argv
        torch.set_num_threads(int(os.environ.get(THREADS, "1")))
        with contextlib.chdir(cwd), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            main()
    except SystemExit as error:
        if error.code not in (0, None):
            raise AssertionError(f"run_downstream.py {' '.join(args)} exited with {error.code}") from error
    finally:
        sys.argv = saved[0]
        torch.set_num_threads(saved[1])
        builtins.isinstance = saved[2]
