"""CaFE, the Canadian French Emotional speech dataset (Gournay, Lahaie & Lefebvre, 2018).

As its owners distribute it (Zenodo record 1478765: ``CaFE_48k.zip``, ``CaFE_192k_1.zip``,
``CaFE_192k_2.zip``), in two editions of the same 936 recordings:

- 48 kHz: ``CaFE_48k.zip`` -> ``CaFE_48k/<Emotion>/<Fort|Faible>/AA-E-I-S.wav`` and
  ``CaFE_48k/Neutre/AA-N-1-S.wav`` (neutral keeps an intensity field, always 1). Source: the file
  list of EmoBox's ``data/cafe/cafe.jsonl`` (e.g. ``CaFE_48k/Neutre/08-N-1-1.wav``).
- 192 kHz / 24 bit: two archives, ``CaFE_192k_1/`` (actors 01-06) and ``CaFE_192k_2/`` (07-12),
  each with its own ``Readme.txt`` and ``License.txt``; the audio is **AIFF**
  (``Colère/Faible/01-C-1-1.aiff``) although the Readme says ``AA-E-I-S.wav``, and neutral
  files have **three** fields, ``Neutre/AA-N-S.aiff`` (``03-N-1.aiff``, ``07-N-6.aiff``). Source:
  the file list of a public copy of both archives (michen00/multilingual_speech_valence_
  classification_datasets, ``datasets/cafe/``).

File fields (the Readme): actor ``AA`` 01-12 (odd = male), emotion letter ``E``, intensity ``I``
(1 low = Faible, 2 high = Fort), sentence ``S`` 1-6. 12 actors x (6 emotions x 2 intensities x 6
sentences + 6 neutral) = 936 files: 78 per actor, 144 per emotion, 72 neutral.
Quirks:

- The emotion folders are accented (Colère, Dégoût, ...) and often arrive garbled by zip
  encodings ("Col+¿re"): labels come from the file names only, folder names are never read.
- Zips made on macOS may add ``__MACOSX/`` and ``._*`` files; they are ignored.
- ``root`` may be an edition folder itself or the folder holding them (``edition`` chooses;
  ``auto`` prefers 48 kHz). The 192 kHz edition is the pair: either of its folders given as
  ``root`` reads both when the other lies beside it; one half alone (six actors) is refused,
  naming the missing half, since a speaker-independent split of six actors is another benchmark.
  A single ``CaFE_192k/`` holding both halves' files also reads. The loader resamples to 16 kHz.

There is no official split; CARE draws speakers for train / validation / test.
"""
from __future__ import annotations

import re
from pathlib import Path

from care_superb.downstream.corpus import CorpusError, Parsed, Utterance, require_root

LANGUAGE = "fr"  # what is spoken, as Whisper codes it (asr_text transcribes in it): French (Canadian French actors)

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
# edition -> its folders as released, each with the actors it holds
EDITIONS = {"48k": {"CaFE_48k": tuple(ACTORS)},
            "192k": {"CaFE_192k_1": tuple(ACTORS)[:6], "CaFE_192k_2": tuple(ACTORS)[6:]}}
MERGED = {"CaFE_192k": "192k"}  # a copy with both 192 kHz halves in one folder
SAMPLE_RATES = {"48k": 48000, "192k": 192000}
SUFFIXES = (".wav", ".aiff", ".aif")  # 48 kHz: .wav; 192 kHz: .aiff
# 12 actors x (6 emotions x 2 intensities x 6 sentences + 6 neutral) = 936
FILES = len(ACTORS) * ((len(EMOTIONS) - 1) * len(INTENSITIES) + 1) * len(SENTENCES)
NAME = re.compile(r"^(?P<actor>\d\d)-(?P<emotion>[A-Z])(?:-(?P<intensity>\d))?-(?P<sentence>\d)"
                  r"\.(?i:wav|aiff?)$")
LAYOUT = ("CaFE_48k/ (<Emotion>/<Fort|Faible>/AA-E-I-S.wav, Neutre/AA-N-1-S.wav) or the 192 kHz pair "
          "CaFE_192k_1/ + CaFE_192k_2/ (<Emotion>/<Fort|Faible>/AA-E-I-S.aiff, Neutre/AA-N-S.aiff)")


