"""Running jobs through submitit: local processes by default, SLURM for a cluster.

Work is divided into ``executor.jobs`` jobs up front (longest first to the least loaded), each
job runs its share in order, and submitit starts, watches and (on Ctrl-C) cancels them; nothing
here schedules. While jobs run, ``wait`` shows a progress bar fed by what they leave on disk.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Sequence, TypeVar

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


def wait(jobs: list, bar: tqdm, progress: Callable[[], int], poll_s: float = 1.0) -> list[str]:
    """Until every job ends: ``bar`` follows ``progress()``. Returns the problems of jobs that
    died (a cell's own failure is recorded by the cell, not here). Ctrl-C cancels the jobs."""
    try:
        while not all(job.done() for job in jobs):
            bar.n = progress()
            bar.refresh()
            time.sleep(poll_s)
    except KeyboardInterrupt:
        for job in jobs:
            job.cancel(check=False)
        raise
    bar.n = progress()
    bar.refresh()
    problems = []
    for job in jobs:
        error = job.exception()
        if error is not None:
            problems.append(f"job {job.job_id} failed ({type(error).__name__}); its log: {job.paths.stderr}\n"
                            f"{str(error)[-2000:]}")
    return problems
