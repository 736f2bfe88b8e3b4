"""IEMOCAP (Busso et al., 2008): acted dyadic sessions, 5 sessions of 2 speakers each, 16 kHz.
One corpus folder for both tasks, ``iemocap4`` and ``iemocap6`` (task folders of their own): they
differ only in their class list, label map and drop list.

As distributed (``IEMOCAP_full_release``): ``Session{1..5}/sentences/wav/<dialog>/<utt>.wav``,
and per dialog the labels in ``Session{n}/dialog/EmoEvaluation/<dialog>.txt``, one line per turn::

    [6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]

followed by the individual raters' lines (``C-E2: ...``, ``A-E3: ...``), which are not read.
The label is the consensus code: neu, hap, exc, sad, ang, fru, sur, fea, dis, oth, or xxx (no
majority). Quirks:

- The speaker is the session plus the gender letter that starts the utterance ID's last part
  (``Ses01F_impro01_M003`` -> ``Ses01M``): the dialog's name says who wore the markers, not who
  speaks.
- ``EmoEvaluation/`` also holds the folders ``Categorical/``, ``Attribute/`` and
  ``Self-evaluation/`` (per-rater files) and, in copies made on macOS, ``._*`` files: only the
  top-level ``<dialog>.txt`` files are read.

The session is the unit of the standard protocol (leave one session out), so each utterance's
``split`` is its session, ``Session1`` ... ``Session5``.

Sources: the layout, label lines and codes from the release's own files and Busso et al. (2008);
not checked against a copy of the release in this project (licence-restricted).
"""
from __future__ import annotations

import re
from pathlib import Path

from care_superb.downstream.corpus import CorpusError, Excluded, Parsed, Utterance, require_dir, require_root

LANGUAGE = "en"  # what is spoken, as Whisper codes it (asr_text transcribes in it): English

SESSIONS = tuple(f"Session{n}" for n in range(1, 6))
# consensus code -> the category the raters chose (their lines spell it out)
CODES = {"neu": "Neutral", "hap": "Happiness", "exc": "Excited", "sad": "Sadness", "ang": "Anger",
         "fru": "Frustration", "sur": "Surprise", "fea": "Fear", "dis": "Disgust", "oth": "Other",
         "xxx": None}  # xxx: the raters reached no majority
HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"  # first line of an EmoEvaluation file
LINE = re.compile(r"^\[(?P<start>[\d.]+) - (?P<end>[\d.]+)\]\t(?P<utt>\S+)\t(?P<code>\S+)\t\[")
UTTERANCE = re.compile(r"^Ses(?P<session>\d\d)[FM]_.+_(?P<gender>[FM])[A-Z0-9]*$")
LAYOUT = ("Session1/ ... Session5/, each with sentences/wav/<dialog>/<utt>.wav and "
          "dialog/EmoEvaluation/<dialog>.txt")


def speaker_of(utterance_id: str, where: str) -> str:
    """``Ses01F_impro01_M003`` -> ``Ses01M``."""
    match = UTTERANCE.match(utterance_id)
    if match is None:
        raise CorpusError(f"{where}: {utterance_id!r} is not an IEMOCAP utterance ID "
                          f"(expected e.g. Ses01F_impro01_F000 or Ses01M_script01_1_M012)")
    return f"Ses{match['session']}{match['gender']}"


def read_evaluation(path: Path) -> list[tuple[str, str]]:
    """(utterance ID, label code) for each turn line of an EmoEvaluation file."""
    turns = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        match = LINE.match(line)
        if match is None:
            continue
        code = match["code"]
        if code not in CODES:
            raise CorpusError(f"{path} line {number}: {match['utt']} has label {code!r}; IEMOCAP's codes are "
                              f"{', '.join(CODES)}")
        turns.append((match["utt"], code))
    return turns


def prepare(root: str | Path) -> Parsed:
    root = require_root(root, "IEMOCAP", LAYOUT)
    if not (root / SESSIONS[0]).is_dir() and (root / "IEMOCAP_full_release").is_dir():
        root = root / "IEMOCAP_full_release"
    absent = [s for s in SESSIONS if not (root / s).is_dir()]
    if absent:
        raise CorpusError(f"{root}: {', '.join(absent)} missing; an IEMOCAP root holds {LAYOUT}")
    utterances, unlabelled = [], []
    for session in SESSIONS:
        wav_root = require_dir(root / session / "sentences" / "wav", "IEMOCAP", LAYOUT)
        labels = require_dir(root / session / "dialog" / "EmoEvaluation", "IEMOCAP", LAYOUT)
        files = sorted(p for p in labels.glob("*.txt") if not p.name.startswith("."))
        if not files:
            raise CorpusError(f"{labels} holds no <dialog>.txt files; an IEMOCAP root holds {LAYOUT}")
        labelled = set()
        for path in files:
            dialog = path.stem
            for utt, code in read_evaluation(path):
                speaker = speaker_of(utt, str(path))
                if f"Session{int(speaker[3:5])}" != session:
                    raise CorpusError(f"{path}: {utt} belongs to {speaker[:5]}, not {session}")
                wav = wav_root / dialog / f"{utt}.wav"
                if not wav.is_file():
                    raise CorpusError(f"{wav} is missing: {path} labels {utt}")
                labelled.add(wav)
                # A test session is 2 speakers but ~30 dialogues: the dialogue is what errors cluster in.
                utterances.append(Utterance(key=utt, path=wav, label=code, speaker=speaker, split=session,
                                            cluster=dialog))
        unlabelled += [Excluded(p.stem, "audio without a label", f"{p} has no line in {labels}")
                       for p in sorted(wav_root.glob("*/*.wav")) if not p.name.startswith(".") and p not in labelled]
    return Parsed(utterances, unlabelled, clusters="dialogue")
