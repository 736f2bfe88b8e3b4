#!/usr/bin/env python
"""Both engines on the same cells, over seeds: how far apart their results are, beside the spread
that the seed itself makes.

One benchmark file, run twice by ``care-superb bench``: once with the cached engine, once with
``--engine s3prl`` (s3prl's ``run_downstream.py`` per cell, the upstream's forward at every step).
Upstreams: CARE tiny with random weights (one checkpoint, built once, read by both runs) and s3prl's
``fbank_no_cmvn``; tasks: synthetic EmoDB and CaFE (demo size); seeds 0-4; ``--steps`` steps at
``--lr``, dev every ``--eval-step``. Per upstream and task it prints the primary metric's mean and
standard deviation over seeds in each engine, the per-seed difference between the engines (mean
and largest, in points), how many test predictions agree, and in how many seeds dev-best was
picked at the same step. Both runs resume (cells already done are skipped), so the script can be
stopped and started again.

Synthetic corpora and random weights: the agreement of two engines, not results.

    python tools/engine_agreement.py [--seeds 0,1,2,3,4] [--steps 150] [--eval-step 15]
        [--lr 1e-3] [--jobs 2] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import yaml
from tabulate import tabulate

TASKS = ("emodb", "cafe")


def cell_results(output: Path) -> dict[str, dict]:
    """cell id -> primary metric, test predictions, dev-best step."""
    found = {}
    for path in sorted((output / "cells").rglob("result-test-dev-best.json")):
        row = json.loads(path.read_text())
        predictions = json.loads((path.parent / row["predictions"]).read_text())["predictions"]
        found[row["benchmark"]["cell"]] = {
            "label": row["benchmark"]["label"], "task": row["task"], "seed": row["seed"],
            "metric": row["primary_metric"], "value": row["metrics"][row["primary_metric"]],
            "pred": {p["key"]: json.dumps(p["pred"]) for p in predictions},
            "best_step": json.loads((path.parent / "dev-best.json").read_text())["step"]}
    return found


def mean_sd(values: list[float]) -> str:
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values) if len(values) > 1 else 0.0:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--eval-step", type=int, default=15)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workdir", default="result/engine-agreement")
    args = parser.parse_args()
    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)

    from care_superb.synth import synthesize
    from care_superb.upstream.baselines import baseline_init

    roots = {task: synthesize(task, work / "corpora" / task, seed=0, size="demo") for task in TASKS}
    care = work / "care-tiny-random.pt"
    if not care.is_file():
        baseline_init("care", "tiny", care, seed=0)
    runner = {"total_steps": args.steps, "eval_step": args.eval_step, "log_step": args.steps,
              "save_step": args.steps}
    outputs = {}
    for engine in ("cached", "s3prl"):
        outputs[engine] = work / engine
        file = work / f"{engine}.yaml"
        file.write_text(yaml.safe_dump({
            "name": f"engine-agreement-{engine}", "output": str(outputs[engine]), "engine": engine,
            "seeds": [int(s) for s in args.seeds.split(",")],
            "upstreams": [{"name": "care_local", "ckpt": str(care), "label": "CARE (tiny, random)"},
                          {"name": "fbank_no_cmvn", "label": "log-mel (fbank_no_cmvn)"}],
            # the paper's fixed schedule: one training of --steps at --lr per cell
            "downstream": {"schedule": "paper", "optimizer": {"lr": args.lr}, "runner": runner},
            "tasks": {task: {"root": str(root)} for task, root in roots.items()},
            "executor": {"kind": "local", "jobs": args.jobs, "threads_per_job": 1}}, sort_keys=False))
        with open(work / f"{engine}.log", "a") as log:
            print(f"[engine-agreement] care-superb bench {file} (log: {log.name})", flush=True)
            code = subprocess.run([sys.executable, "-m", "care_superb.cli", "bench", str(file)],
                                  stdout=log, stderr=subprocess.STDOUT).returncode
        if code != 0:
            sys.exit(f"care-superb bench {file} failed ({code}); see {work / f'{engine}.log'}; run this again to resume")

    cached, s3prl = cell_results(outputs["cached"]), cell_results(outputs["s3prl"])
    groups: dict[tuple, list] = {}
    for cell, theirs in s3prl.items():
        groups.setdefault((theirs["label"], theirs["task"]), []).append((theirs, cached[cell]))
    table, per_seed = [], []
    for (label, task), pairs in groups.items():
        diffs = [100 * abs(c["value"] - s["value"]) for s, c in pairs]
        agree = sum(c["pred"][k] == v for s, c in pairs for k, v in s["pred"].items())
        total = sum(len(s["pred"]) for s, _ in pairs)
        table.append([label, f"{task} ({pairs[0][0]['metric']})", len(pairs),
                      mean_sd([100 * s["value"] for s, _ in pairs]), mean_sd([100 * c["value"] for _, c in pairs]),
                      f"{statistics.mean(diffs):.2f} / {max(diffs):.2f}", f"{agree} / {total}",
                      f"{sum(s['best_step'] == c['best_step'] for s, c in pairs)} / {len(pairs)}"])
        per_seed.append([label, task] + [f"{100 * s['value']:.1f} / {100 * c['value']:.1f}"
                                         for s, c in sorted(pairs, key=lambda p: p[0]["seed"])])
    print(tabulate(table, headers=["upstream", "task (metric)", "seeds", "s3prl engine: mean ± sd (%)",
                                   "cached engine: mean ± sd (%)", "|difference| per seed: mean / max (points)",
                                   "test predictions agreeing", "same dev-best step"], tablefmt="github"))
    seeds = sorted({s["seed"] for s in s3prl.values()})
    print()
    print(tabulate(per_seed, headers=["upstream", "task"] + [f"seed {s}: s3prl / cached" for s in seeds],
                   tablefmt="github"))
    print(f"\n{args.steps} steps at lr {args.lr}, dev every {args.eval_step}; synthetic corpora (demo size), random "
          f"weights: the agreement of the two engines, not results")


if __name__ == "__main__":
    main()
