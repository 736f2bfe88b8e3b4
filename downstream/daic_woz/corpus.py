"""DAIC-WOZ, the Wizard-of-Oz interviews of the Distress Analysis Interview Corpus (Gratch et
al., 2014), with the AVEC 2017 depression labels.

As distributed: one folder per session, ``NNN_P/`` (300-492; 342, 394, 398 and 460 do not
exist), unzipped from ``NNN_P.zip``, holding ``NNN_AUDIO.wav`` (16 kHz mono, the whole
interview: the virtual interviewer Ellie and the participant) and ``NNN_TRANSCRIPT.csv``
(tab-separated, header ``start_time stop_time speaker value``, speaker ``Ellie`` or
``Participant``, times in seconds from the start of the audio). Labels:
``train_split_Depression_AVEC2017.csv`` (107 participants, 30 depressed) and
``dev_split_Depression_AVEC2017.csv`` (35, 12 depressed), columns
``Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,...``; PHQ8_Binary 1 means depressed (PHQ-8 >= 10).
The AVEC 2017 test list has no labels and is not read.

``prepare`` returns one Utterance per stretch of the participant's speech: a transcript line, or
consecutive participant lines with a short pause between them (``merge_gap_seconds``), with its
start and end time in the interview's audio, labelled ``depressed``/``not_depressed``, speaker =
the participant ID, split = the AVEC list (``train``/``dev``). Ellie's speech never reaches the
model: only the participant's times are kept, minus every overlap with an Ellie line.
Fixed-length segments are drawn from these stretches by the task's protocol
(``splits.segmented``), not here.

Known defects, each reported by name (what is left out in ``Parsed.excluded``, what is handled in
``Parsed.notes``):
- 373 and 444: someone else intrudes during the interview, 373 from 395 s to 428 s and 444 from
  286 s to 387 s (the ranges the DepAudioNet reproduction of Bailey & Plumbley uses; there is no
  official erratum). That time is cut out of the participant's speech (option ``interruptions``).
- 451, 458 and 480: the transcript has no Ellie lines. The participant's lines are timed as in
  any session, but a pause between two of them may hold Ellie's untranscribed voice, so lines
  are never merged across a pause in such a session.
- 318, 321, 341 and 362: the transcript's times run early by a fixed offset (same source); the
  offset is added to them (option ``transcript_offsets``).
- A label row whose PHQ8_Binary disagrees with PHQ8_Score >= 10 (the same source relabels 409)
  is reported; PHQ8_Binary is used unless ``binary_from_score`` is set.
- A session folder without its transcript or its audio, or a listed participant without a
  folder: reported and skipped.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import soundfile as sf

from care_superb.downstream.corpus import CorpusError, Excluded, Parsed, Utterance, require_root

LABEL_FILES = {"train": "train_split_Depression_AVEC2017.csv", "dev": "dev_split_Depression_AVEC2017.csv"}
LABEL_COLUMNS = ("Participant_ID", "PHQ8_Binary", "PHQ8_Score")  # the ones read
LABEL_HEADER = ("Participant_ID", "PHQ8_Binary", "PHQ8_Score", "Gender", "PHQ8_NoInterest", "PHQ8_Depressed",
                "PHQ8_Sleep", "PHQ8_Tired", "PHQ8_Appetite", "PHQ8_Failure", "PHQ8_Concentrating", "PHQ8_Moving")
TRANSCRIPT_HEADER = ("start_time", "stop_time", "speaker", "value")
LABELS = {1: "depressed", 0: "not_depressed"}
SESSIONS = tuple(i for i in range(300, 493) if i not in (342, 394, 398, 460))
INTERRUPTIONS = {373: (395.0, 428.0), 444: (286.0, 387.0)}
TRANSCRIPT_OFFSETS = {318: 34.319917, 321: 3.8379167, 341: 6.1892, 362: 16.8582}
NO_ELLIE_LINES = (451, 458, 480)
BINARY_DISAGREES_WITH_SCORE = (409,)
SESSION = re.compile(r"^(?P<id>\d{3})_P$")
MIN_REGION_SECONDS = 0.1  # shorter leftovers (cut by an overlap with Ellie) hold no usable speech
LAYOUT = ("session folders NNN_P/ with NNN_AUDIO.wav and NNN_TRANSCRIPT.csv, and the label files "
          + " and ".join(LABEL_FILES.values()))


@dataclass(frozen=True)
class Line:
    start: float
    stop: float
    speaker: str  # "ellie" or "participant"
    text: str


def read_labels(path: Path, binary_from_score: bool = False) -> tuple[dict[int, str], list[str]]:
    """Participant ID -> label from one AVEC 2017 split file, and the disagreements found."""
    table = pd.read_csv(path, skipinitialspace=True)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in LABEL_COLUMNS if c not in table.columns]
    if missing:
        raise CorpusError(f"{path}: missing columns {missing}; expected {','.join(LABEL_COLUMNS)},Gender,...")
    labels, defects = {}, []
    for row in table.itertuples(index=False):
        pid, binary, score = int(row.Participant_ID), int(row.PHQ8_Binary), int(row.PHQ8_Score)
        if binary not in LABELS:
            raise CorpusError(f"{path}: participant {pid} has PHQ8_Binary={binary}; expected 0 or 1")
        if binary != int(score >= 10):
            defects.append(f"{pid}: {path.name} says PHQ8_Binary={binary} but PHQ8_Score={score} "
                           f"(binary is PHQ-8 >= 10); using "
                           + ("the score" if binary_from_score else "PHQ8_Binary"))
            if binary_from_score:
                binary = int(score >= 10)
        if pid in labels:
            raise CorpusError(f"{path}: participant {pid} is listed twice")
        labels[pid] = LABELS[binary]
    return labels, defects


def read_transcript(path: Path) -> list[Line]:
    """The transcript's lines; CorpusError naming the file and line when one does not parse."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows:
        raise CorpusError(f"{path}: empty transcript; expected a header start_time<TAB>stop_time<TAB>speaker<TAB>value")
    header = [c.strip().lower() for c in rows[0]]
    if not {"start_time", "stop_time", "speaker"} <= set(header):
        raise CorpusError(f"{path}: header {rows[0]!r} is not start_time<TAB>stop_time<TAB>speaker<TAB>value")
    col = {name: header.index(name) for name in ("start_time", "stop_time", "speaker")}
    text_col = header.index("value") if "value" in header else None
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            start, stop = float(row[col["start_time"]]), float(row[col["stop_time"]])
            speaker = row[col["speaker"]].strip().lower()
        except (ValueError, IndexError) as err:
            raise CorpusError(f"{path}:{number}: cannot read times and speaker from {row!r} ({err})") from err
        if speaker not in ("ellie", "participant"):
            raise CorpusError(f"{path}:{number}: unknown speaker {row[col['speaker']]!r}; expected Ellie or Participant")
        text = row[text_col].strip() if text_col is not None and text_col < len(row) else ""
        lines.append(Line(start, stop, speaker, text))
    return lines


