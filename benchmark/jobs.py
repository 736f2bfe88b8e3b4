"""What one job runs (in a submitit job process): a share of the cache extraction, or a share of
the cells. Kept free of module-level torch imports so that the thread count is set first."""
from __future__ import annotations

import fcntl
import os
import time
import traceback
from contextlib import contextmanager
from pathlib import Path


def quiet() -> None:
    """What run_downstream.py silences (care_superb.noise), in a job process."""
    from care_superb.noise import silence_known_noise

    silence_known_noise()


def _threads(threads: int) -> None:
    quiet()
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


def extract_share(share: list[tuple], shard_size: int, device: str, threads: int, reports: str) -> list[dict]:
    """share: [(batch, [(unit, cache folder, indices)]), ...] -> extraction timings per unit; the
    utterances done so far go to a file of this job's in the folder ``reports``."""
    _threads(threads)
    import submitit

    from care_superb.benchmark.extract import Report, extract

    name = submitit.JobEnvironment().job_id  # unique among the jobs, also across a cluster's nodes
    return extract(share, shard_size, device, report=Report(Path(reports) / f"{name}.txt"))


@contextmanager
def cell_lock(locks: Path, cell_id: str):
    """Held while a cell runs: a second runner (a restarted bench while a killed one's job still
    runs) waits for it, then finds the cell done."""
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / (cell_id.replace("/", "__") + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_cells(share: list, info: dict, settings: dict) -> list[dict]:
    """Run each cell of ``share`` that is not done yet; a failing cell records its error and the
    others go on. settings: engine, normalize, device, threads, retry_failed, locks, stores
    (cell id -> cache folder, cached engine)."""
    _threads(settings["threads"])
    from care_superb.benchmark import cells as cells_mod

    outcomes = []
    for cell in share:
        with cell_lock(Path(settings["locks"]), cell.id):
            if cell.done() or (cell.failed() and not settings["retry_failed"]):
                continue
            start = time.perf_counter()
            try:
                cells_mod.prepare_dir(cell, info)
                run_cell(cell, settings)
                outcomes.append({"cell": cell.id, "ok": True, "seconds": time.perf_counter() - start})
            except Exception:  # the cell's failure is its own: recorded, and the run goes on
                error = traceback.format_exc()
                cells_mod.write_error(cell, error, time.perf_counter() - start)
                outcomes.append({"cell": cell.id, "ok": False, "error": error})
    return outcomes


def run_cell(cell, settings: dict) -> Path:
    from care_superb.benchmark.cached_engine import train_argv
    from care_superb.benchmark.cells import CONFIG

    up = cell.upstream
    argv = train_argv(up.name, up.ckpt, up.model_config, cell.task, cell.path / CONFIG, cell.path, cell.seed,
                      settings["normalize"], settings["device"])
    if settings["engine"] == "s3prl":
        from care_superb.benchmark import s3prl_engine

        row = s3prl_engine.run(argv, cell.path, settings["device"], settings["threads"])
    else:
        from care_superb.benchmark import cached_engine
        from care_superb.benchmark.cache import FileHashes, Store

        store = Store(Path(settings["stores"][cell.id]))
        command = f"care-superb bench {settings['file']} (cell {cell.id}, engine cached)"
        row = cached_engine.run(argv, cell.path, store, FileHashes(Path(settings["cache"])), command,
                                settings["device"])
    if not row.is_file():
        raise RuntimeError(f"the evaluation wrote no result row at {row}")
    return row
