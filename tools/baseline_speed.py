#!/usr/bin/env python
"""Every baseline at the paper's size with random weights: parameters, and the forward time of a
5 s utterance relative to WavLM-base measured in the same run.

Each checkpoint is written by its random builder (``care-superb baseline-init FAMILY --size base``)
and loaded through its ``-u`` name exactly as s3prl's runner loads it; the forward is the
upstream's whole forward (all hidden states), batch 1. Every round times WavLM-base and then each
other baseline once, alternating, and the median over rounds is reported, so that a busy machine
slows all of them alike; the ratio is what to read, not the seconds. One CPU thread by default.

    python tools/baseline_speed.py [--seconds 5] [--repeats 5] [--threads 1] [--device cpu|cuda]
        [--workdir DIR] [--only wavlm,sonar,...] [--json results.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from tabulate import tabulate

from care_superb.upstream import hub_entries
from care_superb.upstream.baselines import baseline_init, random_checkpoints

# family -> (the -u name that reads it, parameters that feed no hidden state: pre-training or
# pooling), as each upstream folder's RandomCheckpoint declares; families with a base size only
BASELINES = {family: (spec.reader, spec.not_in_hidden_states)
             for family, spec in random_checkpoints().items() if "base" in spec.sizes}
REFERENCE = "wavlm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workdir", help="where the base checkpoints go (reused when present); default: a temporary folder")
    parser.add_argument("--only", help="comma-separated families (WavLM-base always runs as the reference)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    families = [REFERENCE] + [f for f in (args.only.split(",") if args.only else BASELINES) if f != REFERENCE]
    unknown = set(families) - set(BASELINES)
    if unknown:
        parser.error(f"unknown families {sorted(unknown)}; choose from {', '.join(BASELINES)}")

    temporary = None if args.workdir else tempfile.TemporaryDirectory(prefix="baseline-speed-")
    workdir = Path(args.workdir or temporary.name)
    entries = hub_entries()
    upstreams, rows = {}, {}
    for family in families:
        name, unused = BASELINES[family]
        written = workdir / f"{family}-base.path"  # what the builder wrote (a file or a folder), for reuse
        start = time.perf_counter()
        if written.is_file():
            path = Path(written.read_text())
        else:
            path = baseline_init(family, "base", workdir / f"{family}-base", seed=0)
            written.write_text(str(path))
        upstream = entries[name](ckpt=str(path)).to(args.device)
        total = sum(p.numel() for p in upstream.parameters())
        feeding = sum(p.numel() for n, p in upstream.named_parameters() if not n.startswith(unused))
        upstreams[family] = upstream
        rows[family] = {"upstream": name, "params_M": total / 1e6, "params_hidden_states_M": feeding / 1e6,
                        "random_weights": upstream.provenance["random_weights"], "times": []}
        print(f"[{family}] {path} loaded through -u {name} in {time.perf_counter() - start:.1f} s", flush=True)

    wav = torch.randn(int(args.seconds * 16000), device=args.device)

    def timed(upstream) -> float:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        upstream([wav])
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    with torch.inference_mode():
        for upstream in upstreams.values():
            timed(upstream)  # warm-up
        for round_ in range(args.repeats):
            for family in families:
                rows[family]["times"].append(timed(upstreams[family]))
            print(f"round {round_ + 1}/{args.repeats} done", flush=True)

    reference = statistics.median(rows[REFERENCE]["times"])
    table = []
    for family in families:
        row = rows[family]
        row["median_s"] = statistics.median(row["times"])
        row["relative_to_wavlm_base"] = row["median_s"] / reference
        with torch.inference_mode():
            states = upstreams[family]([wav])["hidden_states"]
        row["hidden_states"] = f"{len(states)} x {states[0].shape[-1]}"
        table.append([family, row["upstream"], f"{row['params_M']:.1f}M", f"{row['params_hidden_states_M']:.1f}M",
                      row["hidden_states"], f"{row['median_s']:.3f}", f"{row['relative_to_wavlm_base']:.2f}"])
    print(f"\ndevice {args.device}, {args.threads} thread(s), {args.seconds:g} s input, batch 1, median of "
          f"{args.repeats}; base sizes, RANDOM weights (never trained)")
    print(tabulate(table, headers=["baseline", "-u", "params", "params feeding hidden states", "hidden states",
                                   "forward s", "/ WavLM-base"], disable_numparse=True))
    if args.json:
        Path(args.json).write_text(json.dumps({"device": args.device, "threads": args.threads,
                                               "seconds": args.seconds, "repeats": args.repeats,
                                               "baselines": rows}, indent=2) + "\n")
    if temporary:
        temporary.cleanup()


if __name__ == "__main__":
    main()
