"""Decode MELD's mp4 clips once into a cache of 16 kHz mono wavs (``care-superb prepare meld``).

Resumable: every wav is written to a temporary name and renamed when complete, so an interrupted
run leaves no half file, and a later run converts only the clips whose wav is not there yet.
Clips ffmpeg cannot decode, rows without a clip and clips without a row are listed by name on
screen and in ``<cache>/prepare_report.json``, which is written last and marks the cache as
ready for the MELD parser.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

from tqdm import tqdm

from care_superb.downstream.meld.corpus import REPORT, cached_wav, inventory

SAMPLE_RATE = 16000


class DecodeError(RuntimeError):
    """ffmpeg could not turn a clip into audio."""


def require_ffmpeg(ffmpeg: str = "ffmpeg") -> str:
    path = shutil.which(ffmpeg)
    if path is None:
        raise RuntimeError(f"{ffmpeg} was not found on PATH; install it (apt-get install -y ffmpeg) "
                           f"or pass --ffmpeg /path/to/ffmpeg")
    return path


def convert(jobs: list[tuple[Path, Path]], output_args: list[str], ffmpeg: str = "ffmpeg") -> None:
    """One ffmpeg run for several (source, destination) pairs, each destination's audio encoded with
    ``output_args``. Destinations are written to temporary names and renamed only when ffmpeg
    succeeded, so each one is complete or absent. One process for many clips: its start-up costs
    more than decoding a clip."""
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    for source, _ in jobs:
        cmd += ["-i", str(source)]
    parts = []
    for i, (_, destination) in enumerate(jobs):
        destination.parent.mkdir(parents=True, exist_ok=True)
        parts.append(destination.with_name(f".{destination.name}.part"))
        cmd += ["-map", f"{i}:a:0", *output_args, str(parts[-1])]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not all(p.is_file() and p.stat().st_size > 44 for p in parts):
        for part in parts:
            part.unlink(missing_ok=True)
        raise DecodeError((done.stderr.strip().splitlines() or ["no audio stream"])[-1])
    for part, (_, destination) in zip(parts, jobs):
        os.replace(part, destination)


# 16 kHz mono 16-bit PCM; -bitexact: no encoder tag in the header, so a re-run writes the same bytes.
WAV_ARGS = ["-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-bitexact", "-f", "wav"]
BATCH = 16


def decode(jobs: list[tuple[Path, Path]], ffmpeg: str = "ffmpeg") -> dict[Path, str]:
    """mp4 -> wav for each (mp4, wav) pair; returns {mp4: ffmpeg's complaint} for those that failed.
    A batch that fails is retried clip by clip, to name the culprit."""
    failed = {}
    try:
        convert(jobs, WAV_ARGS, ffmpeg)
    except DecodeError:
        for job in jobs:
            try:
                convert([job], WAV_ARGS, ffmpeg)
            except DecodeError as err:
                failed[job[0]] = str(err)
    return failed


def prepare_cache(root: str | Path, cache: str | Path, ffmpeg: str = "ffmpeg", progress: bool = True) -> dict:
    """Decode every labelled clip of ``root`` that ``cache`` lacks; returns (and writes) the report."""
    ffmpeg = require_ffmpeg(ffmpeg)
    splits = inventory(root)
    cache = Path(cache).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    for stale in cache.glob("*/.*.wav.part"):  # left by a run that was killed mid-clip
        stale.unlink()

    todo, cached, missing, unlabelled = [], 0, [], []
    for split in splits.values():
        for row in split.rows:
            if row.name not in split.files:
                missing.append({"split": split.name, "clip": row.name,
                                "why": f"listed in {split.csv.name}, no {row.name}.mp4 in {split.clips}"})
            elif cached_wav(cache, split.name, row.name).is_file():
                cached += 1
            else:
                todo.append((split.name, row.name, split.files[row.name]))
        unlabelled += [{"split": split.name, "clip": name, "why": f"{split.files[name]} has no row in {split.csv.name}"}
                       for name in split.unlabelled]

    corrupt = []
    with tqdm(total=len(todo), desc="MELD: mp4 -> 16 kHz wav", unit="clip", disable=not progress) as bar:
        for first in range(0, len(todo), BATCH):
            batch = todo[first:first + BATCH]
            failed = decode([(mp4, cached_wav(cache, split, name)) for split, name, mp4 in batch], ffmpeg)
            corrupt += [{"split": split, "clip": name,
                         "error": failed[mp4] if str(mp4) in failed[mp4] else f"{mp4}: {failed[mp4]}"}
                        for split, name, mp4 in batch if mp4 in failed]
            bar.update(len(batch))

    report = {
        "corpus": "MELD", "root": str(Path(root).resolve()), "cache": str(cache.resolve()),
        "sample_rate": SAMPLE_RATE, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "converted": len(todo) - len(corrupt), "already_cached": cached,
        "corrupt": corrupt, "missing": missing, "unlabelled": unlabelled,
    }
    tmp = cache / f".{REPORT}.part"
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    os.replace(tmp, cache / REPORT)
    return report


def summary(report: dict) -> str:
    lines = [f"MELD cache {report['cache']}: {report['converted']} clips converted now, "
             f"{report['already_cached']} already there"]
    for kind, title in (("corrupt", "could not be decoded"), ("missing", "listed but missing"),
                        ("unlabelled", "without a CSV row")):
        if report[kind]:
            lines.append(f"{len(report[kind])} clips {title} (skipped):")
            lines += [f"  {item['split']} {item['clip']}: {item.get('error') or item.get('why')}" for item in report[kind]]
    lines.append(f"report: {Path(report['cache']) / REPORT}")
    return "\n".join(lines)
