"""MSP-PODCAST (Lotfian & Busso; UT Dallas), the corpus CARE is pre-trained on.

As released (``MSP-PODCAST-Publish-1.x``): ``Audios/`` holds the speaking turns as 16 kHz mono
wavs named ``MSP-PODCAST_PPPP_SSSS.wav`` (podcast ``PPPP``, segment ``SSSS``; some releases add a
third field), ``Transcripts/`` one ``<same stem>.txt`` per turn (the corpus's own ASR-style
transcript; the CARE authors re-transcribed with Whisper-large-v3 anyway), and ``Labels/``
``labels_consensus.csv`` (spelt ``labels_concensus.csv`` in early releases) with the columns
``FileName, EmoClass, EmoAct, EmoVal, EmoDom, SpkrID, Gender, Split_Set``. Emotion classes:
A anger, H happiness, S sadness, N neutral, U surprise, F fear, D disgust, C contempt, O other,
X no agreement; attributes on a 1-7 scale; Split_Set is Train, Development, Test1, Test2 (Test3
in 1.12). Turns without a transcript file exist; pre-training needs text only for its semantic
loss, so they are returned with ``transcript=None`` and reported there.

Pre-training here uses audio and transcripts only; the labels are read when present for the
speaker and split of each turn.

Sources: the release's documentation and Lotfian & Busso (2019); not checked against a copy of
the release in this project (licence-restricted).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from care_superb.downstream.corpus import CorpusError, require_dir, require_root

LANGUAGE = "en"  # what is spoken, as Whisper codes it (asr_text transcribes in it): English

NAME = re.compile(r"^MSP-PODCAST_\d{4}_\d{4}(_\d{4})?$")
LABEL_FILES = ("labels_consensus.csv", "labels_concensus.csv")
LABEL_COLUMNS = ("FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set")
EMOTIONS = {"A": "anger", "H": "happiness", "S": "sadness", "N": "neutral", "U": "surprise",
            "F": "fear", "D": "disgust", "C": "contempt", "O": "other", "X": "no agreement"}
SPLITS = ("Train", "Development", "Test1", "Test2", "Test3")
LAYOUT = "Audios/MSP-PODCAST_PPPP_SSSS.wav, Transcripts/<same stem>.txt, Labels/labels_consensus.csv"


@dataclass(frozen=True)
class Turn:
    key: str  # the file stem, MSP-PODCAST_0001_0008
    path: Path
    transcript: str | None
    speaker: str | None = None
    split: str | None = None


def prepare(root: str | Path) -> list[Turn]:
    """Every turn under ``Audios/`` with its transcript (None when the file is missing) and, when
    the label file is there, its speaker and split."""
    root = require_root(root, "MSP-PODCAST", LAYOUT)
    audio_dir = require_dir(root / "Audios", "MSP-PODCAST", LAYOUT)
    text_dir = root / "Transcripts"
    files = sorted(p for p in audio_dir.iterdir() if p.suffix.lower() == ".wav")
    if not files:
        raise CorpusError(f"{audio_dir} holds no .wav files; expected {LAYOUT}")
    labels = read_labels(root)
    turns = []
    for path in files:
        if not NAME.match(path.stem):
            raise CorpusError(f"{path.name}: not an MSP-PODCAST file name (MSP-PODCAST_PPPP_SSSS.wav)")
        text_file = text_dir / f"{path.stem}.txt"
        text = text_file.read_text(encoding="utf-8").strip() if text_file.is_file() else None
        row = labels.get(path.name, {})
        turns.append(Turn(path.stem, path, text, row.get("SpkrID"), row.get("Split_Set")))
    return turns


def read_labels(root: Path) -> dict[str, dict]:
    """``FileName`` -> its row of the consensus label file ({} when the release has none)."""
    for name in LABEL_FILES:
        path = root / "Labels" / name
        if path.is_file():
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                missing = [c for c in ("FileName", "SpkrID", "Split_Set") if c not in (reader.fieldnames or [])]
                if missing:
                    raise CorpusError(f"{path}: no column(s) {', '.join(missing)}; expected {', '.join(LABEL_COLUMNS)}")
                return {row["FileName"]: row for row in reader}
    return {}
