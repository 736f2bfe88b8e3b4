"""``care-superb bench FILE``: every upstream x task x fold/split seed x seed of a benchmark file."""
from __future__ import annotations

import signal
import sys

HELP = "run a benchmark file: every upstream x task x fold x seed, resumable, with a feature cache"


def add_arguments(parser) -> None:
    parser.add_argument("file", help="benchmark file (YAML), e.g. benchmark/configs/demo.yaml")
    parser.add_argument("--engine", choices=("cached", "s3prl"),
                        help="override the file's engine: cached (default: the upstream's forward once per "
                             "utterance) or s3prl (s3prl's runner per cell, the forward at every step)")
    parser.add_argument("--retry-failed", action="store_true", help="run again the cells that failed before")
    parser.add_argument("--check", action="store_true",
                        help="only check the file and the corpora, and list the cells; run nothing")


def run(args) -> int:
    from care_superb.benchmark.jobs import quiet

    quiet()
    # `kill`, a scheduler's SIGTERM and a closed terminal's SIGHUP stop the run and its jobs as Ctrl-C
    # does. SIGINT is handled even where it was ignored (a run started with `&` from a script): the
    # jobs then start with it handled too. The caller's handlers come back afterwards (a bench run
    # in-process, as the tests do, must not leave its handlers behind).
    signals = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    saved = {signum: signal.getsignal(signum) for signum in signals}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run(args)
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def _run(args) -> int:
    from care_superb.benchmark import spec
    from care_superb.benchmark.cache import CacheError

    try:
        bench = spec.load(args.file, engine=args.engine)
        if args.check:
            from care_superb.benchmark.cells import expand
            from care_superb.benchmark.run import build_random, plan

            cells = expand(build_random(bench))
            todo, _ = plan(bench, cells, args.retry_failed)
            print(f"{args.file}: valid; {len(cells)} cells, {len(todo)} to run")
            for task, cell in {c.task: c for c in cells}.items():
                print(f"  {task}: schedule {describe(cell.config)}")
            return 0
        from care_superb.benchmark.run import run_benchmark

        return run_benchmark(bench, retry_failed=args.retry_failed)
    except (spec.BenchmarkError, CacheError) as err:
        print(f"care-superb bench: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("care-superb bench: interrupted; finished cells and cached features are kept, run the same "
              "command to resume", file=sys.stderr)
        return 130


def describe(config: dict) -> str:
    """A cell config's resolved schedule in words (downstream/schedule.py)."""
    from care_superb.downstream.schedule import RELATIVE_PATIENCE

    plan, runner = config["schedule"], config.get("runner") or {}
    if plan["name"] == "paper":
        return f"paper: {runner.get('total_steps')} steps at lr {config['optimizer']['lr']:g}"
    return (f"converge: lr chosen on dev from {', '.join(f'{v:g}' for v in plan['lr_grid'])}; early stop after "
            f"max({plan['patience_steps']}, {RELATIVE_PATIENCE:.0%} of the last better dev score's step) steps without a "
            f"better one; at most "
            f"{plan['max_steps']} steps")


def _interrupt(signum, frame):
    raise KeyboardInterrupt
