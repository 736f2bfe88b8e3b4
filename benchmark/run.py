"""``care-superb bench FILE``: plan the cells, fill the feature cache, run the cells, summarise.

1. The file is checked whole (``spec.load``); random-weight upstreams are built once
   (``baseline_init``) under ``<cache>/checkpoints``; every cell's corpus is parsed and split as its
   expert will do it, so a missing corpus stops the run before anything trains.
2. Cached engine: what the cache lacks is extracted, sharded across jobs (``extract.py``).
3. The cells not done yet run in jobs (``jobs.py``); each writes its result row when it ends, so
   a killed run loses only the cells in flight and a new run skips the finished ones. A failed
   cell records its error (``bench-error.json``) and is skipped until ``--retry-failed``.
4. A summary table of every finished cell, printed and written to ``<output>/summary.*``.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import torch
from tqdm import tqdm

from care_superb.benchmark import cells as cells_mod
from care_superb.benchmark import executor as ex
from care_superb.benchmark.cache import CacheError, FileHashes, Store, Unit
from care_superb.benchmark.spec import Benchmark, BenchmarkError
from care_superb.benchmark.summary import summary

REPO_CONFIGS = Path(__file__).resolve().parent / "configs"


def device_of(bench: Benchmark) -> str:
    return bench.device or ("cuda" if torch.cuda.is_available() else "cpu")


# -- 1. plan ---------------------------------------------------------------------------------------
def build_random(bench: Benchmark) -> Benchmark:
    """Random-weight entries get their checkpoint, built once under ``<cache>/checkpoints``."""
    from care_superb.upstream.baselines import baseline_init

    made: dict = {}

    def resolve(choice):
        if choice.random is None:
            return choice
        r = choice.random
        if r not in made:
            # Built into an empty folder, renamed when complete: a killed build leaves no checkpoint.
            out = bench.cache / "checkpoints" / f"{r.family}-{r.size}-seed{r.seed}"
            record = out / "built.json"
            if not record.is_file():
                tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir(parents=True)
                built = Path(baseline_init(r.family, r.size, tmp, r.seed))
                (tmp / "built.json").write_text(json.dumps({"path": str(built.relative_to(tmp))}))
                shutil.rmtree(out, ignore_errors=True)
                os.replace(tmp, out)
                print(f"[bench] built {r.family} ({r.size}, seed {r.seed}) with random weights in {out}")
            made[r] = str(out / json.loads(record.read_text())["path"])
        return replace(choice, ckpt=made[r])

    for up in bench.upstreams:
        up.default = resolve(up.default)
        up.per_task = {task: resolve(choice) for task, choice in up.per_task.items()}
    return bench


def task_utterances(cell: cells_mod.Cell, memo: dict) -> list:
    """The utterances the cell's expert will use (all three splits), parsed and split as it does."""
    from care_superb.downstream.expert import task_splits

    conf = cell.config["downstream_expert"]
    key = json.dumps([cell.task, conf["datarc"], conf.get("objective")], sort_keys=True, default=str)
    if key not in memo:
        memo[key] = [u for split in task_splits(cell.task, conf).splits.values() for u in split]
    return memo[key]


def plan(bench: Benchmark, cells: list, retry_failed: bool) -> tuple[list, dict]:
    """The cells to run, and for each the utterances it uses. Every problem stops the run here."""
    from care_superb.benchmark.cached_engine import check_config, check_upstream

    todo = [c for c in cells if not c.done() and (retry_failed or not c.failed())]
    problems, memo, used = [], {}, {}
    if bench.engine == "cached":
        for task in {c.task: c for c in todo}.values():
            problems += check_config(task.config, f"{bench.path}: tasks.{task.task}")
        for name in sorted({c.upstream.name for c in todo}):
            problems += check_upstream(name, f"{bench.path}: upstreams")
    for cell in todo:
        try:
            used[cell.id] = task_utterances(cell, memo)
        except Exception as err:  # the parser's message names the corpus path and the fix
            where = (f"tasks.{cell.task}" + (f" ({cell.dataset})" if cell.dataset else "")
                     + (f" (fold {cell.fold})" if cell.fold is not None else ""))
            message = f"{bench.path}: {where}: {err}"
            if message not in problems:
                problems.append(message)
    if problems:
        raise BenchmarkError(f"{len(problems)} problem(s) before running:\n- " + "\n- ".join(dict.fromkeys(problems)))
    return todo, used


