"""What one job runs (in a submitit job process): a share of the cache extraction, or a share of
the cells. Kept free of module-level torch imports so that the thread count is set first."""
from __future__ import annotations

import fcntl
import json
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
    """The cell's training and evaluation; under the converge schedule its learning rate is chosen
    first, on dev (``search_lr``)."""
    from care_superb.benchmark.cells import CONFIG

    plan = cell.config.get("schedule") or {"name": "paper"}
    if plan["name"] == "converge":
        import yaml

        from care_superb.downstream.schedule import with_lr

        lr = search_lr(cell, settings, plan)
        (cell.path / CONFIG).write_text(yaml.safe_dump(with_lr(cell.config, lr), sort_keys=False))
    row = train_and_evaluate(cell, settings, cell.path, evaluate=True)
    if not row.is_file():
        raise RuntimeError(f"the evaluation wrote no result row at {row}")
    return row


def train_and_evaluate(cell, settings: dict, expdir: Path, evaluate: bool) -> Path:
    """One s3prl training of the cell's task in ``expdir`` (its ``bench-config.yaml``) by the
    benchmark's engine; with ``evaluate``, dev-best on test. What it wrote last."""
    from care_superb.benchmark.cached_engine import train_argv
    from care_superb.benchmark.cells import CONFIG

    up = cell.upstream
    argv = train_argv(up.name, up.ckpt, up.model_config, cell.task, expdir / CONFIG, expdir, cell.seed,
                      settings["normalize"], settings["device"])
    if settings["engine"] == "s3prl":
        from care_superb.benchmark import s3prl_engine

        return s3prl_engine.run(argv, expdir, settings["device"], settings["threads"], evaluate=evaluate)
    from care_superb.benchmark import cached_engine
    from care_superb.benchmark.cache import FileHashes, Store

    store = Store(Path(settings["stores"][cell.id]))
    command = f"care-superb bench {settings['file']} (cell {cell.id}, engine cached)"
    return cached_engine.run(argv, expdir, store, FileHashes(Path(settings["cache"])), command, settings["device"],
                             evaluate=evaluate)


def search_lr(cell, settings: dict, plan: dict) -> float:
    """The converge schedule's learning rate: one training per rate of the grid in
    ``<cell>/lr-search/lr-<rate>/``, each stopped on dev or at the cap, never evaluated on test; the
    rate of the best dev score (``schedule.choose``). Writes ``<cell>/lr-search.json``, which the
    row copies; the runs' checkpoints are removed (their curves and dev-best records stay)."""
    import yaml

    from care_superb.benchmark.cells import CONFIG
    from care_superb.downstream import convergence, results
    from care_superb.downstream.registry import TASKS
    from care_superb.downstream.schedule import choose, with_lr

    objective = TASKS[cell.task].objective(**(cell.config["downstream_expert"].get("objective") or {}))
    runs = []
    for lr in plan["lr_grid"]:
        folder = cell.path / "lr-search" / f"lr-{lr:g}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG).write_text(yaml.safe_dump(with_lr(cell.config, lr), sort_keys=False))
        train_and_evaluate(cell, settings, folder, evaluate=False)
        best = json.loads((folder / "dev-best.json").read_text())
        curve = convergence.read_curve(folder)
        stop = curve.get("stop")
        runs.append({"lr": lr, "dev_score": best["metrics"][objective.selection], "dev_loss": best["metrics"]["loss"],
                     "dev_best_step": best["step"], "steps_trained": stop["step"] if stop else plan["max_steps"],
                     "stopped": stop["reason"] if stop else "max_steps"})
        for ckpt in folder.glob("*.ckpt"):
            ckpt.unlink()
    chosen = choose(runs)
    results.write_json(cell.path / "lr-search.json", {"metric": f"dev {objective.selection}", "runs": runs,
                                                     "chosen": chosen["lr"]})
    print(f"[bench] {cell.id}: lr {chosen['lr']:g} chosen on dev ({objective.selection} "
          + ", ".join(f"{r['lr']:g}: {r['dev_score']:.4f}" for r in runs) + ")", flush=True)
    return chosen["lr"]
