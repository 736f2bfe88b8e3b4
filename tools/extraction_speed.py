#!/usr/bin/env python
"""Feature-cache extraction in padded batches against one utterance at a time, same run.

The cache batches utterances of similar length (sorted, ``--batch-size`` at a time, padded). On a
corpus whose lengths vary at the sample (synthetic EmoDB: 1.35-7.0 s, 278 distinct lengths in 280
files; real EmoDB 1.2-8.9 s), this measures, per upstream:

- the mean batch size reached (utterances per forward; batching equal lengths only, as the cache
  did before, reaches about 1 on such a corpus: shown beside it);
- the extraction's throughput (audio seconds per second: reading, resampling, the forward,
  s3prl's feature selection, pooling, writing shards) in batches against batch 1, and the bare
  forward's (waveforms in memory, batched as the cache batches them);
- the largest difference between the vectors the two extractions cached (must be under 1e-5:
  each is what the utterance gets alone).

The two extractions alternate round by round (a busy machine slows both alike); medians. Random
weights at the paper's sizes (``baseline_init``); synthetic EmoDB unless --corpus; one CPU thread
by default.

    python tools/extraction_speed.py [--families care,wavlm] [--size base] [--utterances 40]
        [--batch-size 8] [--rounds 3] [--threads 1] [--corpus DIR] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import math
import shutil
import statistics
import time
from collections import Counter
from pathlib import Path

import torch
from tabulate import tabulate

from speed_setup import READERS, add_common_arguments, prepare  # tools/speed_setup.py, beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=40, help="taken evenly over the corpus sorted by length")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    add_common_arguments(parser)
    args = parser.parse_args()
    work, root = prepare(args, "extraction-speed-")

    from care_superb.benchmark.cache import FileHashes, Store, Unit
    from care_superb.benchmark.extract import Extractor, batches, extract, items_for
    from care_superb.downstream.audio import load_audio
    from care_superb.downstream.emodb import corpus as emodb
    from care_superb.upstream.baselines import baseline_init

    audio = {"sample_rate": 16000, "max_seconds": 20, "min_seconds": 1}
    every = emodb.prepare(root).utterances
    by_length = sorted(items_for(every, audio, FileHashes(work)), key=lambda it: (it.samples, it.uid))
    n = min(args.utterances, len(by_length))
    chosen = {by_length[round(i * (len(by_length) - 1) / max(n - 1, 1))].path for i in range(n)}
    utterances = [u for u in every if str(u.path) in chosen]
    items = items_for(utterances, audio, FileHashes(work))
    seconds = sum(it.samples for it in items) / 16000
    lengths = Counter(it.samples for it in items)
    equal_length = len(items) / sum(math.ceil(n / args.batch_size) for n in lengths.values())

    rows = []
    for family in args.families.split(","):
        ckpt = baseline_init(family, args.size, work / f"{family}-{args.size}", 0)
        unit = Unit(READERS[family], str(ckpt), None, False)
        extractor = Extractor(unit)
        timings: dict[int, list[float]] = {1: [], args.batch_size: []}
        bare: list[float] = []
        forwards = {}
        for round_ in range(args.rounds + 1):  # round 0 warms up
            planned = batches(items, args.batch_size)
            wavs = [[torch.from_numpy(load_audio(Path(it.path), **audio)) for it in b] for b in planned]
            t0 = time.perf_counter()
            for group in wavs:
                extractor.states(group)
            bare.append(time.perf_counter() - t0)
            for size in timings:
                shutil.rmtree(work / "cache" / str(size), ignore_errors=True)
                t0 = time.perf_counter()
                hashes = FileHashes(work / "hashes" / f"{round_}-{size}")  # a fresh run: every file hashed
                work_items = [(b, [(unit, str(work / "cache" / str(size)), list(range(len(b))))])
                              for b in batches(items_for(utterances, audio, hashes), size)]
                done = extract(work_items, 128, progress=False, built={unit: extractor})
                timings[size].append(time.perf_counter() - t0)
                forwards[size] = done[0]["forwards"]
        tables = {size: Store(work / "cache" / str(size)).load([it.uid for it in items]) for size in timings}
        one, padded = tables[1], tables[args.batch_size]
        assert torch.equal(one.counts, padded.counts)
        diff = float((one.pooled - padded.pooled).abs().max())
        b1, bn = statistics.median(timings[1][1:]), statistics.median(timings[args.batch_size][1:])
        rows.append([f"{family} ({args.size}, random)", unit.name, f"{len(items) / forwards[args.batch_size]:.1f}",
                     f"{equal_length:.2f}", f"{seconds / b1:.2f}", f"{seconds / bn:.2f}", f"{b1 / bn:.2f}x",
                     f"{seconds / statistics.median(bare[1:]):.2f}", f"{diff:.1e}"])
    print(tabulate(rows, headers=[
        "upstream", "-u", f"mean batch (batch_size {args.batch_size})", "equal-length batching would reach",
        "batch 1: audio s / s", f"batch {args.batch_size}: audio s / s", "speed-up",
        f"bare forward, batch {args.batch_size}: audio s / s", "max |difference| of cached vectors"],
        tablefmt="github"))
    print(f"\n{len(items)} utterances, {seconds:.0f} s of audio, {len(lengths)} distinct lengths "
          f"({min(lengths) / 16000:.2f}-{max(lengths) / 16000:.2f} s); medians of {args.rounds} alternating rounds, "
          f"{args.threads} thread(s), device cpu; random weights, synthetic EmoDB unless --corpus: costs, not results")


if __name__ == "__main__":
    main()
