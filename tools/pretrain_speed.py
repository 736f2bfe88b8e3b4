"""Steps per second of CARE pre-training and the share of step time spent waiting for data, with
and without the decoded-audio cache, on the synthetic MSP-PODCAST (demo size):

    files     each step decodes its utterances' whole files in the training loop (soundfile, or
              ffmpeg, then resampling to 16 kHz), as the trainer did before the cache;
    cache     crops read by memory map from the decoded 16 kHz cache, in the loop;
    cache+W   the same, built ahead by W DataLoader worker processes (`pretrain --workers W`).

For each, alternating in rounds (ratios within one run): training steps (a tiny CARE, the demo's
recipe: batch 8, 5 s crops) with the time the loop waits for its batch, and the data alone
(batches per second with no model: how fast an accelerator could be fed). ``--format mp3``
first transcodes the corpus to 44.1 kHz MP3, as podcasts are published, so that decoding costs
what it costs on such a corpus.

    python tools/pretrain_speed.py [--steps 20] [--rounds 2] [--workers 2] [--format wav|mp3]
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def transcode(corpus: Path, work: Path) -> Path:
    """The corpus's turns as 44.1 kHz MP3 (ffmpeg), transcripts beside them."""
    out = work / "mp3"
    out.mkdir(parents=True, exist_ok=True)
    for wav in sorted((corpus / "Audios").glob("*.wav")):
        mp3 = out / f"{wav.stem}.mp3"
        if not mp3.is_file():
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-ar", "44100", "-b:a", "96k",
                            str(mp3)], check=True)
        (out / f"{wav.stem}.txt").write_text((corpus / "Transcripts" / f"{wav.stem}.txt").read_text())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per measurement")
    parser.add_argument("--batches", type=int, default=40, help="batches per data-only measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--format", choices=("wav", "mp3"), default="wav")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workdir")
    args = parser.parse_args()

    import torch
    from tabulate import tabulate

    from care_superb.noise import silence_known_noise
    from care_superb.synth import synthesize
    from care_superb.upstream.care.initialise import initialise
    from care_superb.upstream.care.pretraining import inputs
    from care_superb.upstream.care.pretraining.adapt import PCAProjection, fit_acoustic_head
    from care_superb.upstream.care.pretraining.cache import Extractor
    from care_superb.upstream.care.pretraining.cli import teacher_folder
    from care_superb.upstream.care.pretraining.targets import LogMel, TextTeacher
    from care_superb.upstream.care.pretraining.trainer import Settings, Trainer, split

    torch.set_num_threads(args.threads)
    silence_known_noise()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="pretrain-speed-"))
    corpus = synthesize("msp_podcast", REPO / "data" / "synthetic" / "msp_podcast", seed=0, size="demo")
    audio = transcode(corpus, work) if args.format == "mp3" else corpus / "Audios"
    utterances = inputs.discover(audio, None if args.format == "mp3" else corpus / "Transcripts")
    target = LogMel(80)
    items, bad = Extractor(work / f"cache-{args.format}", TextTeacher(teacher_folder("minilm")), target).prepare(
        utterances, progress=False)
    assert not bad, bad
    model, metadata = initialise("tiny", "tiny", seed=0)
    model, metadata, _ = fit_acoustic_head(model, metadata, target.dim, target.kind, False, 0)
    settings = Settings(steps=args.steps, batch_size=8, lr=1e-3, front_end="trained", valid_every=10**9,
                        save_every=10**9, log_every=10**9)
    projection = PCAProjection.fit([it.semantic for it in split(items, settings.valid_fraction, 0)[0]],
                                   model.config.hidden_size)
    configs = {"files": ([dataclasses.replace(it, decoded=None) for it in items], 0),
               "cache": (items, 0), f"cache+{args.workers}": (items, args.workers)}
    seconds = sum(it.samples for it in items) / 16000
    print(f"{len(items)} utterances ({seconds / 3600:.2f} h, {args.format}); tiny CARE, batch 8, 5 s crops, "
          f"{args.threads} thread(s); {args.rounds} rounds of {args.steps} training steps and {args.batches} "
          f"data-only batches per configuration")

    results = {name: {"steps_per_second": [], "wait_fraction": [], "batches_per_second": []} for name in configs}
    for round_ in range(args.rounds):
        for name, (its, workers) in configs.items():
            trainer = Trainer(copy.deepcopy(model), metadata, its, work / f"run-{name}-{round_}",
                              dataclasses.replace(settings, workers=workers), {"speed": name},
                              semantic_transform=projection)
            waits = trainer.fit(progress=False)["data_wait"]
            results[name]["steps_per_second"].append(waits["steps_per_second"])
            results[name]["wait_fraction"].append(waits["wait_fraction"])
            feeder = Trainer(copy.deepcopy(model), metadata, its, work / f"feed-{name}-{round_}",
                             dataclasses.replace(settings, steps=args.batches, workers=workers), {"speed": name},
                             semantic_transform=projection)
            started = time.perf_counter()
            for _ in feeder.loader():
                pass
            results[name]["batches_per_second"].append(args.batches / (time.perf_counter() - started))
            print(f"  round {round_ + 1} {name}: {waits['steps_per_second']:.3f} steps/s, "
                  f"{100 * waits['wait_fraction']:.1f}% waiting; data alone {results[name]['batches_per_second'][-1]:.1f} "
                  "batches/s", flush=True)

    base = statistics.median(results["files"]["steps_per_second"])
    rows = [[name, f"{statistics.median(r['steps_per_second']):.3f}",
             f"{statistics.median(r['steps_per_second']) / base:.2f}x",
             f"{100 * statistics.median(r['wait_fraction']):.1f}%",
             f"{statistics.median(r['batches_per_second']):.1f}"] for name, r in results.items()]
    print(tabulate(rows, headers=["data", "training steps/s", "vs files", "step time waiting for data",
                                  "data alone: batches/s"], tablefmt="github"))
    print(f"medians over {args.rounds} rounds; work folder {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
