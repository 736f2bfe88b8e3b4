"""EmoDB, the Berlin Database of Emotional Speech (Burkhardt et al., 2005).

As distributed: the archive unpacks to ``wav/`` (beside ``lablaut/ labsilb/ silb/`` and two
text files), 535 files named ``SSTTTEV.wav``: speaker ``SS`` (03 08 09 10 11 12 13 14 15 16),
text ``TTT`` (a01 a02 a04 a05 a07 b01 b02 b03 b09 b10), emotion letter ``E`` and take letter
``V`` (a-f). There is no official split; EmoBox's folds are not speaker-independent, CARE's are.

Sources: speakers, texts and codes from the owners' documentation (``erklaerung.txt`` in the
archive; Burkhardt et al., 2005); the 535 files checked against a public copy of the audio
(issue 16); EmoBox's folds from its ``data/emodb`` fold manifests.
"""
from __future__ import annotations

import re
from pathlib import Path

from care_superb.downstream.corpus import CorpusError, Parsed, Utterance, require_dir, require_root

LANGUAGE = "de"  # what is spoken, as Whisper codes it (asr_text transcribes in it): German

# speaker id -> sex, as documented with the corpus.
SPEAKERS = {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m",
            "12": "m", "13": "f", "14": "f", "15": "m", "16": "f"}
# text code -> the sentence every speaker reads in every emotion.
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
            "F": "happiness", "T": "sadness", "N": "neutral"}
NAME = re.compile(r"^(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<emotion>[A-Z])(?P<take>[a-z])\.wav$")
LAYOUT = "a wav/ folder of files named SSTTTEV.wav (e.g. wav/03a01Fa.wav)"


def parse_name(name: str) -> dict:
    """``03a01Fa.wav`` -> speaker, text, emotion name, take; CorpusError when it does not parse."""
    match = NAME.match(name)
    if match is None:
        raise CorpusError(f"{name}: not an EmoDB file name; expected SSTTTEV.wav, e.g. 03a01Fa.wav")
    fields = match.groupdict()
    if fields["speaker"] not in SPEAKERS:
        raise CorpusError(f"{name}: unknown speaker {fields['speaker']!r}; EmoDB has {', '.join(SPEAKERS)}")
    if fields["text"] not in TEXTS:
        raise CorpusError(f"{name}: unknown text code {fields['text']!r}; EmoDB has {', '.join(TEXTS)}")
    if fields["emotion"] not in EMOTIONS:
        raise CorpusError(f"{name}: unknown emotion letter {fields['emotion']!r}; EmoDB has "
                          + ", ".join(f"{k} ({v})" for k, v in EMOTIONS.items()))
    fields["emotion"] = EMOTIONS[fields["emotion"]]
    return fields


def prepare(root: str | Path) -> Parsed:
    root = require_root(root, "EmoDB", LAYOUT)
    wav_dir = require_dir(root / "wav", "EmoDB", LAYOUT)
    files = sorted(p for p in wav_dir.iterdir() if p.suffix.lower() == ".wav")
    if not files:
        raise CorpusError(f"{wav_dir} holds no .wav files; expected {LAYOUT}")
    utterances = []
    for path in files:
        fields = parse_name(path.name)
        utterances.append(Utterance(key=path.stem, path=path, label=fields["emotion"], speaker=fields["speaker"]))
    return Parsed(utterances)
