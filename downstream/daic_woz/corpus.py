"""DAIC-WOZ, the Wizard-of-Oz interviews of the Distress Analysis Interview Corpus (Gratch et
al., 2014), with the AVEC 2017 depression labels.

As distributed: one folder per session, ``NNN_P/`` (300-492; 342, 394, 398 and 460 do not
exist: 189 sessions; the owners' documentation), unzipped from ``NNN_P.zip``, holding
``NNN_AUDIO.wav`` (16 kHz mono, the whole interview: the virtual interviewer Ellie and the
participant) and ``NNN_TRANSCRIPT.csv`` (tab-separated, header ``start_time stop_time speaker
value``, speaker ``Ellie`` or ``Participant``, times in seconds from the start of the audio;
blank lines, rows with an empty value, CRLF in some files and LF in others). Labels, counts
checked against a public copy of the three files (Alpha-Raj/Depression-Detection):

- ``train_split_Depression_AVEC2017.csv`` (107 participants, 30 depressed) and
  ``dev_split_Depression_AVEC2017.csv`` (35, 12 depressed), columns
  ``Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,...``; PHQ8_Binary 1 means depressed (PHQ-8 >= 10).
- ``full_test_split.csv``, the AVEC 2017 test labels (47, 14 depressed), columns
  ``Participant_ID,PHQ_Binary,PHQ_Score,Gender``, lines ending ``\r\r\n``. Read only for the
  ``test_list: test`` protocol (below), which refuses to start without it. (The challenge's
  ``test_split_Depression_AVEC2017.csv`` has no labels and is not read.)

``prepare`` returns one Utterance per stretch of the participant's speech: a transcript line, or
consecutive participant lines with a short pause between them (``merge_gap_seconds``), with its
start and end time in the interview's audio, labelled ``depressed``/``not_depressed``, speaker =
the participant ID, split = the AVEC list (``train``/``dev``/``test``). Ellie's speech never
reaches the model: only the participant's times are kept, minus every overlap with an Ellie line.
Fixed-length segments are drawn from these stretches by the task's protocol
(``splits.segmented``), not here. ``test_list`` names the scored list: ``dev`` (default; where
CARE and most papers report) or ``test`` (the AVEC 2017 test labels); every row names it.

Participant lines that are markers, not the participant's interview speech, are left out (their
time too) and counted per reason, as ``MARKERS`` lists: the recording's synchronisation markers
(``<sync>``, ``<synch>``, ``<sync.``, ``[sync]``, ``[synch]``, ``[syncing]``, ``[synching]``:
the markers the DepAudioNet reproduction of Bailey & Plumbley drops, adbailey1/DepAudioNet_
reproduction, ``config_process.synchronise_labels``), ``<ellie starts>`` and ``<talking to
experimenter>`` (speech to the research assistant, outside the interview). A line matches only
when the marker is its whole value. Lines that are only ``<laughter>``, ``scrubbed_entry`` (words
withheld for anonymity) or ``xxx`` (unintelligible), and rows with an empty value, are kept: they
are the participant's own voice, and that reproduction's audio pipeline keeps them too.

Known defects, each reported by name (what is left out in ``Parsed.excluded``, what is handled in
``Parsed.notes``):
- 373 and 444: someone else intrudes during the interview, 373 from 395 s to 428 s and 444 from
  286 s to 387 s (the ranges the DepAudioNet reproduction uses; the owners' documentation says
  only "around 5:52-7:00" and "4:46-6:27"). That time is cut out of the participant's speech
  (option ``interruptions``).
- 451, 458 and 480: the transcript has no Ellie lines (the owners' documentation). The
  participant's lines are timed as in any session, but a pause between two of them may hold
  Ellie's untranscribed voice, so lines are never merged across a pause in such a session.
- 318, 321, 341 and 362: the transcript's times run early by a fixed offset (the DepAudioNet
  reproduction's ``misaligned``); the offset is added to them (option ``transcript_offsets``).
- A label row whose PHQ8_Binary disagrees with PHQ8_Score >= 10 (409: 0 with a score of 10, in
  the public copy; the same reproduction relabels it) is reported; PHQ8_Binary is used unless
  ``binary_from_score`` is set.
- A session folder without its transcript or its audio, or a listed participant without a
  folder: reported and skipped.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import soundfile as sf

from care_superb.downstream.corpus import CorpusError, Excluded, Parsed, Utterance, require_root

LANGUAGE = "en"  # what is spoken, as Whisper codes it (asr_text transcribes in it): English

LABEL_FILES = {"train": "train_split_Depression_AVEC2017.csv", "dev": "dev_split_Depression_AVEC2017.csv"}
LABEL_COLUMNS = ("Participant_ID", "PHQ8_Binary", "PHQ8_Score")  # the ones read
TEST_LABEL_FILE = "full_test_split.csv"  # the AVEC 2017 test labels
TEST_LABEL_COLUMNS = ("Participant_ID", "PHQ_Binary", "PHQ_Score")
TEST_LISTS = {"dev": LABEL_FILES["dev"], "test": TEST_LABEL_FILE}  # test_list -> the scored list
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
# A participant line whose whole value (stripped, lower case) matches is not interview speech.
MARKERS = (
    (re.compile(r"^[<\[]\s*sync(?:h|ing|hing)?\s*[>\].]?$"), "sync marker line"),
    (re.compile(r"^<\s*ellie starts\s*>$"), "<ellie starts> marker line"),
    (re.compile(r"^<\s*talking to experimenter\s*>$"), "talking to the experimenter"),
)
MIN_REGION_SECONDS = 0.1  # shorter leftovers (cut by an overlap with Ellie) hold no usable speech
LAYOUT = ("session folders NNN_P/ with NNN_AUDIO.wav and NNN_TRANSCRIPT.csv, and the label files "
          + " and ".join(LABEL_FILES.values()))


@dataclass(frozen=True)
class Line:
    start: float
    stop: float
    speaker: str  # "ellie" or "participant"
    text: str
    line: int = 0  # in the transcript file (the header is line 1)


def marker(line: Line) -> str | None:
    """Why a participant line is not interview speech (a ``MARKERS`` reason), or None."""
    value = line.text.strip().lower()
    return next((reason for pattern, reason in MARKERS if pattern.match(value)), None)


def read_labels(path: Path, binary_from_score: bool = False,
                columns: tuple[str, str, str] = LABEL_COLUMNS) -> tuple[dict[int, str], list[str]]:
    """Participant ID -> label from one AVEC 2017 label file (``columns``: its ID, binary and score
    columns), and the disagreements found. pandas reads LF, CRLF and full_test_split.csv's
    ``\r\r\n`` alike."""
    table = pd.read_csv(path, skipinitialspace=True)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CorpusError(f"{path}: missing columns {missing}; expected {','.join(columns)},Gender,...")
    id_col, binary_col, score_col = columns
    labels, defects = {}, []
    for row in table.to_dict("records"):
        pid, binary, score = int(row[id_col]), int(row[binary_col]), int(row[score_col])
        if binary not in LABELS:
            raise CorpusError(f"{path}: participant {pid} has {binary_col}={binary}; expected 0 or 1")
        if binary != int(score >= 10):
            defects.append(f"{pid}: {path.name} says {binary_col}={binary} but {score_col}={score} "
                           f"(binary is PHQ-8 >= 10); using "
                           + ("the score" if binary_from_score else binary_col))
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
        lines.append(Line(start, stop, speaker, text, number))
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
            merge_gap_seconds: float = 1.0, binary_from_score: bool = False, test_list: str = "dev") -> Parsed:
    """The participant's speech regions of every labelled session; what was left out, and the
    defects handled on the way (``Parsed.notes``). ``test_list: test`` also reads the AVEC 2017
    test labels (``full_test_split.csv``) for the challenge's own partition."""
    if test_list not in TEST_LISTS:
        raise CorpusError(f"datarc.corpus.test_list={test_list!r}; choose dev (the AVEC 2017 dev list, the default) "
                          f"or test (the AVEC 2017 test labels, {TEST_LABEL_FILE})")
    root = require_root(root, "DAIC-WOZ", LAYOUT)
    interruptions = {int(k): tuple(map(float, v)) for k, v in
                     (INTERRUPTIONS if interruptions is None else interruptions).items()}
    offsets = {int(k): float(v) for k, v in
               (TRANSCRIPT_OFFSETS if transcript_offsets is None else transcript_offsets).items()}
    notes: list[str] = []
    excluded: list[Excluded] = []
    split_of: dict[int, str] = {}
    label_of: dict[int, str] = {}
    label_files = {split: (_find(root, name), LABEL_COLUMNS) for split, name in LABEL_FILES.items()}
    test_file = _find(root, TEST_LABEL_FILE, required=test_list == "test")
    if test_list == "test":
        label_files["test"] = (test_file, TEST_LABEL_COLUMNS)
    for split, (path, columns) in label_files.items():
        labels, disagreements = read_labels(path, binary_from_score, columns)
        notes += disagreements
        for pid, label in labels.items():
            if pid in split_of:
                raise CorpusError(f"participant {pid} is in both {label_files[split_of[pid]][0].name} and {path.name}")
            split_of[pid], label_of[pid] = split, label
    folders = {int(m["id"]): p for p in root.iterdir() if p.is_dir() and (m := SESSION.match(p.name))}
    if not folders:
        raise CorpusError(f"{root} holds no session folders NNN_P/; expected {LAYOUT}")

    utterances: list[Utterance] = []
    for pid in sorted(split_of):
        listed = f"listed in {label_files[split_of[pid]][0].name}"
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
            lines = [replace(l, start=l.start + shift, stop=l.stop + shift) for l in lines]
            notes.append(f"{pid}: transcript times run {shift:g} s early; shifted")
        if not any(l.speaker == "ellie" for l in lines):
            notes.append(f"{pid}: transcript has no Ellie lines; participant lines are not merged across pauses")
        markers = [(l, reason) for l in lines if l.speaker == "participant" and (reason := marker(l))]
        excluded += [Excluded(f"{pid}/line{l.line}", reason, f"{transcript.name}:{l.line}: {l.text!r}, "
                                                            f"{l.start:g} s to {l.stop:g} s")
                     for l, reason in markers]
        lines = [l for l in lines if not (l.speaker == "participant" and marker(l))]
        if not any(l.speaker == "participant" for l in lines):
            excluded.append(Excluded(str(pid), "session without participant speech",
                                     f"{transcript} has no participant lines other than markers"))
            continue
        cut = [interruptions[pid]] if pid in interruptions else []
        if cut:
            excluded.append(Excluded(str(pid), "interruption cut out",
                                     f"{cut[0][0]:g} s to {cut[0][1]:g} s removed from the participant's speech"))
        regions = participant_regions(lines, merge_gap_seconds, cut + [(l.start, l.stop) for l, _ in markers],
                                      _duration(audio))
        if not regions:
            excluded.append(Excluded(str(pid), "session without participant speech",
                                     "nothing left after removing Ellie, markers and interruptions"))
            continue
        utterances += [Utterance(key=f"{pid}/turn{i:03d}", path=audio, label=label_of[pid], speaker=str(pid),
                                 split=split_of[pid], start=start, end=end)
                       for i, (start, end) in enumerate(regions)]
    on_test_list = set(read_labels(test_file, binary_from_score, TEST_LABEL_COLUMNS)[0]) if test_file else set()
    for pid in sorted(set(folders) - set(split_of)):
        if pid in on_test_list:
            excluded.append(Excluded(str(pid), "AVEC 2017 test list (test_list: dev)",
                                     f"{folders[pid]}: in {TEST_LABEL_FILE}, scored only with test_list: test"))
        else:
            excluded.append(Excluded(str(pid), "session in no label list",
                                     f"{folders[pid]}: not in {', '.join([*LABEL_FILES.values(), TEST_LABEL_FILE])}"))
    return Parsed(utterances, excluded, notes=notes,
                  partition=f"AVEC 2017 lists, tested on {TEST_LISTS[test_list]} (test_list: {test_list})",
                  clusters="interview")


def _find(root: Path, name: str, required: bool = True) -> Path | None:
    """A label file at the root or one folder below it (where an archive may unpack it)."""
    found = [root / name] if (root / name).is_file() else sorted(root.glob(f"*/{name}"))
    if found:
        return found[0]
    if name == TEST_LABEL_FILE and required:
        raise CorpusError(f"{name} is missing under {root} (nor one folder below): datarc.corpus.test_list: test "
                          f"scores on the AVEC 2017 test labels it holds (Participant_ID,PHQ_Binary,PHQ_Score,Gender). "
                          f"Put it beside the other label files, or use test_list: dev (the AVEC 2017 dev list)")
    if required:
        raise CorpusError(f"{name} is missing: a DAIC-WOZ root holds {LAYOUT}")
    return None


def _duration(audio: Path) -> float | None:
    """Seconds of audio, to clip transcript times; None when unreadable (the expert's audio check
    then reports the file)."""
    try:
        return sf.info(str(audio)).duration
    except Exception:
        return None