def participant_regions(lines: list[Line], merge_gap: float, cut: list[tuple[float, float]] = (),
                        duration: float | None = None) -> list[tuple[float, float]]:
    """The participant's speech as (start, end) times: participant lines, merged across pauses of
    at most ``merge_gap`` seconds when the transcript has Ellie lines (without them a pause may
    hide Ellie), minus every Ellie line and every range in ``cut``, inside [0, duration]."""
    ellie = [(l.start, l.stop) for l in lines if l.speaker == "ellie"]
    spans = sorted((l.start, l.stop) for l in lines if l.speaker == "participant" and l.stop > l.start)
    merged: list[list[float]] = []
    gap = merge_gap if ellie else 0.0
    for start, stop in spans:
        if merged and start - merged[-1][1] <= gap:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    regions = [(max(0.0, s), e if duration is None else min(e, duration)) for s, e in merged]
    for lo, hi in [*ellie, *cut]:
        regions = [piece for s, e in regions for piece in _subtract(s, e, lo, hi)]
    return [(round(s, 3), round(e, 3)) for s, e in regions if e - s >= MIN_REGION_SECONDS]


def _subtract(start: float, end: float, lo: float, hi: float) -> list[tuple[float, float]]:
    if hi <= start or lo >= end:
        return [(start, end)]
    return [piece for piece in ((start, lo), (hi, end)) if piece[1] > piece[0]]


