"""care-superb bench's jobs (submitit's local executor, real processes): an interrupted parent
leaves none of them running, also where SIGINT is ignored (jobs started from a background shell)
and where a job has children of its own."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import psutil
import pytest

from care_superb.benchmark import executor as ex
from care_superb.benchmark.spec import Executor


def running(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def wait_for(ready, timeout=60.0):
    deadline = time.time() + timeout
    while not ready():
        assert time.time() < deadline, "the jobs did not start"
        time.sleep(0.05)


def test_interrupted_jobs_and_their_children_are_stopped_even_where_sigint_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # ex.make sets it for the jobs
    executor = ex.make(Executor("local", jobs=2, threads_per_job=1), tmp_path / "logs")
    pids = tmp_path / "pids"
    # Each job runs a child of its own (as the s3prl engine runs run_downstream.py), which says its pid.
    share = ["sh", "-c", f"echo $$ >> {pids}; exec sleep 600"]
    grandchildren = lambda: [int(line) for line in pids.read_text().split()] if pids.is_file() else []  # noqa: E731
    family: list[int] = []
    others = {p.pid for p in psutil.Process().children(recursive=True)}  # not this test's
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)  # what `care-superb bench ... &` in a script gets
    try:
        with pytest.raises(KeyboardInterrupt):
            with ex.started(executor, subprocess.run, [share, share], grace_s=3.0) as jobs:
                signal.signal(signal.SIGINT, inherited)
                wait_for(lambda: len(grandchildren()) == 2)
                family += [p.pid for p in psutil.Process().children(recursive=True) if p.pid not in others]
                assert set(grandchildren()) < set(family) and len(family) >= 6  # 2 x controller, task, child
                # submitit's own cancel (what bench did before) signals each job's controller, which
                # ignores SIGINT here: every process goes on running.
                for job in jobs:
                    job.cancel(check=False)
                time.sleep(2.0)
                assert running(family) == family
                raise KeyboardInterrupt  # Ctrl-C, or SIGTERM / SIGHUP as the CLI raises them
        assert running(family) == []
    finally:
        signal.signal(signal.SIGINT, inherited)
        for pid in running(family):  # a failing check leaves nothing behind
            os.kill(pid, signal.SIGKILL)
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN  # the handlers are back


def test_a_job_that_ends_is_not_stopped_and_other_children_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    bystander = subprocess.Popen(["sleep", "600"])  # a child of the parent that is not a job's
    try:
        executor = ex.make(Executor("local", jobs=1, threads_per_job=1), tmp_path / "logs")
        with pytest.raises(KeyboardInterrupt):
            with ex.started(executor, subprocess.run, [["true"]], grace_s=3.0) as jobs:
                wait_for(lambda: all(job.done() for job in jobs))
                assert jobs[0].result().returncode == 0
                raise KeyboardInterrupt
        assert running([bystander.pid]) == [bystander.pid]
    finally:
        bystander.kill()
        bystander.wait()
