"""CaFE, the Canadian French Emotional speech dataset (Gournay, Lahaie & Lefebvre, 2018).

As distributed: ``CaFE_48k/<Emotion>/<Fort|Faible>/AA-E-I-S.wav`` (``Neutre/`` has no intensity
folder), 936 files, 12 actors; a 192 kHz edition ``CaFE_192k/`` has the same tree. File
``01-C-1-1.wav``: actor ``AA`` 01-12 (odd = male), emotion letter ``E``, intensity ``I``
(1 low = Faible, 2 high = Fort), sentence ``S`` 1-6. Quirks:

- The emotion folders are accented (Colère, Dégoût, ...) and often arrive garbled by zip
  encodings ("Col+¿re"): labels come from the file names only, folder names are never read.
- Zips made on macOS may add ``__MACOSX/`` and ``._*`` files; they are ignored.
- ``root`` may be the edition folder itself or a folder holding ``CaFE_48k/`` and/or
  ``CaFE_192k/`` (``edition`` chooses; ``auto`` prefers 48 kHz). The loader resamples to 16 kHz.

There is no official split; CARE draws speakers for train / validation / test.
"""
from __future__ import annotations

import re
from pathlib import Path

from care_superb.downstream.corpus import CorpusError, Parsed, Utterance, require_root

EMOTIONS = {"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral",
            "P": "fear", "S": "surprise", "T": "sadness"}
FOLDERS = {"C": "Colère", "D": "Dégoût", "J": "Joie", "N": "Neutre", "P": "Peur", "S": "Surprise",
           "T": "Tristesse"}  # as the corpus names them (never read: see above)
INTENSITIES = {"1": "Faible", "2": "Fort"}  # the intensity folders; Neutre has none
SENTENCES = {
    "1": "Un cheval fou dans mon jardin.",
    "2": "Deux ânes aigris au pelage brun.",
    "3": "Trois cygnes aveugles au bord du lac.",
    "4": "Quatre vieilles truies éléphantesques.",
    "5": "Cinq pumas fiers et passionnés.",
    "6": "Six ours aimants domestiqués.",
}
ACTORS = {f"{n:02d}": "m" if n % 2 else "f" for n in range(1, 13)}  # actor -> sex (odd = male)
EDITIONS = {"48k": "CaFE_48k", "192k": "CaFE_192k"}
SAMPLE_RATES = {"48k": 48000, "192k": 192000}
NAME = re.compile(r"^(?P<actor>\d\d)-(?P<emotion>[A-Z])-(?P<intensity>\d)-(?P<sentence>\d)\.wav$")
LAYOUT = ("CaFE_48k/ (or CaFE_192k/) with <Emotion>/<Fort|Faible>/AA-E-I-S.wav and Neutre/AA-N-I-S.wav "
          "(e.g. CaFE_48k/Colère/Fort/01-C-2-1.wav)")


def parse_name(name: str) -> dict:
    """``01-C-2-1.wav`` -> actor, emotion name, intensity, sentence; CorpusError when it does not parse."""
    match = NAME.match(name)
    if match is None:
        raise CorpusError(f"{name}: not a CaFE file name; expected AA-E-I-S.wav, e.g. 01-C-2-1.wav")
    fields = match.groupdict()
    if fields["actor"] not in ACTORS:
        raise CorpusError(f"{name}: actor {fields['actor']!r} is not CaFE's; expected 01-12")
    if fields["emotion"] not in EMOTIONS:
        raise CorpusError(f"{name}: unknown emotion letter {fields['emotion']!r}; CaFE has "
                          + ", ".join(f"{k} ({v})" for k, v in EMOTIONS.items()))
    if fields["intensity"] not in INTENSITIES:
        raise CorpusError(f"{name}: intensity {fields['intensity']!r} is not CaFE's; expected 1 (Faible) or 2 (Fort)")
    if fields["sentence"] not in SENTENCES:
        raise CorpusError(f"{name}: sentence {fields['sentence']!r} is not CaFE's; expected 1-6")
    fields["emotion"] = EMOTIONS[fields["emotion"]]
    return fields


def edition_folder(root: Path, edition: str = "auto") -> Path:
    """The folder holding the emotion folders, for ``edition`` 48k, 192k or auto."""
    if edition not in ("auto", *EDITIONS):
        raise CorpusError(f"datarc.corpus.edition={edition!r}; choose auto, {', '.join(EDITIONS)}")
    if root.name in EDITIONS.values():
        return root
    wanted = list(EDITIONS) if edition == "auto" else [edition]
    for name in wanted:
        if (root / EDITIONS[name]).is_dir():
            return root / EDITIONS[name]
    found = ", ".join(sorted(p.name for p in root.iterdir())[:8]) or "nothing"
    raise CorpusError(f"{root} holds no {' or '.join(EDITIONS[n] + '/' for n in wanted)} (found: {found}); "
                      f"a CaFE root holds {LAYOUT}")


def prepare(root: str | Path, edition: str = "auto") -> Parsed:
    root = require_root(root, "CaFE", LAYOUT)
    folder = edition_folder(root, edition)
    files = sorted(p for p in folder.rglob("*.wav")
                   if not p.name.startswith(".") and "__MACOSX" not in p.relative_to(folder).parts)
    if not files:
        raise CorpusError(f"{folder} holds no .wav files; expected {LAYOUT}")
    utterances, seen = [], {}
    for path in files:
        fields = parse_name(path.name)
        if path.stem in seen:
            raise CorpusError(f"{path.name} is in the corpus twice: {seen[path.stem]} and {path}")
        seen[path.stem] = path
        utterances.append(Utterance(key=path.stem, path=path, label=fields["emotion"], speaker=fields["actor"]))
    return Parsed(utterances)
