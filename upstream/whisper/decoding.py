"""How a Whisper turns 16 kHz audio into text: one decoding configuration for both backends.

faster-whisper runs a CTranslate2 folder, transformers' ``WhisperForConditionalGeneration`` a
Hugging Face folder; both are given the same decoding: beam search of 5, and where a window's text
looks wrong (gzip compression ratio above 2.4, mean log-probability below -1) it is decoded again
at the next temperature of 0.2, 0.4, ... 1.0 (Whisper's own recipe, OpenAI's and faster-whisper's
default); a window whose no-speech probability is above 0.6 while its text is improbable gives
no text. Audio is read in consecutive 30 s windows, each decoded on its own: no timestamps, no
conditioning on the previous window's text, no voice-activity filter unless asked (``vad``, Silero
through faster-whisper only). What still differs is said in ``BACKEND_DIFFERENCES`` and recorded.

Compute type: float32 on the CPU and float16 on a GPU unless asked otherwise; faster-whisper's own
default on the CPU would be int8, which changes large-v3's transcripts, so int8 is used only when
asked (``compute_type: int8``). Threads: faster-whisper (CTranslate2) gets the job's thread budget,
``torch.get_num_threads()`` (the benchmark sets it from ``threads_per_job``), not its own default
of 4.

This module's source is part of asr_text's transcript cache key (``asr_text/transcripts.py``): a change
here re-transcribes. So it imports nothing else of care-superb.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 30 * SAMPLE_RATE
BACKENDS = ("faster-whisper", "transformers")
COMPUTE_TYPES = {"faster-whisper": ("float32", "float16", "bfloat16", "int8", "int8_float32", "int8_float16",
                                    "int8_bfloat16"),
                 "transformers": ("float32", "float16", "bfloat16")}
BACKEND_DIFFERENCES = {
    "faster-whisper": "at a fallback temperature (> 0) keeps the best of 5 samples",
    "transformers": "at a fallback temperature (> 0) samples once (transformers' Whisper generate)",
}


class DecodingError(ValueError):
    """A decoding setting the backend cannot honour."""


@dataclasses.dataclass(frozen=True)
class Decoding:
    beam_size: int = 5
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    vad: bool = False
    compute_type: str | None = None  # None: float32 on the CPU, float16 on a GPU

    def resolved(self, backend: str, device: str) -> dict:
        """Every setting that changes the text, as used on ``device`` (the compute type chosen)."""
        compute_type = self.compute_type or ("float16" if device.startswith("cuda") else "float32")
        if compute_type not in COMPUTE_TYPES[backend]:
            raise DecodingError(f"compute_type {compute_type!r}: the {backend} backend runs "
                                f"{', '.join(COMPUTE_TYPES[backend])}")
        if self.vad and backend != "faster-whisper":
            raise DecodingError("vad: true needs faster-whisper (its Silero filter); the transformers backend has none")
        return {"backend": backend, "device": device.split(":")[0], "compute_type": compute_type,
                "task": "transcribe", "beam_size": self.beam_size, "temperatures": list(self.temperatures),
                "compression_ratio_threshold": self.compression_ratio_threshold,
                "log_prob_threshold": self.log_prob_threshold, "no_speech_threshold": self.no_speech_threshold,
                "windows": "30 s, each decoded alone", "timestamps": False, "condition_on_previous_text": False,
                "vad": self.vad, "backend_difference": BACKEND_DIFFERENCES[backend]}


def decoder(backend: str, folder: Path, language: str | None, decoding: Decoding, device: str = "cpu",
            threads: int | None = None) -> Callable[[np.ndarray], str]:
    """A function 16 kHz float32 audio -> text. ``language``: Whisper's code, or None to detect it
    (an English-only model transcribes English whatever it is told)."""
    settings = decoding.resolved(backend, device)
    if threads is None:
        import torch

        threads = torch.get_num_threads()
    if backend == "faster-whisper":
        return _faster_whisper(folder, language, settings, device, threads)
    return _transformers(folder, language, settings, device)


def _faster_whisper(folder: Path, language, settings: dict, device: str, threads: int):
    try:
        from faster_whisper import WhisperModel
    except ImportError as err:
        raise RuntimeError(f"{folder} is a CTranslate2 Whisper; it runs with faster-whisper: "
                           "pip install faster-whisper") from err
    model = WhisperModel(str(folder), device=device.split(":")[0], compute_type=settings["compute_type"],
                         cpu_threads=threads, num_workers=1)

    def run(audio: np.ndarray) -> str:
        segments, _ = model.transcribe(
            audio, language=language, task=settings["task"], beam_size=settings["beam_size"], best_of=5,
            temperature=settings["temperatures"], compression_ratio_threshold=settings["compression_ratio_threshold"],
            log_prob_threshold=settings["log_prob_threshold"], no_speech_threshold=settings["no_speech_threshold"],
            condition_on_previous_text=False, without_timestamps=True, vad_filter=settings["vad"])
        return " ".join(s.text.strip() for s in segments).strip()

    return run


def _transformers(folder: Path, language, settings: dict, device: str):
    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    dtype = getattr(torch, settings["compute_type"])
    processor = WhisperProcessor.from_pretrained(folder, local_files_only=True)
    model = WhisperForConditionalGeneration.from_pretrained(folder, local_files_only=True, dtype=dtype)
    model = model.to(device).eval()
    # An English-only Whisper takes no language or task (transformers refuses them).
    multilingual = bool(getattr(model.generation_config, "is_multilingual", False))
    chosen = {"language": language, "task": settings["task"]} if multilingual else {}
    fallback = len(settings["temperatures"]) > 1
    options = dict(num_beams=settings["beam_size"], temperature=tuple(settings["temperatures"]),
                   compression_ratio_threshold=settings["compression_ratio_threshold"] if fallback else None,
                   logprob_threshold=settings["log_prob_threshold"],
                   no_speech_threshold=settings["no_speech_threshold"], condition_on_prev_tokens=False,
                   return_timestamps=False, **chosen)

    def run(audio: np.ndarray) -> str:
        texts = []
        for start in range(0, max(len(audio), 1), WINDOW):
            features = processor(audio[start:start + WINDOW], sampling_rate=SAMPLE_RATE, return_tensors="pt")
            with torch.no_grad():
                ids = model.generate(features.input_features.to(device, dtype), **options)
            texts.append(processor.batch_decode(ids, skip_special_tokens=True)[0].strip())
        return " ".join(t for t in texts if t)

    return run
