#!/usr/bin/env python
"""One cell (synthetic EmoDB) through both engines in one process: the wall-time ratio over the
task's full schedule, and the difference in test weighted F1.

- cached engine: measured over the full schedule (runner.total_steps of downstream/emodb/config.yaml,
  dev every eval_step): extracting every utterance once, training, `-m evaluate` on dev-best.ckpt.
- s3prl engine (s3prl's Runner with the upstream's forward at every step): at the paper's sizes
  the full schedule takes hours on a CPU, so it is MEASURED over --steps training steps with two
  dev evaluations (each timed) plus the test evaluation, and EXTRAPOLATED to the full schedule as
  setup + total_steps x (seconds per step) + evaluations x (seconds per dev evaluation) + test.
- weighted F1: both engines train the same --steps schedule with the same seed (so from the same
  initial head over the same batches), then evaluate dev-best on test; the difference is printed
  in points. The cached engine's full-schedule F1 is
  printed beside it (the s3prl engine's is not measured: see above).

Random weights at the paper's sizes (`baseline_init`), synthetic corpus: costs and agreement,
not results. One CPU thread by default.

    python tools/engine_speed.py [--families care,wavlm] [--size base] [--steps 8] [--threads 1]
        [--corpus DIR] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml
from tabulate import tabulate

from speed_setup import READERS, add_common_arguments, prepare  # tools/speed_setup.py, beside this script


def timed(function):
    start = time.perf_counter()
    out = function()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="s3prl-engine training steps measured (even)")
    add_common_arguments(parser)
    args = parser.parse_args()
    work, root = prepare(args, "engine-speed-")

    from s3prl.downstream.runner import Runner

    from care_superb.benchmark import cached_engine
    from care_superb.benchmark.cache import FileHashes, Store, Unit
    from care_superb.benchmark.cells import absolute_paths
    from care_superb.benchmark.extract import batches, extract, items_for
    from care_superb.benchmark.spec import merge, task_config
    from care_superb.downstream.expert import task_splits
    from care_superb.upstream.baselines import baseline_init

    full = absolute_paths(merge(task_config("emodb"), {"downstream_expert": {"datarc": {"root": str(root)}}}))
    total, every = full["runner"]["total_steps"], full["runner"]["eval_step"]
    short = merge(full, {"runner": {"total_steps": args.steps, "eval_step": args.steps // 2,
                                    "save_step": args.steps, "log_step": args.steps}})
    paths = {}
    for name, config in (("full", full), ("short", short)):
        paths[name] = work / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(config))
    datarc = full["downstream_expert"]["datarc"]
    used = [u for split in task_splits("emodb", full["downstream_expert"]).splits.values() for u in split]

    def f1(expdir: Path) -> float:
        return json.loads((expdir / "result-test-dev-best.json").read_text())["metrics"]["weighted_f1"]

    def evaluate(expdir: Path, runner_class, *extra):
        a, c = cached_engine.s3prl_args(["-m", "evaluate", "-e", str(expdir / "dev-best.ckpt"), "--device", "cpu"])
        cached_engine.seed_everything(a.seed)
        runner_class(a, c, *extra).evaluate()

    table = []
    for family in args.families.split(","):
        name = READERS[family]
        ckpt = str(baseline_init(family, args.size, work / f"{family}-{args.size}", 0))
        CachedRunner = cached_engine._runner_class()

        def argv(config: str, expdir: Path):
            return cached_engine.train_argv(name, ckpt, None, "emodb", paths[config], expdir, 0, False, "cpu")

        # -- cached engine, full schedule, from an empty cache ----------------------------------
        hashes = FileHashes(work / family / "cache")
        unit = Unit(name, ckpt, None, False)
        store = Store(unit.folder(work / family / "cache", hashes))
        start = time.perf_counter()
        items = items_for(used, datarc, hashes)
        extract([(b, [(unit, str(store.folder), list(range(len(b))))]) for b in batches(items, 8)], 128,
                progress=False)
        extraction = time.perf_counter() - start
        expdir = work / family / "cached-full"
        a, c = cached_engine.s3prl_args(argv("full", expdir))
        cached_engine.seed_everything(0)
        CachedRunner(a, c, store, hashes, "engine_speed").train()
        evaluate(expdir, CachedRunner, store, hashes, "engine_speed")
        cached_full = time.perf_counter() - start
        cached_full_f1 = f1(expdir)

        # -- s3prl engine, --steps steps, and the cached engine on the same steps --------------
        s3prl_dir, cached_dir = work / family / "s3prl-short", work / family / "cached-short"
        a, c = cached_engine.s3prl_args(argv("short", s3prl_dir))
        cached_engine.seed_everything(0)
        reference, setup = timed(lambda: Runner(a, c))
        a, c = cached_engine.s3prl_args(argv("short", cached_dir))
        cached_engine.seed_everything(0)
        cached = CachedRunner(a, c, store, hashes, "engine_speed")
        evaluations = []  # the dev evaluations inside training, timed one by one
        evaluate_dev = reference.evaluate

        def timed_evaluate(*a, **k):
            out, seconds = timed(lambda: evaluate_dev(*a, **k))
            evaluations.append(seconds)
            return out

        reference.evaluate = timed_evaluate
        _, trained = timed(reference.train)
        _, test = timed(lambda: evaluate(s3prl_dir, Runner))
        dev = sum(evaluations) / len(evaluations)
        per_step = (trained - sum(evaluations)) / args.steps
        s3prl_full = setup + total * per_step + (total // every) * dev + test
        cached.train()
        evaluate(cached_dir, CachedRunner, store, hashes, "engine_speed")
        table.append([f"{family} ({args.size}, random)", name, f"{extraction:.0f}", f"{cached_full:.0f}",
                      f"{per_step:.1f} / {dev:.0f} / {test:.0f}", f"{s3prl_full:.0f}", f"{s3prl_full / cached_full:.0f}x",
                      f"{100 * f1(s3prl_dir):.1f} / {100 * f1(cached_dir):.1f} ({100 * (f1(cached_dir) - f1(s3prl_dir)):+.2f})",
                      f"{100 * cached_full_f1:.1f}"])
    print(tabulate(table, headers=[
        "upstream", "-u", "cached: extraction s", f"cached: full schedule s ({total} steps)",
        "s3prl: s per step / dev eval / test (measured)", "s3prl: full schedule s (extrapolated)", "ratio",
        f"test weighted F1 after {args.steps} steps, s3prl / cached (diff, points)", "cached: F1 full schedule"],
        tablefmt="github"))
    print(f"\nsynthetic EmoDB ({len(used)} utterances), random weights, {args.threads} thread(s); the s3prl "
          f"engine's full schedule is extrapolated from {args.steps} measured steps, not run")


if __name__ == "__main__":
    main()
