"""What to pre-train on: utterances from a folder of audio or a manifest, their transcripts, and
their audio as 16 kHz mono float32.

Sources of utterances (one of):

* a folder, any layout: every ``.wav .flac .mp3 .ogg .opus .m4a`` below it; the key is the path
  relative to the folder without its suffix;
* a manifest, CSV or TSV with a header: an audio column (``path``, ``audio``, ``file`` or
  ``wav``; relative paths are relative to the manifest's folder) and optionally a transcript
  column (``transcript``, ``text`` or ``sentence``).

Transcript of an utterance, first found: the manifest's column; ``<stem>.txt`` in
``--transcripts DIR`` (the key's sub-folders first, then the bare stem); ``<stem>.txt`` beside
the audio file. None found: ASR (``asr.py``) when configured, otherwise a bad input.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16000
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a")
PATH_COLUMNS = ("path", "audio", "file", "wav")
TEXT_COLUMNS = ("transcript", "text", "sentence")
# Peak below -60 dBFS: nothing a model could learn from (a recording left at zero, a muted channel).
SILENCE_PEAK = 10 ** (-60 / 20)


class InputError(ValueError):
    """The input as a whole is unusable (no audio found, a manifest without a path column)."""


class BadInput(ValueError):
    """One utterance is unusable; the message names the file and the fix."""


@dataclass(frozen=True)
class Utterance:
    key: str
    path: Path
    transcript: str | None = None  # given text, when the manifest or a .txt file has it
    transcript_source: str | None = None  # where it came from, for the report


def discover(source: str | Path, transcripts: str | Path | None = None) -> list[Utterance]:
    """Utterances of a folder or a manifest file, sorted by key, transcripts attached."""
    source = Path(source).expanduser()
    if source.is_dir():
        items = _from_folder(source)
    elif source.is_file():
        items = _from_manifest(source)
    else:
        raise InputError(f"{source} does not exist; pass a folder of audio files or a CSV/TSV manifest")
    text_dir = Path(transcripts).expanduser() if transcripts else None
    if text_dir is not None and not text_dir.is_dir():
        raise InputError(f"--transcripts {text_dir} is not a folder of <stem>.txt files")
    keys = [u.key for u in items]
    if len(set(keys)) != len(keys):
        duplicates = sorted({k for k in keys if keys.count(k) > 1})[:5]
        raise InputError(f"{source}: the same utterance key appears twice: {', '.join(duplicates)}")
    out = []
    for u in sorted(items, key=lambda u: u.key):
        if u.transcript is None:
            text, where = _find_text(u, text_dir)
            u = Utterance(u.key, u.path, text, where)
        out.append(u)
    return out


def _from_folder(root: Path) -> list[Utterance]:
    files = [p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()]
    if not files:
        raise InputError(f"{root} holds no audio files ({' '.join(AUDIO_SUFFIXES)}) at any depth")
    return [Utterance(str(p.relative_to(root).with_suffix("")), p) for p in files]


def _from_manifest(manifest: Path) -> list[Utterance]:
    import pandas as pd

    sep = "\t" if manifest.suffix.lower() in (".tsv", ".tab") else ","
    try:
        table = pd.read_csv(manifest, sep=sep, dtype=str, keep_default_na=False)
    except Exception as err:  # noqa: BLE001 - pandas says what is wrong with the file
        raise InputError(f"{manifest}: not a readable CSV/TSV manifest ({err})") from err
    columns = {c.strip().lower(): c for c in table.columns}
    path_col = next((columns[c] for c in PATH_COLUMNS if c in columns), None)
    if path_col is None:
        raise InputError(
            f"{manifest}: no audio column; its header must name one of {', '.join(PATH_COLUMNS)} "
            f"(found: {', '.join(table.columns)})"
        )
    text_col = next((columns[c] for c in TEXT_COLUMNS if c in columns), None)
    items = []
    for record in table.to_dict("records"):
        rel = record[path_col]
        path = Path(rel).expanduser()
        path = path if path.is_absolute() else manifest.parent / path
        text = record[text_col] if text_col is not None else None
        key = str(Path(rel).with_suffix(""))
        items.append(Utterance(key, path, text, f"{manifest.name}:{text_col}" if text_col else None))
    if not items:
        raise InputError(f"{manifest} lists no audio files")
    return items


def _find_text(u: Utterance, text_dir: Path | None) -> tuple[str | None, str | None]:
    candidates = []
    if text_dir is not None:
        candidates += [text_dir / f"{u.key}.txt", text_dir / f"{u.path.stem}.txt"]
    candidates.append(u.path.with_suffix(".txt"))
    for c in candidates:
        if c.is_file():
            return c.read_text(encoding="utf-8", errors="replace"), str(c)
    return None, None


def check_transcript(u: Utterance) -> str:
    """The utterance's given transcript, stripped; BadInput naming the fix when none or empty."""
    if u.transcript is None:
        raise BadInput(
            f"{u.path}: no transcript. Put the text in {u.path.with_suffix('.txt')}, pass "
            "--transcripts DIR with <stem>.txt files or a manifest with a transcript column, or "
            "transcribe with --asr (see --help)"
        )
    text = " ".join(u.transcript.split())
    if not text:
        raise BadInput(
            f"{u.path}: empty transcript ({u.transcript_source}); write the words spoken into it, "
            "or transcribe with --asr"
        )
    return text


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: the cache key of everything computed from the audio."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_audio(path: Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Float32 mono at ``sample_rate``: soundfile first (wav, flac, ogg, mp3 with libsndfile >=
    1.1), ffmpeg for anything else. BadInput for a missing, empty, unreadable or silent file."""
    if not path.is_file():
        raise BadInput(f"{path}: audio file is missing; restore it or remove it from the manifest")
    if path.stat().st_size == 0:
        raise BadInput(f"{path}: audio file is empty (0 bytes); re-copy it from the corpus")
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
        audio = audio.mean(axis=1)
    except Exception as sf_error:  # noqa: BLE001 - fall back to ffmpeg, report both if it fails too
        audio, rate = _ffmpeg_decode(path, sample_rate, sf_error), sample_rate
    if rate != sample_rate:
        import torch
        import torchaudio.functional as AF

        audio = AF.resample(torch.from_numpy(np.ascontiguousarray(audio)), rate, sample_rate).numpy()
    if audio.size == 0:
        raise BadInput(f"{path}: audio file holds no samples; re-copy it from the corpus")
    peak = float(np.abs(audio).max())
    if peak < SILENCE_PEAK:
        raise BadInput(
            f"{path}: audio is silent (peak {20 * np.log10(max(peak, 1e-12)):.0f} dBFS); "
            "check the recording or drop the file"
        )
    return np.ascontiguousarray(audio, dtype=np.float32)


def _ffmpeg_decode(path: Path, sample_rate: int, sf_error: Exception) -> np.ndarray:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise BadInput(
            f"{path}: soundfile cannot read it ({sf_error}) and ffmpeg is not installed "
            "(apt-get install -y ffmpeg; scripts/setup.sh does this)"
        )
    done = subprocess.run(
        [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1",
         "-ar", str(sample_rate), "-"],
        capture_output=True,
    )
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise BadInput(
            f"{path}: unreadable audio (soundfile: {sf_error}; ffmpeg: {reason[0]}); "
            "re-copy the file from the corpus or drop it"
        )
    return np.frombuffer(done.stdout, dtype=np.float32).copy()
