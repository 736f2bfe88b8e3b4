"""Reading an utterance: soundfile, 16 kHz, mono, cropped and padded as the protocol says."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF


class AudioError(ValueError):
    """An audio file that cannot be used: unreadable, empty or truncated."""


def check_audio(path: Path) -> None:
    """Fail fast, before training, on a file that would fail or mislead later."""
    if not path.is_file():
        raise AudioError(f"{path}: audio file is missing")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: audio file is empty (0 bytes)")
    try:
        info = sf.info(str(path))
    except Exception as err:  # libsndfile's own message says why
        raise AudioError(f"{path}: unreadable audio ({err}); expected a WAV, AIFF or FLAC file") from err
    if info.frames == 0:
        raise AudioError(f"{path}: audio file holds no samples")
    if info.format == "WAV":
        declared, width = _wav_declared_bytes(path), _bytes_per_sample(info.subtype)
        if declared is not None and width:
            available = info.frames * info.channels * width
            if available < declared:
                raise AudioError(
                    f"{path}: truncated WAV: header declares {declared} bytes of samples, file holds "
                    f"{available} (re-extract the file from the corpus archive)"
                )
    if info.format == "AIFF":  # libsndfile reads a truncated AIFF as a shorter one, too
        declared = _aiff_declared_frames(path)
        if declared is not None and info.frames < declared:
            raise AudioError(f"{path}: truncated AIFF: header declares {declared} sample frames, file holds "
                             f"{info.frames} (re-extract the file from the corpus archive)")


def load_audio(
    path: Path,
    sample_rate: int = 16000,
    max_seconds: float | None = 20.0,
    min_seconds: float | None = 1.0,
    start: float | None = None,
    end: float | None = None,
) -> np.ndarray:
    """Float32 mono at ``sample_rate``; cropped above ``max_seconds``, zero-padded below ``min_seconds``."""
    try:
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            first = int(round((start or 0.0) * rate))
            last = f.frames if end is None else min(f.frames, int(round(end * rate)))
            f.seek(first)
            audio = f.read(max(last - first, 0), dtype="float32", always_2d=True)
    except Exception as err:
        raise AudioError(f"{path}: unreadable audio ({err})") from err
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: no samples between {start} s and {end} s")
    wav = torch.from_numpy(audio.mean(axis=1))
    if rate != sample_rate:
        wav = AF.resample(wav, rate, sample_rate)
    if max_seconds is not None:
        wav = wav[: int(max_seconds * sample_rate)]
    if min_seconds is not None and len(wav) < int(min_seconds * sample_rate):
        wav = torch.nn.functional.pad(wav, (0, int(min_seconds * sample_rate) - len(wav)))
    return wav.numpy()


def _bytes_per_sample(subtype: str) -> int:
    return {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4,
            "DOUBLE": 8, "ULAW": 1, "ALAW": 1}.get(subtype, 0)  # 0: not checked


def _wav_declared_bytes(path: Path) -> int | None:
    """Size of the ``data`` chunk as the RIFF header declares it (libsndfile silently reads a
    truncated file as a shorter one). None when the header does not say (streamed writers)."""
    with open(path, "rb") as f:
        if f.read(4) != b"RIFF":
            return None
        f.read(4)
        if f.read(4) != b"WAVE":
            return None
        while True:
            header = f.read(8)
            if len(header) < 8:
                return None
            chunk, size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"data":
                return None if size in (0, 0xFFFFFFFF) else size
            f.seek(size + (size & 1), 1)


def _aiff_declared_frames(path: Path) -> int | None:
    """``numSampleFrames`` of the AIFF/AIFF-C ``COMM`` chunk (big-endian); None when absent."""
    with open(path, "rb") as f:
        if f.read(4) != b"FORM":
            return None
        f.read(4)
        if f.read(4) not in (b"AIFF", b"AIFC"):
            return None
        while True:
            header = f.read(8)
            if len(header) < 8:
                return None
            chunk, size = header[:4], struct.unpack(">I", header[4:])[0]
            if chunk == b"COMM":
                body = f.read(6)
                return struct.unpack(">I", body[2:6])[0] if len(body) == 6 else None
            f.seek(size + (size & 1), 1)
