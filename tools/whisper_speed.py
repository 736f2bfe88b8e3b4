#!/usr/bin/env python
"""What the Whisper rows would cost the demo: the utterances each demo task extracts, and the
per-utterance cost of each Whisper upstream on a sample of them, then extrapolated.

Counts: the utterances the demo file's cells use, per task, as `care-superb bench` plans them
(an utterance counts once per distinct audio, however many cells use it). Costs: each candidate
built as the benchmark builds it, then its forward (audio read and resampled beforehand) on
--per-task utterances of every task, one at a time, the candidates alternating utterance by
utterance; transcripts are not shared between candidates (each asr_text candidate has its own
transcript file, empty at the start). asr_text transcribes in each task's language; a task its
Whisper refuses (tiny.en on EmoDB and CaFE) is left blank. One CPU thread. Seconds are the process's CPU seconds (what the forward
costs, even on a machine that others share; wall seconds are printed beside them). The demo
corpora must exist (scripts/demo.sh makes them, or `care-superb synth`).

    python tools/whisper_speed.py [--per-task 6] [--jobs 2] [--candidates whisper:tiny.en,asr:tiny.en,...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch
from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = "whisper:tiny.en,whisper:base,asr:tiny.en,asr:base"


def demo_utterances(demo: Path) -> dict[str, list]:
    """task -> the distinct items (audio + settings) its demo cells use."""
    from care_superb.benchmark import cells as cells_mod
    from care_superb.benchmark.cache import FileHashes
    from care_superb.benchmark.extract import items_for
    from care_superb.benchmark.run import task_utterances
    from care_superb.benchmark.spec import load

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.yaml"
        probe.write_text(f"base: {demo}\noutput: {tmp}/out\nupstreams: [{{name: fbank_no_cmvn}}]\n")
        bench = load(probe)
        memo, items = {}, defaultdict(dict)
        hashes = FileHashes(Path(tmp))
        for cell in cells_mod.expand(bench):
            audio = cell.config["downstream_expert"]["datarc"]
            for item in items_for(task_utterances(cell, memo), audio, hashes):
                items[cell.task][item.uid] = item
    return {task: sorted(found.values(), key=lambda it: it.uid) for task, found in items.items()}


def build(candidate: str, home: Path):
    kind, model = candidate.split(":")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["CARE_SUPERB_HOME"] = str(home)
    if kind == "whisper":
        from care_superb.upstream.whisper.hubconf import whisper_local

        return whisper_local(ckpt=model)
    from care_superb.upstream.asr_text.hubconf import asr_text

    settings = home / f"asr-{model}.yaml"
    settings.write_text(f"asr: {model}\n")
    return asr_text(ckpt="minilm", model_config=str(settings))


def serves(upstream, task: str) -> bool:
    """Whether the candidate serves the task as the benchmark builds it: asr_text is told the task's
    language, and refuses it where its Whisper is English-only (tiny.en on EmoDB, CaFE)."""
    use_task = getattr(upstream, "use_task", None)
    if use_task is None:
        return True
    try:
        use_task(task)
    except ValueError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default=str(REPO / "benchmark/configs/demo.yaml"))
    parser.add_argument("--per-task", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2, help="extraction jobs of the demo (its executor.jobs)")
    parser.add_argument("--candidates", default=CANDIDATES)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from care_superb.downstream.audio import load_audio

    by_task = demo_utterances(Path(args.demo))
    counts = {task: len(items) for task, items in by_task.items()}
    seen, new = set(), {}  # utterances no earlier task has (IEMOCAP-4's are IEMOCAP-6's): extracted once
    for task in sorted(by_task, key=lambda t: -counts[t]):
        new[task] = len({it.uid for it in by_task[task]} - seen)
        seen |= {it.uid for it in by_task[task]}
    print(tabulate(sorted((t, counts[t], new[t]) for t in counts), headers=["task", "utterances", "not in another task"]))
    print(f"distinct utterances over all tasks: {len(seen)}")

    sample = {task: items[:: max(1, len(items) // args.per_task)][: args.per_task] for task, items in by_task.items()}
    wavs = {task: [torch.from_numpy(load_audio(Path(it.path), start=it.start, end=it.end, **it.audio_settings()))
                   for it in items] for task, items in sample.items()}
    candidates = args.candidates.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        upstreams = {c: build(c, Path(tmp) / c.replace(":", "-")) for c in candidates}
        for upstream in upstreams.values():  # warm up
            serves(upstream, next(t for t in wavs if serves(upstream, t)))
            with torch.no_grad():
                upstream([wavs[next(iter(wavs))][0][:16000]])
        seconds: dict[str, dict[str, list[float]]] = {c: defaultdict(list) for c in candidates}
        wall = {c: 0.0 for c in candidates}
        for task, task_wavs in wavs.items():
            for wav in task_wavs:
                for candidate, upstream in upstreams.items():
                    if not serves(upstream, task):
                        continue  # refused: no cost to measure
                    start, start_wall = time.process_time(), time.perf_counter()
                    with torch.no_grad():
                        upstream([wav])
                    seconds[candidate][task].append(time.process_time() - start)
                    wall[candidate] += time.perf_counter() - start_wall
    rows = []
    for candidate in candidates:
        per_task = {task: statistics.mean(v) for task, v in seconds[candidate].items()}
        total = sum(per_task[task] * new[task] for task in counts if task in per_task)
        measured = sum(len(v) for v in seconds[candidate].values())
        rows.append([candidate, sum(map(sum, seconds[candidate].values())) / measured, wall[candidate] / measured,
                     *(per_task.get(task) for task in sorted(counts)), total, total / args.jobs])
    print(tabulate(rows, headers=["candidate", "CPU s/utt", "wall s/utt", *sorted(counts),
                                  "all tasks: CPU s", f"/ {args.jobs} jobs"], floatfmt=".2f"))


if __name__ == "__main__":
    main()
