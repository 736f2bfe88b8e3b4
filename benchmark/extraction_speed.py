#!/usr/bin/env python
"""Feature-cache extraction against the bare upstream forward, on the same utterances, same run.

"Bare": the upstream's forward on waveforms already in memory, batch by batch as the cache batches
them (equal lengths), nothing else. "Harness": what `care-superb bench` does for those utterances
with the same, already built upstream: hash and measure the files (planning), read and resample
the audio, the forward, s3prl's feature selection, pooling, and writing checksummed shards. The
two alternate round by round (a busy machine slows both alike) and the medians are compared.
Random weights at the paper's sizes (`baseline_init`); synthetic EmoDB (made if --corpus is not
given); one CPU thread by default.

    python benchmark/extraction_speed.py [--families care,wavlm] [--size base] [--utterances 40]
        [--rounds 3] [--threads 1] [--corpus DIR] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

import torch
from tabulate import tabulate

from care_superb.benchmark.speed_setup import READERS, add_common_arguments, prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    add_common_arguments(parser)
    args = parser.parse_args()
    work, root = prepare(args, "extraction-speed-")

    from care_superb.benchmark.cache import FileHashes, Unit
    from care_superb.benchmark.extract import Extractor, batches, extract, items_for
    from care_superb.downstream.audio import load_audio
    from care_superb.downstream.emodb import corpus as emodb
    from care_superb.upstream.baselines import baseline_init

    utterances = emodb.prepare(root).utterances[: args.utterances]
    audio = {"sample_rate": 16000, "max_seconds": 20, "min_seconds": 1}
    rows = []
    for family in args.families.split(","):
        ckpt = baseline_init(family, args.size, work / f"{family}-{args.size}", 0)
        unit = Unit(READERS[family], str(ckpt), None, False)
        extractor = Extractor(unit)
        planned = batches(items_for(utterances, audio, FileHashes(work)), 8)
        seconds = sum(it.samples for b in planned for it in b) / 16000
        bare, harness = [], []
        for round_ in range(args.rounds + 1):  # round 0 warms up
            wavs = [[torch.from_numpy(load_audio(Path(it.path), **audio)) for it in b] for b in planned]
            t0 = time.perf_counter()
            for group in wavs:
                extractor.states(group)
            bare.append(time.perf_counter() - t0)

            folder = work / "cache" / f"{family}-{round_}"
            shutil.rmtree(work / "cache", ignore_errors=True)
            t0 = time.perf_counter()
            hashes = FileHashes(work / "hashes" / str(round_))  # a fresh run: every file hashed
            items = batches(items_for(utterances, audio, hashes), 8)
            extract([(b, [(unit, str(folder), list(range(len(b))))]) for b in items], 128, progress=False,
                    built={unit: extractor})
            harness.append(time.perf_counter() - t0)
        b, h = statistics.median(bare[1:]), statistics.median(harness[1:])
        rows.append([f"{family} ({args.size}, random)", unit.name, len(utterances), f"{seconds:.0f}",
                     f"{seconds / b:.2f}", f"{seconds / h:.2f}", f"{100 * (h / b - 1):+.1f}%"])
    print(tabulate(rows, headers=["upstream", "-u", "utterances", "audio s", "bare forward (audio s / s)",
                                  "extraction (audio s / s)", "harness adds"], tablefmt="github"))
    print(f"\nmedians of {args.rounds} alternating rounds, {args.threads} thread(s); random weights, synthetic "
          f"EmoDB: these are costs, not results")


if __name__ == "__main__":
    main()
