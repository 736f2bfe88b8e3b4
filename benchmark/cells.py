"""Cells: one upstream x task x fold x split seed x training seed, each an s3prl experiment folder.

A cell's folder holds what ``run_downstream.py`` would write there (``dev-best.ckpt``,
``result-test-dev-best.json``, its predictions, ``split.json``, TensorBoard events, the expert's
``curve.json``), plus what the runner adds: ``bench-config.yaml`` (the task config the cell trains
with, the same for every upstream but for the learning rate the converge schedule chose),
``benchmark.json`` (label, category, cell id, file: the result row copies it), under converge
``lr-search.json`` and ``lr-search/lr-<rate>/`` (one training per rate of the grid, dev only; their
checkpoints removed once chosen), with the cached engine ``probe.json`` and, for a cell that
failed, ``bench-error.json``. A cell is done when its result row exists.
"""
from __future__ import annotations

import copy
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from care_superb.benchmark.spec import Benchmark, UpstreamChoice, merge, slugify, task_config
from care_superb.downstream import results, schedule

ROW = "result-test-dev-best.json"
ERROR = "bench-error.json"
CONFIG = "bench-config.yaml"


@dataclass(frozen=True)
class Cell:
    id: str  # <label>/<task>/<variant>/seed<seed>
    label: str
    category: str | None
    task: str
    fold: object
    split_seed: object
    seed: int
    upstream: UpstreamChoice
    dir: str
    config: dict  # the task config this cell trains with
    dataset: str | None = None  # the corpus of a task over several (emobox)

    @property
    def path(self) -> Path:
        return Path(self.dir)

    @property
    def row(self) -> Path:
        return self.path / ROW

    @property
    def error(self) -> Path:
        return self.path / ERROR

    def done(self) -> bool:
        return self.row.is_file()

    def failed(self) -> bool:
        return self.error.is_file() and not self.done()

    def cost(self) -> int:
        """A rough size of the cell's training, for dividing cells among jobs (under converge: the
        learning-rate search's runs and the final one, each at most the cap)."""
        runner = self.config.get("runner") or {}
        runs = 1 + len((self.config.get("schedule") or {}).get("lr_grid") or [])
        return runs * int(runner.get("total_steps", 1))


def variant(fold, split_seed, dataset=None) -> str:
    """The cell folder's name for its test set: ``fold1``, ``split2`` (split seed 2), ``emodb-fold1``
    (a corpus of EmoBox), ``default``."""
    parts = (([str(dataset)] if dataset is not None else []) + ([f"fold{fold}"] if fold is not None else [])
             + ([f"split{split_seed}"] if split_seed is not None else []))
    return "-".join(parts) or "default"


def expand(bench: Benchmark) -> list[Cell]:
    """Every cell of the file, in a stable order."""
    cells = []
    for up in bench.upstreams:
        for task in bench.tasks:
            # The schedule is resolved here, before s3prl sees the config (downstream/schedule.py).
            base = schedule.resolve(merge(merge(task_config(task.name), bench.downstream), task.downstream))
            for dataset, fold in task.test_sets():
                for split_seed in task.split_seeds:
                    datarc = dict(task.datarc)
                    if task.root is not None:
                        datarc["root"] = task.root
                    if dataset is not None:
                        datarc["dataset"] = dataset
                    if fold is not None:
                        datarc["fold"] = fold
                    if split_seed is not None:
                        datarc["split_seed"] = split_seed
                    config = absolute_paths(merge(base, {"downstream_expert": {"datarc": datarc}}))
                    for seed in bench.seeds:
                        cid = f"{slugify(up.label)}/{task.name}/{variant(fold, split_seed, dataset)}/seed{seed}"
                        cells.append(Cell(cid, up.label, up.category, task.name, fold, split_seed, seed,
                                          up.for_task(task.name), str(bench.output / "cells" / cid), config, dataset))
    return cells


def about(bench: Benchmark) -> dict:
    """What every cell's record says about the benchmark file (plain values, for the jobs)."""
    return {"file": str(bench.path), "name": bench.name, "engine": bench.engine}


def absolute_paths(config: dict) -> dict:
    """The corpus paths of a task config made absolute (relative ones are read from the current
    directory, as s3prl does), since cells run in other processes and folders."""
    config = copy.deepcopy(config)
    datarc = config["downstream_expert"]["datarc"]
    datarc["root"] = str(Path(datarc["root"]).expanduser().absolute())
    corpus = datarc.get("corpus") or {}
    if isinstance(corpus.get("cache"), str):
        corpus["cache"] = str(Path(corpus["cache"]).expanduser().absolute())
    return config


def record(cell: Cell, info: dict) -> dict:
    """``benchmark`` of the cell's result row: what the leaderboard groups and labels by."""
    return {"label": cell.label, "category": cell.category, "cell": cell.id, **info,
            "fold": cell.fold, "split_seed": cell.split_seed, **({"dataset": cell.dataset} if cell.dataset else {}),
            "random_weights_built": asdict(cell.upstream.random) if cell.upstream.random else None}


def prepare_dir(cell: Cell, info: dict) -> None:
    """A clean folder for a cell that starts (what a killed attempt left is removed)."""
    if cell.path.exists():
        shutil.rmtree(cell.path)
    cell.path.mkdir(parents=True)
    (cell.path / CONFIG).write_text(yaml.safe_dump(cell.config, sort_keys=False))
    results.write_json(cell.path / results.BENCHMARK_RECORD, record(cell, info))


def write_error(cell: Cell, error: str, seconds: float) -> None:
    results.write_json(cell.error, {"cell": cell.id, "error": error, "seconds": seconds, "created": results.now()})


def read_error(cell: Cell) -> str:
    try:
        return json.loads(cell.error.read_text()).get("error", "")
    except (OSError, ValueError):
        return "(unreadable bench-error.json)"