def prepare(root: str | Path, interruptions: dict | None = None, transcript_offsets: dict | None = None,
            merge_gap_seconds: float = 1.0, binary_from_score: bool = False) -> Parsed:
    """The participant's speech regions of every labelled session; what was left out, and the
    defects handled on the way (``Parsed.notes``)."""
    root = require_root(root, "DAIC-WOZ", LAYOUT)
    interruptions = {int(k): tuple(map(float, v)) for k, v in
                     (INTERRUPTIONS if interruptions is None else interruptions).items()}
    offsets = {int(k): float(v) for k, v in
               (TRANSCRIPT_OFFSETS if transcript_offsets is None else transcript_offsets).items()}
    notes: list[str] = []
    excluded: list[Excluded] = []
    split_of: dict[int, str] = {}
    label_of: dict[int, str] = {}
    for split, name in LABEL_FILES.items():
        labels, disagreements = read_labels(_find(root, name), binary_from_score)
        notes += disagreements
        for pid, label in labels.items():
            if pid in split_of:
                raise CorpusError(f"participant {pid} is in both {LABEL_FILES[split_of[pid]]} and {name}")
            split_of[pid], label_of[pid] = split, label
    folders = {int(m["id"]): p for p in root.iterdir() if p.is_dir() and (m := SESSION.match(p.name))}
    if not folders:
        raise CorpusError(f"{root} holds no session folders NNN_P/; expected {LAYOUT}")

    utterances: list[Utterance] = []
    for pid in sorted(split_of):
        listed = f"listed in {LABEL_FILES[split_of[pid]]}"
        folder = folders.get(pid)
        if folder is None:
            excluded.append(Excluded(str(pid), "session folder missing", f"{listed} but {root / f'{pid}_P'} is missing"))
            continue
        transcript, audio = folder / f"{pid}_TRANSCRIPT.csv", folder / f"{pid}_AUDIO.wav"
        missing = [p.name for p in (transcript, audio) if not p.is_file()]
        if missing:
            excluded.append(Excluded(str(pid), "session without transcript or audio",
                                     f"{folder} has no {' and no '.join(missing)}"))
            continue
        lines = read_transcript(transcript)
        if pid in offsets:
            shift = offsets[pid]
            lines = [Line(l.start + shift, l.stop + shift, l.speaker, l.text) for l in lines]
            notes.append(f"{pid}: transcript times run {shift:g} s early; shifted")
        if not any(l.speaker == "ellie" for l in lines):
            notes.append(f"{pid}: transcript has no Ellie lines; participant lines are not merged across pauses")
        if not any(l.speaker == "participant" for l in lines):
            excluded.append(Excluded(str(pid), "session without participant speech", f"{transcript} has no participant lines"))
            continue
        cut = [interruptions[pid]] if pid in interruptions else []
        if cut:
            excluded.append(Excluded(str(pid), "interruption cut out",
                                     f"{cut[0][0]:g} s to {cut[0][1]:g} s removed from the participant's speech"))
        regions = participant_regions(lines, merge_gap_seconds, cut, _duration(audio))
        if not regions:
            excluded.append(Excluded(str(pid), "session without participant speech",
                                     "nothing left after removing Ellie and interruptions"))
            continue
        utterances += [Utterance(key=f"{pid}/turn{i:03d}", path=audio, label=label_of[pid], speaker=str(pid),
                                 split=split_of[pid], start=start, end=end)
                       for i, (start, end) in enumerate(regions)]
    excluded += [Excluded(str(pid), "session in neither label list",
                          f"{folders[pid]}: not in {' or '.join(LABEL_FILES.values())} (the AVEC 2017 test list?)")
                 for pid in sorted(set(folders) - set(split_of))]
    return Parsed(utterances, excluded, notes, clusters="interview")


def _find(root: Path, name: str) -> Path:
    """A label file at the root or one folder below it (where an archive may unpack it)."""
    found = [root / name] if (root / name).is_file() else sorted(root.glob(f"*/{name}"))
    if not found:
        raise CorpusError(f"{name} is missing: a DAIC-WOZ root holds {LAYOUT}")
    return found[0]


def _duration(audio: Path) -> float | None:
    """Seconds of audio, to clip transcript times; None when unreadable (the expert's audio check
    then reports the file)."""
    try:
        return sf.info(str(audio)).duration
    except Exception:
        return None