def parse_name(name: str) -> dict:
    """``01-C-2-1.wav`` / ``03-N-1.aiff`` -> actor, emotion name, intensity (None for the 192 kHz
    neutral form), sentence; CorpusError when it does not parse."""
    match = NAME.match(name)
    if match is None:
        raise CorpusError(f"{name}: not a CaFE file name; expected AA-E-I-S.wav or .aiff (e.g. 01-C-2-1.wav), "
                          f"or AA-N-S.aiff for neutral (e.g. 03-N-1.aiff)")
    fields = match.groupdict()
    if fields["actor"] not in ACTORS:
        raise CorpusError(f"{name}: actor {fields['actor']!r} is not CaFE's; expected 01-12")
    if fields["emotion"] not in EMOTIONS:
        raise CorpusError(f"{name}: unknown emotion letter {fields['emotion']!r}; CaFE has "
                          + ", ".join(f"{k} ({v})" for k, v in EMOTIONS.items()))
    if fields["intensity"] is None and fields["emotion"] != "N":
        raise CorpusError(f"{name}: only neutral files (AA-N-S) have no intensity field; expected AA-E-I-S")
    allowed = ("1",) if fields["emotion"] == "N" else tuple(INTENSITIES)  # 48 kHz neutral: AA-N-1-S
    if fields["intensity"] is not None and fields["intensity"] not in allowed:
        raise CorpusError(f"{name}: intensity {fields['intensity']!r} is not CaFE's; expected "
                          + ("1 (or none) for neutral" if fields["emotion"] == "N" else "1 (Faible) or 2 (Fort)"))
    if fields["sentence"] not in SENTENCES:
        raise CorpusError(f"{name}: sentence {fields['sentence']!r} is not CaFE's; expected 1-6")
    fields["emotion"] = EMOTIONS[fields["emotion"]]
    return fields


def edition_folders(root: Path, edition: str = "auto") -> list[Path]:
    """The folders holding the emotion folders, for ``edition`` 48k, 192k or auto."""
    if edition not in ("auto", *EDITIONS):
        raise CorpusError(f"datarc.corpus.edition={edition!r}; choose auto, {', '.join(EDITIONS)}")
    if root.name in MERGED:
        return [root]
    for name, folders in EDITIONS.items():
        if root.name in folders:  # an edition folder itself (for the pair: either half)
            return _complete(root.parent, name, folders, given=root)
    wanted = list(EDITIONS) if edition == "auto" else [edition]
    for name in wanted:
        folders = EDITIONS[name]
        if any((root / folder).is_dir() for folder in folders):
            return _complete(root, name, folders)
        merged = [root / m for m, e in MERGED.items() if e == name and (root / m).is_dir()]
        if merged:
            return merged
    found = ", ".join(sorted(p.name for p in root.iterdir())[:8]) or "nothing"
    names = " or ".join(" + ".join(f"{f}/" for f in EDITIONS[n]) for n in wanted)
    raise CorpusError(f"{root} holds no {names} (found: {found}); a CaFE root holds {LAYOUT}")


def _complete(parent: Path, edition: str, folders: dict, given: Path | None = None) -> list[Path]:
    """Every folder of ``edition`` under ``parent``, or a CorpusError naming the missing ones."""
    missing = [f for f in folders if not (parent / f).is_dir()]
    if missing:
        held = ", ".join(f"{f}/ (actors {folders[f][0]}-{folders[f][-1]})" for f in folders if f not in missing)
        lacking = ", ".join(f"{f}/ (actors {folders[f][0]}-{folders[f][-1]}, archive {f}.zip)" for f in missing)
        raise CorpusError(f"{given or parent}: the CaFE {edition} edition is {' + '.join(folders)}, but {parent} "
                          f"holds only {held}; unzip {lacking} beside it (half the actors would be another benchmark)")
    return [parent / f for f in folders]


def audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()
                  and not p.name.startswith(".") and "__MACOSX" not in p.relative_to(folder).parts)


def prepare(root: str | Path, edition: str = "auto") -> Parsed:
    root = require_root(root, "CaFE", LAYOUT)
    utterances, seen = [], {}
    for folder in edition_folders(root, edition):
        files = audio_files(folder)
        if not files:
            raise CorpusError(f"{folder} holds no {'/'.join(SUFFIXES)} files; expected {LAYOUT}")
        for path in files:
            fields = parse_name(path.name)
            if path.stem in seen:
                raise CorpusError(f"{path.name} is in the corpus twice: {seen[path.stem]} and {path}")
            seen[path.stem] = path
            utterances.append(Utterance(key=path.stem, path=path, label=fields["emotion"], speaker=fields["actor"]))
    return Parsed(utterances)
