"""Running jobs through submitit: local processes by default, SLURM for a cluster.

Work is divided into ``executor.jobs`` jobs up front (longest first to the least loaded), each
job runs its share in order, and submitit starts and watches them; nothing here schedules. While
jobs run, ``wait`` shows a progress bar fed by what they leave on disk. ``started`` stops them when
the parent is interrupted (Ctrl-C, or SIGTERM / SIGHUP, which the CLI raises as Ctrl-C).
"""
from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import psutil
from tqdm import tqdm

from care_superb.benchmark.spec import Executor

T = TypeVar("T")


def divide(work: Sequence[T], jobs: int, weight: Callable[[T], float]) -> list[list[T]]:
    """``work`` dealt to at most ``jobs`` shares of similar total weight (order kept within a share)."""
    loads = [[0.0, i, []] for i in range(max(1, jobs))]
    for index, item in sorted(enumerate(work), key=lambda p: -weight(p[1])):
        target = min(loads, key=lambda e: (e[0], e[1]))
        target[0] += weight(item)
        target[2].append((index, item))
    return [[item for _, item in sorted(entry[2], key=lambda p: p[0])] for entry in loads if entry[2]]


def make(spec: Executor, folder: Path, gpus: int = 0):
    """A submitit executor for ``spec``; its logs go to ``folder``."""
    import submitit

    setup = [f"export OMP_NUM_THREADS={spec.threads_per_job}", f"export MKL_NUM_THREADS={spec.threads_per_job}"]
    if spec.kind == "local":
        executor = submitit.LocalExecutor(folder=str(folder))
        executor.update_parameters(timeout_min=spec.timeout_min, gpus_per_node=gpus)
        # The children inherit this environment: one thread per job unless the file says more.
        os.environ["OMP_NUM_THREADS"] = str(spec.threads_per_job)
        os.environ["MKL_NUM_THREADS"] = str(spec.threads_per_job)
        return executor
    executor = submitit.AutoExecutor(folder=str(folder), cluster="slurm")
    slurm = dict(spec.slurm)
    params = {"timeout_min": spec.timeout_min, "slurm_setup": setup,
              "cpus_per_task": int(slurm.pop("cpus_per_job", spec.threads_per_job)),
              "gpus_per_node": int(slurm.pop("gpus_per_job", gpus))}
    if "partition" in slurm:
        params["slurm_partition"] = slurm.pop("partition")
    if "mem_gb" in slurm:
        params["mem_gb"] = slurm.pop("mem_gb")
    if "slurm_additional_parameters" in slurm:
        params["slurm_additional_parameters"] = slurm.pop("slurm_additional_parameters")
    executor.update_parameters(**params)
    return executor


def submit(executor, function: Callable, shares: list[list], *args) -> list:
    """One job per share: ``function(share, *args)``."""
    with executor.batch():
        jobs = [executor.submit(function, share, *args) for share in shares]
    return jobs


@contextmanager
def started(executor, function: Callable, shares: list[list], *args, grace_s: float = 10.0) -> Iterator[list]:
    """The jobs of ``submit``, stopped (``stop``) if the body, or the submission, raises: an
    interrupted parent leaves no job running."""
    others = {child.pid for child in psutil.Process().children()}  # not the jobs': left alone
    jobs: list = []
    try:
        jobs += submit(executor, function, shares, *args)
        yield jobs
    except BaseException:
        stop(jobs, grace_s, others)
        raise


def stop(jobs: list, grace_s: float = 10.0, others: set[int] = frozenset()) -> None:
    """Stop the jobs as Ctrl-C in a terminal does. SLURM jobs are cancelled (scancel). On this
    machine every process this one started (but ``others``), with all its descendants (submitit's
    job controllers, their tasks and what those run: s3prl's runner, loader workers), gets SIGINT,
    and SIGKILL if it still runs after ``grace_s``. submitit's own cancel signals the controller
    only: one that ignored SIGINT (as jobs started from a background shell do) kept its tasks
    running, and a task killed mid-way left its children. Another Ctrl-C, SIGTERM or SIGHUP
    meanwhile is ignored, so that this always ends."""
    from submitit.local.local import LocalJob

    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {s: signal.signal(s, signal.SIG_IGN) for s in signals}
    try:
        for job in jobs:
            if not isinstance(job, LocalJob):
                job.cancel(check=False)
        family = _descendants(others)
        _send(family, signal.SIGINT)
        _, alive = psutil.wait_procs(family, timeout=grace_s)
        left = {p.pid: p for p in alive + _descendants(others)}  # also any started meanwhile
        _send(list(left.values()), signal.SIGKILL)
        psutil.wait_procs(list(left.values()), timeout=5)
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _descendants(others: set[int]) -> list:
    found = []
    for child in psutil.Process().children():
        if child.pid not in others:
            try:
                found += [child, *child.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
    return found


def _send(processes: list, signum: int) -> None:
    for process in processes:
        try:
            process.send_signal(signum)
        except psutil.NoSuchProcess:
            pass


def wait(jobs: list, bar: tqdm, progress: Callable[[], int], poll_s: float = 1.0) -> list[str]:
    """Until every job ends: ``bar`` follows ``progress()``. Returns the problems of jobs that
    died (a cell's own failure is recorded by the cell, not here)."""
    while not all(job.done() for job in jobs):
        bar.n = progress()
        bar.refresh()
        time.sleep(poll_s)
    bar.n = progress()
    bar.refresh()
    problems = []
    for job in jobs:
        error = job.exception()
        if error is not None:
            problems.append(f"job {job.job_id} failed ({type(error).__name__}); its log: {job.paths.stderr}\n"
                            f"{str(error)[-2000:]}")
    return problems
