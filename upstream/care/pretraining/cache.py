"""Targets computed once: every entry is written under a temporary name and renamed, keyed by the
content hash of what it was computed from plus the settings that computed it, so an interrupted
extraction resumes with only what is missing and never reads a half-written file.

    <cache>/audio/<sha256 of the audio file>.json                  samples, seconds
    <cache>/decoded/<audio sha256>.npy                              the audio at 16 kHz mono, int16
    <cache>/transcripts/<asr settings>/<audio sha256>.txt           ASR output
    <cache>/semantic/<teacher settings>/<sha256 of the text>.npy    mean-pooled teacher embedding
    <cache>/acoustic/<target settings>/<audio sha256>.npy           50 Hz normalised frames
    <cache>/<kind>/<settings>/settings.json                         what the settings were

The decoded audio is what training reads: each file is decoded and resampled once, here, and
the trainer's loader workers read 5 s crops from it by memory map, instead of decoding whole files
at every step. It is stored as 16-bit PCM, as the corpora hold it (lossless for 16-bit sources;
half the disk of float32: 115 MB per hour).

A bad utterance (unreadable, silent, no or empty transcript, longer than ``max_seconds`` while
its transcript is a target) is reported by name with its fix, and the others go on.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from care_superb.upstream.care.pretraining import inputs
from care_superb.upstream.care.pretraining.targets import acoustic_frames, settings_hash


@dataclass(frozen=True)
class Prepared:
    """A usable utterance: where its audio and its cached targets are."""

    key: str
    path: Path
    audio_hash: str
    samples: int
    transcript: str | None
    semantic: Path | None
    acoustic: Path | None
    decoded: Path | None = None  # 16 kHz int16 audio; None: decode ``path`` when read


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    return np.round(np.clip(audio, -1.0, 32767 / 32768) * 32768).astype(np.int16)


def read_crop(item: Prepared, start: int, length: int) -> np.ndarray:
    """Samples ``start`` to ``start + length`` of an utterance as float32: from its decoded copy
    (a memory map: only the crop is read), else by decoding the whole file."""
    if item.decoded is not None:
        pcm = np.load(item.decoded, mmap_mode="r")[start: start + length]
        return pcm.astype(np.float32) / np.float32(32768)
    return inputs.read_audio(item.path)[start: start + length]


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    write(tmp)
    os.replace(tmp, path)


def save_array(path: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, array)

    atomic_write(path, write)


def save_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def remove_stale_partials(cache: Path) -> None:
    """Half-written files of processes that no longer run (a killed extraction)."""
    for path in cache.rglob(".*.partial"):
        try:
            pid = int(path.name.rsplit(".", 2)[-2])
            os.kill(pid, 0)  # still running: leave its file alone
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except (ValueError, PermissionError):
            pass


def settings_dir(cache: Path, kind: str, settings: dict) -> Path:
    folder = cache / kind / settings_hash(settings)
    if not (folder / "settings.json").is_file():
        save_text(folder / "settings.json", json.dumps(settings, indent=1, sort_keys=True) + "\n")
    return folder


class Extractor:
    """Computes and caches what the recipe needs for each utterance.

    teacher: a ``TextTeacher`` (None: acoustic-only pre-training, no transcripts needed).
    acoustic: an acoustic target (None: semantic-only).
    asr: ``(spec, language)`` for ASR; ``asr_always``: transcribe even where text is given.
    """

    def __init__(self, cache: str | Path, teacher=None, acoustic=None, asr: tuple | None = None,
                 asr_always: bool = False, max_seconds: float | None = None):
        from care_superb.upstream.care.pretraining import asr as asr_module

        self.cache = Path(cache).expanduser()
        self.max_seconds = max_seconds
        remove_stale_partials(self.cache)
        self.teacher, self.acoustic = teacher, acoustic
        self.asr_spec = asr
        self.asr_always = asr_always
        self._transcribe = None
        self.asr_dir = settings_dir(self.cache, "transcripts", asr_module.settings(*asr)) if asr else None
        self.semantic_dir = settings_dir(self.cache, "semantic", teacher.settings()) if teacher else None
        self.acoustic_dir = (
            settings_dir(self.cache, "acoustic", {**acoustic.settings(), "to_50hz": "mean of pairs",
                                                  "normalise": "(x - mean) / (std + 1) per utterance"})
            if acoustic else None
        )

    def transcribe(self, audio: np.ndarray) -> str:
        if self._transcribe is None:
            from care_superb.upstream.care.pretraining.asr import transcriber

            self._transcribe = transcriber(*self.asr_spec)
        return self._transcribe(audio)

    def prepare_one(self, u: inputs.Utterance) -> Prepared:
        audio_hash = inputs.content_hash(u.path) if u.path.is_file() else None
        if audio_hash is None:
            inputs.read_audio(u.path)  # raises BadInput naming the problem
        audio: np.ndarray | None = None

        def load() -> np.ndarray:
            nonlocal audio
            if audio is None:
                audio = inputs.read_audio(u.path)
            return audio

        info_path = self.cache / "audio" / f"{audio_hash}.json"
        if info_path.is_file():
            samples = json.loads(info_path.read_text())["samples"]
        else:
            samples = len(load())
            save_text(info_path, json.dumps({"samples": samples, "seconds": samples / inputs.SAMPLE_RATE}))
        seconds = samples / inputs.SAMPLE_RATE
        if self.teacher is not None and self.max_seconds and seconds > self.max_seconds:
            raise inputs.BadInput(
                f"{u.path}: {seconds:.1f} s long, above --max-seconds {self.max_seconds:g}: its transcript is "
                "one target for the whole file, so a crop of it would be trained on words it does not "
                "contain. Cut it into utterances, each with its own transcript (at its turns or sentences, "
                "e.g. with an aligner or ASR timestamps), or raise --max-seconds"
            )
        decoded = self.cache / "decoded" / f"{audio_hash}.npy"
        if not decoded.is_file():
            save_array(decoded, to_pcm16(load()))

        transcript, semantic = None, None
        if self.teacher is not None:
            if self.asr_spec and (self.asr_always or u.transcript is None):
                text_path = self.asr_dir / f"{audio_hash}.txt"
                if not text_path.is_file():
                    save_text(text_path, self.transcribe(load()))
                transcript = " ".join(text_path.read_text(encoding="utf-8").split())
                if not transcript:
                    raise inputs.BadInput(
                        f"{u.path}: ASR returned no words (cached in {text_path}); check the audio, "
                        "or give its transcript as a .txt file"
                    )
            else:
                transcript = inputs.check_transcript(u)
            semantic = self.semantic_dir / f"{hashlib.sha256(transcript.encode()).hexdigest()}.npy"
            if not semantic.is_file():
                save_array(semantic, self.teacher(transcript).astype(np.float32))

        acoustic = None
        if self.acoustic is not None:
            acoustic = self.acoustic_dir / f"{audio_hash}.npy"
            if not acoustic.is_file():
                save_array(acoustic, acoustic_frames(self.acoustic, load(), u.key))
        return Prepared(u.key, u.path, audio_hash, samples, transcript, semantic, acoustic, decoded)

    def prepare(self, utterances: list[inputs.Utterance], progress: bool = True
                ) -> tuple[list[Prepared], dict[str, str]]:
        """(usable utterances, {key: what is wrong and the fix}) — every good one is cached."""
        done, bad = [], {}
        for u in tqdm(utterances, desc="targets", unit="utt", disable=not progress):
            try:
                done.append(self.prepare_one(u))
            except inputs.BadInput as err:
                bad[u.key] = str(err)
        return done, bad
