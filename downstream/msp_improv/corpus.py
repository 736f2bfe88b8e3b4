"""MSP-IMPROV, an acted corpus of dyadic interactions (Busso et al., 2016): 8,438 turns, 12
actors (F01-F06, M01-M06) recorded in pairs, one pair per session (session N: FON and M0N).

As distributed: ``Audio/session{1..6}/S{NN}{E}/{P|R|S|T}/MSP-IMPROV-S01A-F01-S-FM01.wav`` (some
copies lack the ``Audio/`` level; audio is found anywhere under the root). The name holds the
sentence and its target emotion (``S01A``), the actor (``F01``: taken as the speaker, as public
preparation code does), the scenario (``P`` natural interaction, ``R`` read, ``S`` target
sentence, ``T`` other improvisation) and the turn within the pair (``FM01``).

Labels: ``Evaluation.txt`` (some copies spell it ``Evalution.txt``). A label line per turn,
``UTD-IMPROV-S01A-F01-S-FM01.avi; N; A:3.000000; V:3.500000; D:3.000000 ; N:3.000000;``
(consensus emotion letter, then arousal, valence, dominance and naturalness averaged over the
raters, roughly on a 1-5 scale), followed by one line per rater, which are ignored. IDs use
``UTD-`` where the audio uses ``MSP-``; A, V and D are read by their prefix, not their position.
A value may be ``NaN``.

``prepare`` returns one Utterance per labelled turn with its audio: label = (valence, arousal,
dominance), in that order everywhere in this task (``ATTRIBUTES``), speaker = the actor. Turns
without audio, with a NaN attribute, or labelled twice (first kept) are reported by name
(``scan`` returns them; ``prepare`` logs them as warnings) and skipped.
"""
from __future__ import annotations

import logging
import math
import re
from pathlib import Path

from care_superb.downstream.corpus import CorpusError, Utterance, require_root

log = logging.getLogger(__name__)

ATTRIBUTES = ("valence", "arousal", "dominance")
PREFIXES = {"V": "valence", "A": "arousal", "D": "dominance"}
LABEL_FILES = ("Evaluation.txt", "Evalution.txt")
SPEAKERS = tuple(f"{sex}{n:02d}" for sex in "FM" for n in range(1, 7))
NAME = re.compile(r"^(?P<corpus>UTD|MSP)-IMPROV-(?P<sentence>S\d\d)(?P<emotion>[A-Z])-(?P<speaker>[FM]\d\d)"
                  r"-(?P<scenario>[A-Z])-(?P<turn>[A-Z0-9]+)$")
FIELD = re.compile(r"^(?P<prefix>[A-Z]):\s*(?P<value>[-+0-9.eE]+|NaN|nan)$")
LAYOUT = ("Evaluation.txt (or Evalution.txt) and the audio tree Audio/session{1..6}/S{NN}{E}/{P|R|S|T}/"
          "MSP-IMPROV-....wav")


def parse_name(name: str) -> dict:
    """``MSP-IMPROV-S01A-F01-S-FM01`` (or its ``UTD-`` label ID, with or without a suffix) ->
    sentence, target emotion letter, speaker, scenario, turn."""
    stem = re.sub(r"\.(avi|wav)$", "", name)
    match = NAME.match(stem)
    if match is None:
        raise CorpusError(f"{name}: not an MSP-IMPROV name; expected e.g. MSP-IMPROV-S01A-F01-S-FM01.wav")
    fields = match.groupdict()
    if fields["speaker"] not in SPEAKERS:
        raise CorpusError(f"{name}: unknown speaker {fields['speaker']!r}; MSP-IMPROV has {', '.join(SPEAKERS)}")
    return fields


def read_labels(path: Path) -> tuple[dict[str, tuple[float, ...] | None], list[str]]:
    """Audio stem (``MSP-IMPROV-...``) -> (valence, arousal, dominance), or None when an
    attribute is NaN; and the defects met. Rater lines (not starting with ``UTD-``) are skipped."""
    labels: dict[str, tuple[float, ...] | None] = {}
    defects = []
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
            defects.append(f"{stem}: labelled twice ({path.name} line {number}); the first label is kept")
            continue
        label = tuple(values[a] for a in ATTRIBUTES)
        if any(math.isnan(v) for v in label):
            defects.append(f"{stem}: an attribute is NaN ({path.name} line {number}); skipped")
            label = None
        labels[stem] = label
    if not labels:
        raise CorpusError(f"{path} holds no label lines (UTD-IMPROV-...avi; E; A:...; V:...; D:...;)")
    return labels, defects


def scan(root: str | Path) -> tuple[list[Utterance], list[str]]:
    root = require_root(root, "MSP-IMPROV", LAYOUT)
    found = [root / name for name in LABEL_FILES if (root / name).is_file()]
    if not found:
        raise CorpusError(f"neither {' nor '.join(str(root / n) for n in LABEL_FILES)} exists: "
                          f"an MSP-IMPROV root holds {LAYOUT}")
    labels, defects = read_labels(found[0])
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
            defects.append(f"{stem}: labelled in {found[0].name} but has no audio; skipped")
            continue
        utterances.append(Utterance(key=stem, path=audio[stem], label=label, speaker=parse_name(stem)["speaker"]))
    unlabelled = sorted(set(audio) - set(labels))
    if unlabelled:
        defects.append(f"{len(unlabelled)} audio files have no label line and are not used: "
                       + ", ".join(unlabelled[:10]) + (" ..." if len(unlabelled) > 10 else ""))
    return utterances, defects


def prepare(root: str | Path) -> list[Utterance]:
    utterances, defects = scan(root)
    for defect in defects:
        log.warning("MSP-IMPROV %s", defect)
    return utterances
