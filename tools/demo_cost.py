#!/usr/bin/env python
"""What the demo (`bash scripts/demo.sh`) costs, stage by stage, in units that transfer between
machines: each stage's CPU seconds (every process it ran, all cores together) divided by the CPU
seconds of a fixed reference workload timed in the same run.

References (one thread, CPU seconds, the median of 5, before and after the demo):
- `python`: a pure-Python loop of 10 million additions (the figure issue 30 gives for a slow machine);
- `torch`: 200 float32 matrix products 512 x 512 x 512 (what the demo's forwards and heads are made of).

The demo runs from scratch: the corpora, the pre-training, both benchmarks and the leaderboard,
with an empty CARE_SUPERB_HOME (no cached transcripts). Stages are told apart by which command
scripts/demo.sh is running (and, inside `care-superb bench`, by its submitit jobs' folders), from
psutil samples of the process tree every 0.25 s. CPU seconds are used because the machine may be
shared: a stage's wall time grows with the load, its CPU time much less (cache sharing still
costs some, so a loaded run over-states). The wall seconds and the machine's load are printed
beside them; the quiet wall time is *estimated* as CPU / the parallelism the stage is built for
(2 processes, or 1), capped by nothing else.

    python tools/demo_cost.py --fresh          # deletes data/synthetic and the demo's result/ folders first
    python tools/demo_cost.py --references     # only the references: what the README's figures scale by
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil
from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]
DEMO_OUTPUTS = ["data/synthetic", "result/pretrain", "result/bench/demo", "result/bench/demo-whisper", "result/models"]
# stage name, how many processes it runs at once on a quiet 2-core machine
STAGES = {
    # side by side since issue 30: MSP-PODCAST and the pre-training on one core, the other corpora on the other
    "corpora and pre-training (synth, prepare meld; care-init, pretrain)": 2,
    "demo bench: planning, cache check": 1,
    "demo bench: feature extraction": 2,
    "demo bench: 72 cells": 2,
    "Whisper bench: planning, cache check": 1,
    "Whisper bench: extraction (encoder, transcription)": 2,
    "Whisper bench: cells": 2,
    "leaderboard": 1,
    "other (links, shell)": 1,
}


def python_reference() -> None:
    total = 0
    for i in range(10_000_000):
        total += i


def torch_reference() -> None:
    import torch

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(512, 512, generator=generator)
    b = torch.randn(512, 512, generator=generator)
    for _ in range(200):
        a = torch.mm(a, b) / 512 ** 0.5


def references(rounds: int = 5) -> dict[str, float]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    times = defaultdict(list)
    for _ in range(rounds):
        for name, work in (("python", python_reference), ("torch", torch_reference)):
            start = time.process_time()
            work()
            times[name].append(time.process_time() - start)
    torch.set_num_threads(threads)
    return {name: statistics.median(values) for name, values in times.items()}


def stage_of(shell: psutil.Process) -> str:
    """Which stage the demo script is in, from the commands it runs now."""
    try:
        children = shell.children()
        lines = [" ".join(c.cmdline()) for c in children]
        below = [" ".join(p.cmdline()) for c in children for p in c.children(recursive=True)]
    except psutil.Error:
        return "other (links, shell)"
    text, tree = " ".join(lines), " ".join(lines + below)
    if " bench " not in text and any(word in tree for word in (" synth ", " prepare meld", "care-init", " pretrain ")):
        return "corpora and pre-training (synth, prepare meld; care-init, pretrain)"
    if " bench " in text:
        which = "Whisper bench" if "whisper" in text else "demo bench"
        jobs = " ".join(below)
        if "logs/extract" in jobs:
            return f"{which}: feature extraction" if which == "demo bench" else \
                "Whisper bench: extraction (encoder, transcription)"
        if "logs/cells" in jobs:
            return "demo bench: 72 cells" if which == "demo bench" else "Whisper bench: cells"
        return f"{which}: planning, cache check"
    if " leaderboard " in text:
        return "leaderboard"
    return "other (links, shell)"


def tree_cpu(shell: psutil.Process) -> float:
    """CPU seconds of the whole tree so far: each live process's own and its reaped children's."""
    total = 0.0
    for p in [shell, *shell.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


def run_demo(log: Path, home: Path, progress: Path) -> tuple[dict, dict, float, list]:
    env = dict(os.environ, CARE_SUPERB_HOME=str(home))
    cpu, wall, loads = defaultdict(float), defaultdict(float), []
    with open(log, "w") as out:
        demo = subprocess.Popen(["bash", "scripts/demo.sh"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        shell = psutil.Process(demo.pid)
        start = last_t = time.perf_counter()
        last_cpu, next_load, current = 0.0, start, None
        while demo.poll() is None:
            time.sleep(0.25)
            stage, now = stage_of(shell), time.perf_counter()
            if stage != current:  # what is measured so far, kept should the run be cut short
                current = stage
                progress.write_text(json.dumps({"cpu": cpu, "wall": wall, "loads": loads, "now": stage}, indent=1))
            used = tree_cpu(shell)
            if used >= last_cpu:  # a sample taken while a process was being reaped can dip: skip it
                cpu[stage] += used - last_cpu
                last_cpu = used
            wall[stage] += now - last_t
            last_t = now
            if now >= next_load:
                loads.append(os.getloadavg()[0])
                next_load += 10
    total = time.perf_counter() - start
    if demo.returncode != 0:
        raise SystemExit(f"the demo failed ({demo.returncode}); its log: {log}")
    return cpu, wall, total, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help=f"delete the demo's outputs first: {', '.join(DEMO_OUTPUTS)}")
    parser.add_argument("--log", default="result/demo_cost.log", help="the demo's output; beside it "
                        "<log>.json: the stages measured so far")
    parser.add_argument("--references", action="store_true",
                        help="only time the two references on this machine (a few seconds), run no demo")
    args = parser.parse_args()
    if args.references:
        ref = references()
        print(f"python reference {ref['python']:.2f} s, torch reference {ref['torch']:.2f} s (CPU, median of 5)")
        return
    present = [d for d in DEMO_OUTPUTS if (REPO / d).exists()]
    if present and not args.fresh:
        raise SystemExit(f"the demo's outputs exist ({', '.join(present)}): it would resume, not run from "
                         f"scratch; pass --fresh to delete them first")
    for d in present:
        shutil.rmtree(REPO / d)
    before = references()
    print(f"references before: python {before['python']:.2f} s, torch {before['torch']:.2f} s (CPU, median of 5)",
          flush=True)
    log = REPO / args.log
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        cpu, wall, total, loads = run_demo(log, Path(home), log.with_suffix(".json"))
    after = references()
    ref = {name: (before[name] + after[name]) / 2 for name in before}
    print(f"references after: python {after['python']:.2f} s, torch {after['torch']:.2f} s")
    rows, quiet = [], 0.0
    for stage, parallel in STAGES.items():
        if stage not in wall:
            continue
        estimate = cpu[stage] / parallel
        quiet += estimate
        rows.append([stage, f"{cpu[stage]:.0f}", f"{cpu[stage] / ref['torch']:.0f}", f"{cpu[stage] / ref['python']:.0f}",
                     f"{wall[stage]:.0f}", f"{cpu[stage] / max(wall[stage], 1e-9):.2f}", parallel, f"{estimate:.0f}"])
    all_cpu = sum(cpu.values())
    rows.append(["all", f"{all_cpu:.0f}", f"{all_cpu / ref['torch']:.0f}", f"{all_cpu / ref['python']:.0f}",
                 f"{total:.0f}", f"{all_cpu / total:.2f}", "", f"{quiet:.0f}"])
    print(tabulate(rows, headers=["stage", "CPU s", "/ torch ref", "/ python ref", "wall s", "CPU / wall",
                                  "processes", "quiet wall s (estimated)"], tablefmt="github"))
    print(f"load average during the run (1 min, every 10 s): median {statistics.median(loads):.1f}, "
          f"max {max(loads):.1f}, on {os.cpu_count()} CPUs")
    for name in ref:
        print(f"a machine where the {name} reference takes R s: about {quiet / ref[name]:.0f} x R s "
              f"for the demo, quiet (estimated)")


if __name__ == "__main__":
    main()