# -- 2. cache ------------------------------------------------------------------------------------
def fill_cache(bench: Benchmark, todo: list, used: dict, hashes: FileHashes) -> dict[str, str]:
    """Extract what the cache lacks for the cells to run; cell id -> its cache folder."""
    from care_superb.benchmark import jobs
    from care_superb.benchmark.extract import batches, items_for, reported
    from care_superb.downstream.registry import TASKS
    from care_superb.upstream.registry import task_language_readers

    units: dict[Unit, list] = defaultdict(list)
    stores: dict[str, str] = {}
    folders: dict[Unit, Path] = {}
    readers = task_language_readers()  # asr_text: one unit per task language
    for cell in todo:
        up = cell.upstream
        datarc = cell.config["downstream_expert"]["datarc"]
        language = TASKS[cell.task].language(datarc) if up.name in readers else None
        unit = Unit(up.name, up.ckpt, up.model_config, bench.normalize, language)
        if unit not in folders:
            folders[unit] = unit.folder(bench.cache, hashes)
        stores[cell.id] = str(folders[unit])
        units[unit] += items_for(used[cell.id], datarc, hashes)
    hashes.save()

    # Batches over what any unit lacks, so that each audio file is read once for all of them.
    lacking: dict[Unit, set] = {}
    verified: dict[Unit, set] = {}  # shards checked against their checksums in this run
    for unit, items in units.items():
        present = Store(folders[unit]).scan()
        verified[unit] = {shard.name for shard in present.values()}
        wanted = {it.uid for it in items}
        lacking[unit] = wanted - set(present)
        print(f"[bench] cache {unit.name} ({folders[unit].name}): {len(wanted) - len(lacking[unit])} of "
              f"{len(wanted)} utterances cached")
    missing = {it.uid: it for unit, items in units.items() for it in items if it.uid in lacking[unit]}
    work = []
    for batch in batches(list(missing.values()), bench.extraction["batch_size"]):
        needs = [(unit, str(folders[unit]), [i for i, it in enumerate(batch) if it.uid in lacking[unit]])
                 for unit in units]
        work.append((batch, [need for need in needs if need[2]]))
    if work:
        shares = ex.divide(work, bench.executor.jobs, lambda w: sum(it.samples for it in w[0]) * len(w[1]))
        n = sum(len(need[2]) for _, needs in work for need in needs)
        executor = ex.make(bench.executor, bench.output / "logs" / "extract")
        reports = bench.output / "logs" / "extract" / f"progress-{os.getpid()}"  # the jobs' counts, for the bar
        try:
            with ex.started(executor, jobs.extract_share, shares, bench.extraction["shard_size"], device_of(bench),
                            bench.executor.threads_per_job, str(reports)) as submitted, \
                    tqdm(total=n, desc="extracting features", unit="utt", dynamic_ncols=True) as bar:
                problems = ex.wait(submitted, bar, lambda: reported(reports))
        finally:
            shutil.rmtree(reports, ignore_errors=True)
        if problems:
            raise CacheError("feature extraction failed:\n" + "\n".join(problems) +
                             "\nRun the same command again: what was extracted is kept.")
        totals: dict[str, dict] = {}
        for result in (r for job in submitted for r in job.result()):
            entry = totals.setdefault(result["unit"], {"utterances": 0, "forwards": 0, "audio_seconds": 0.0,
                                                       "forward_seconds": 0.0})
            for key in entry:
                entry[key] += result[key]
        for name, entry in totals.items():
            print(f"[bench] extracted {entry['utterances']} utterances ({entry['audio_seconds']:.0f} s of audio) with "
                  f"{name} in batches of {entry['utterances'] / max(entry['forwards'], 1):.1f} on average: "
                  f"{entry['audio_seconds'] / max(entry['forward_seconds'], 1e-9):.0f} s of audio per second of its "
                  f"forward")
    for unit, folder in folders.items():
        Store(folder).scan(verified[unit], quiet=True)  # checks the new shards, indexes all for the cells
        size, count = Store(folder).size()
        meta = Store(folder).meta
        if count:
            print(f"[bench] cache {unit.name}: {count} utterances, {size / 2**20:.1f} MiB, "
                  f"{size / count / 1024:.1f} KiB per utterance ({meta.get('layers')} layers x {meta.get('dim')} float32)")
    return stores


# -- 3. cells --------------------------------------------------------------------------------------
def run_cells(bench: Benchmark, todo: list, stores: dict, retry_failed: bool) -> list[str]:
    from care_superb.benchmark import jobs

    if not todo:
        return []
    settings = {"engine": bench.engine, "normalize": bench.normalize, "device": device_of(bench),
                "threads": bench.executor.threads_per_job, "retry_failed": retry_failed,
                "locks": str(bench.output / "locks"), "stores": stores, "file": str(bench.path),
                "cache": str(bench.cache)}
    shares = ex.divide(todo, bench.executor.jobs, lambda c: c.cost())
    executor = ex.make(bench.executor, bench.output / "logs" / "cells")
    started = time.time()

    def finished() -> int:
        return sum(1 for c in todo if c.done() or (c.error.is_file() and c.error.stat().st_mtime >= started))

    with ex.started(executor, jobs.run_cells, shares, cells_mod.about(bench), settings) as submitted:
        print(f"[bench] {len(todo)} cells in {len(shares)} {bench.executor.kind} jobs "
              f"(logs: {bench.output / 'logs' / 'cells'})")
        with tqdm(total=len(todo), desc="cells", unit="cell", dynamic_ncols=True) as bar:
            return ex.wait(submitted, bar, finished)


def run_benchmark(bench: Benchmark, retry_failed: bool = False) -> int:
    from care_superb.plug import plug

    plug()
    bench = build_random(bench)
    cells = cells_mod.expand(bench)
    done = sum(c.done() for c in cells)
    failed = sum(c.failed() for c in cells)
    print(f"[bench] {bench.path}: {len(bench.upstreams)} upstreams x {len(bench.tasks)} tasks -> {len(cells)} cells "
          f"({done} done, {failed} failed{'' if retry_failed or not failed else ', skipped: --retry-failed reruns them'}); "
          f"engine {bench.engine}, output {bench.output}")
    todo, used = plan(bench, cells, retry_failed)
    hashes = FileHashes(bench.cache)
    stores = fill_cache(bench, todo, used, hashes) if bench.engine == "cached" and todo else {}
    problems = run_cells(bench, todo, stores, retry_failed)
    text, n_failed = summary(bench, cells)
    print(text)
    for problem in problems:
        print(f"[bench] {problem}", file=sys.stderr)
    return 1 if (n_failed or problems) else 0
