"""Transcripts, cached: one readable JSON-lines file per way of making them.

s3prl gives an upstream waveforms, not file names, so a transcript is keyed by the audio itself
(SHA-256 of the 16 kHz float32 samples) and by everything that made the text (``made_by``): the
backend, the ASR model's files (names, sizes and first MiB, as the pre-training cache
fingerprints a model folder), the language (or auto), Whisper's task, the decoding (beam size,
temperatures and thresholds, compute type, device, VAD: ``upstream/whisper/decoding.py``), and
that module's source with the versions of the libraries that decode (``code_key()``, the feature
cache's way of keying code). Change any of them and the text is made again, in another file.
The file is ``$CARE_SUPERB_HOME/transcripts/<asr>-<language>-<key>.jsonl``: a header line naming
all of that, then one line per utterance::

    {"audio_sha256": "...", "seconds": 2.41, "text": "Der Lappen liegt auf dem Eisschrank.", "made_with": "..."}

The language being the task's, EmoDB (``de``) and CaFE (``fr``) have a file each and the English
tasks share one (IEMOCAP-4 and -6 hear the same audio once). Lines are appended with one write each, so two extraction jobs
may fill one file; a torn last line (a killed job) is skipped on reading and redone.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np


def audio_sha256(audio: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(audio, dtype="<f4").tobytes()).hexdigest()


def code_key() -> dict:
    """The decoding code and the libraries that decode: ``upstream/whisper/decoding.py``'s source
    (with what of care-superb it imports: nothing) and the installed versions of faster-whisper,
    CTranslate2, transformers, tokenizers and torch, found as the feature cache finds them."""
    from care_superb.benchmark.code_key import code_closure, library_versions
    from care_superb.upstream.whisper import decoding

    files, outside = code_closure([decoding.__name__])
    digest = hashlib.sha256()
    for module in sorted(files):
        digest.update(f"{module}\n".encode() + files[module].read_bytes())
    # CTranslate2 and the tokenizers run under faster-whisper and transformers: their versions too.
    libraries = library_versions(outside | {"ctranslate2", "faster_whisper", "tokenizers", "torch", "transformers"})
    return {"code_sha256": digest.hexdigest(), "libraries": libraries}


def made_by(asr_name: str, asr_folder: Path, language: str, decoding: dict) -> dict:
    """Every setting that changes the text: the transcript cache's key, recorded in its header."""
    from care_superb.upstream.care.pretraining.targets import folder_fingerprint

    return {"asr": asr_name, "folder": str(asr_folder), "model_fingerprint": folder_fingerprint(asr_folder),
            "language": language, **decoding, "code": code_key()}


class Transcripts:
    def __init__(self, folder: Path, made: dict):
        self.header = {"transcripts_of": made,
                       "key": "audio_sha256: SHA-256 of the 16 kHz float32 samples the upstream was given"}
        self.key = hashlib.sha256(json.dumps(made, sort_keys=True).encode()).hexdigest()[:12]
        asr_name = made["asr"]
        name = re.sub(r"[^A-Za-z0-9.]+", "-", asr_name if len(asr_name) < 40 else Path(asr_name).name).strip("-")
        self.path = Path(folder) / f"{name}-{made['language']}-{self.key}.jsonl"
        self.known: dict[str, str] = {}
        self.ends_torn = False  # the file's last line has no newline: a job killed while writing it
        if self.path.is_file():
            text = self.path.read_text(encoding="utf-8", errors="replace")
            self.ends_torn = bool(text) and not text.endswith("\n")
            for line in text.splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and "audio_sha256" in entry:
                    self.known[entry["audio_sha256"]] = entry["text"]

    def get(self, digest: str) -> str | None:
        return self.known.get(digest)

    def add(self, digest: str, text: str, seconds: float, made_with: str) -> None:
        self.known[digest] = text
        lines = [] if self.path.is_file() else [self.header]
        lines.append({"audio_sha256": digest, "seconds": round(seconds, 3), "text": text, "made_with": made_with})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in lines).encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"\n" + payload if self.ends_torn else payload)  # a torn line ends before ours
            self.ends_torn = False
        finally:
            os.close(fd)
