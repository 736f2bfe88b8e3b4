"""MSP-IMPROV, an acted corpus of dyadic interactions (Busso et al., 2016): 8,438 turns, 12
actors (F01-F06, M01-M06) recorded in pairs, one pair per session (session N: F0N and M0N);
the counts are the owners' paper's (Busso et al., 2016), not checked against a copy here.

As distributed: ``Audio/session{1..6}/S{NN}{E}/{P|R|S|T}/MSP-IMPROV-S01A-F01-S-FM01.wav`` (some
copies lack the ``Audio/`` level; audio is found anywhere under the root). The name holds the
sentence and its target emotion (``S01A``), the actor whose improvisation it is (``F01``), the
condition (``R`` read sentence; ``T`` the target sentence inside the improvisation; ``S`` the other
turns of the improvisation; ``P`` natural interaction between improvisations) and the turn
(``FM01``: who speaks, who listens, and that speaker's turn number in the recording).

Who speaks a turn. In ``S`` and ``P`` recordings both actors of the session speak: the 4th
field names whose improvisation it is, not who speaks the turn; the first letter of the last
field does (``MSP-IMPROV-S01A-F01-S-MF02`` is spoken by M01). Read sentences are ``FF``/``MM``,
target sentences always the improvising actor's. There is no official document of this; it
follows from the corpus's file lists (public in several repositories), where ``R`` and ``T``
turns always start with the 4th field's letter and ``S``/``P`` recordings mix both. Public
loaders take the 4th field as the speaker, which puts the partner's voice in a speaker's folds;
``speaker: actor`` keeps that reading for comparison, ``speaker: turn`` (the default) is the voice.

Labels: ``Evaluation.txt`` (some copies spell it ``Evalution.txt``). A label line per turn,
``UTD-IMPROV-S01A-F01-S-FM01.avi; N; A:3.000000; V:3.500000; D:3.000000 ; N:3.000000;``
(consensus emotion letter, then arousal, valence, dominance and naturalness averaged over the
raters, roughly on a 1-5 scale), followed by one line per rater, which are ignored. IDs use
``UTD-`` where the audio uses ``MSP-``; A, V and D are read by their prefix, not their position.
A value may be ``NaN``.

``prepare`` returns one Utterance per labelled turn with its audio: label = (valence, arousal,
dominance), in that order everywhere in this task (``ATTRIBUTES``), speaker as above. Turns
without audio, with a NaN attribute, or labelled twice (first kept), and audio without a label,
are left out, each by name.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from care_superb.downstream.corpus import CorpusError, Excluded, Parsed, Utterance, require_root

LANGUAGE = "en"  # what is spoken, as Whisper codes it (asr_text transcribes in it): English

ATTRIBUTES = ("valence", "arousal", "dominance")
PREFIXES = {"V": "valence", "A": "arousal", "D": "dominance"}
LABEL_FILES = ("Evaluation.txt", "Evalution.txt")
SESSIONS = range(1, 7)  # session N: actress F0N and actor M0N
SPEAKERS = tuple(f"{sex}{n:02d}" for sex in "FM" for n in SESSIONS)
CONDITIONS = {"R": "read", "T": "target sentence", "S": "improvisation", "P": "natural interaction"}
EMOTIONS = {"A": "angry", "H": "happy", "S": "sad", "N": "neutral"}  # the sentence's target emotion
SPEAKER_READINGS = ("turn", "actor")
NAME = re.compile(r"^(?P<corpus>UTD|MSP)-IMPROV-(?P<sentence>S\d\d)(?P<emotion>[A-Z])-(?P<speaker>[FM]\d\d)"
                  r"-(?P<scenario>[A-Z])-(?P<turn>(?P<voice>[FM])[FM]\d+)$")
FIELD = re.compile(r"^(?P<prefix>[A-Z]):\s*(?P<value>[-+0-9.eE]+|NaN|nan)$")
LAYOUT = ("Evaluation.txt (or Evalution.txt) and the audio tree Audio/session{1..6}/S{NN}{E}/{P|R|S|T}/"
          "MSP-IMPROV-....wav")


def parse_name(name: str) -> dict:
    """``MSP-IMPROV-S01A-F01-S-FM01`` (or its ``UTD-`` label ID, with or without a suffix) ->
    sentence, target emotion letter, speaker (the improvising actor, 4th field), scenario, turn,
    voice (the speaking actor, from the turn)."""
    stem = re.sub(r"\.(avi|wav)$", "", name)
    match = NAME.match(stem)
    if match is None:
        raise CorpusError(f"{name}: not an MSP-IMPROV name; expected e.g. MSP-IMPROV-S01A-F01-S-FM01.wav")
    fields = match.groupdict()
    if fields["speaker"] not in SPEAKERS:
        raise CorpusError(f"{name}: unknown speaker {fields['speaker']!r}; MSP-IMPROV has {', '.join(SPEAKERS)}")
    fields["voice"] = fields["voice"] + fields["speaker"][1:]
    return fields


def speaker_of(fields: dict, reading: str = "turn") -> str:
    """The speaker of a turn: its voice (``turn``) or the improvising actor (``actor``)."""
    return fields["voice"] if reading == "turn" else fields["speaker"]


def scene_of(fields: dict) -> str:
    """The scene a turn belongs to: its session and target sentence with its emotion (``session1/S01A``),
    i.e. both actors' improvisations, target and read sentences of it. A test speaker's turns of one
    scene share its words and emotion: the leaderboard resamples scenes, not turns."""
    return f"session{int(fields['speaker'][1:])}/{fields['sentence']}{fields['emotion']}"


def read_labels(path: Path) -> tuple[dict[str, tuple[float, ...] | None], list[Excluded]]:
    """Audio stem (``MSP-IMPROV-...``) -> (valence, arousal, dominance), or None when an
    attribute is NaN; and the lines left out. Rater lines (not starting with ``UTD-``) are skipped."""
    labels: dict[str, tuple[float, ...] | None] = {}
    defects: list[Excluded] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        line = raw.strip()
        if not line.startswith("UTD-"):
            continue
        fields = [f.strip() for f in line.split(";")]
        parse_name(fields[0])  # a malformed ID stops here, with its name
        stem = "MSP-" + re.sub(r"\.avi$", "", fields[0])[4:]
        values = {}
        for field in fields[1:]:
            match = FIELD.match(field)
            if match and match["prefix"] in PREFIXES:
                values[PREFIXES[match["prefix"]]] = float(match["value"])
        if set(values) != set(ATTRIBUTES):
            raise CorpusError(f"{path}:{number}: label line lacks {sorted(set(ATTRIBUTES) - set(values))}: {line!r}")
        if stem in labels:
            defects.append(Excluded(stem, "labelled twice (first label kept)", f"{path.name} line {number}"))
            continue
        label = tuple(values[a] for a in ATTRIBUTES)
        if any(math.isnan(v) for v in label):
            defects.append(Excluded(stem, "attribute is NaN", f"{path.name} line {number}"))
            label = None
        labels[stem] = label
    if not labels:
        raise CorpusError(f"{path} holds no label lines (UTD-IMPROV-...avi; E; A:...; V:...; D:...;)")
    return labels, defects


def prepare(root: str | Path, speaker: str = "turn") -> Parsed:
    """Every labelled turn with audio. ``speaker``: ``turn`` (who speaks it) or ``actor`` (whose
    improvisation it is, the 4th name field, as public loaders read it)."""
    if speaker not in SPEAKER_READINGS:
        raise CorpusError(f"datarc.corpus.speaker={speaker!r}; choose {' or '.join(SPEAKER_READINGS)}")
    root = require_root(root, "MSP-IMPROV", LAYOUT)
    found = [root / name for name in LABEL_FILES if (root / name).is_file()]
    if not found:
        raise CorpusError(f"neither {' nor '.join(str(root / n) for n in LABEL_FILES)} exists: "
                          f"an MSP-IMPROV root holds {LAYOUT}")
    labels, excluded = read_labels(found[0])
    audio: dict[str, Path] = {}
    for path in sorted(root.rglob("MSP-IMPROV-*.wav")):
        if path.stem in audio:
            raise CorpusError(f"{path.stem}.wav is in two places: {audio[path.stem]} and {path}")
        audio[path.stem] = path
    if not audio:
        raise CorpusError(f"{root} holds no MSP-IMPROV-*.wav files; expected {LAYOUT}")
    utterances = []
    for stem, label in sorted(labels.items()):
        if label is None:
            continue
        if stem not in audio:
            excluded.append(Excluded(stem, "label without audio", f"labelled in {found[0].name}, no {stem}.wav"))
            continue
        fields = parse_name(stem)
        utterances.append(Utterance(key=stem, path=audio[stem], label=label, speaker=speaker_of(fields, speaker),
                                    cluster=scene_of(fields)))
    excluded += [Excluded(stem, "audio without a label", f"{audio[stem]} has no line in {found[0].name}")
                 for stem in sorted(set(audio) - set(labels))]
    return Parsed(utterances, excluded, partition=f"msp_improv speaker={speaker}", clusters="scene")
