"""EmoBox (Ma et al., INTERSPEECH 2024; github.com/emo-box/EmoBox, MIT): 32 emotion corpora in 14
languages, read through EmoBox's published metadata, so that a number here sits beside EmoBox's.

An EmoBox checkout (``datarc.root``) holds, per corpus ``<dataset>`` (EmoBox's folder name):

- ``data/<dataset>/fold_<k>/<dataset>_{train,test}_fold_<k>.jsonl``: fold k, one JSON object per
  line: ``key`` (``emodb-03a02Wb``), ``dataset``, ``wav`` (relative to the checkout:
  ``downloads/emodb/wav/03a02Wb.wav``), ``type``, ``sample_rate``, ``num_frame``, ``length``
  (seconds), ``task``, ``emo`` (the corpus's label), ``channel``. Most corpora publish no valid
  list: dev is drawn here (``splits.published_fold_held_out_dev``); where
  ``<dataset>_valid_fold_<k>.jsonl`` is published (MELD), it is dev, and nothing is drawn.
- ``data/<dataset>/label_map.json``: ``emo`` -> class name, merging some (IEMOCAP: exc -> Happy).
  The task's classes are the map's values, sorted.
- ``data/<dataset>/<dataset>.jsonl``: every utterance (not read: a fold's two lists are the data).
- ``downloads/<dataset>/...``: the audio, which the user downloads from each corpus's owners.

Quirks of the published files (checked against the repository, issue 28):

- EmoDB's fold folders hold each list twice (``emodb_test_fold_1.jsonl`` and
  ``emodb_test_fold1.jsonl``): the ``_fold_<k>`` file is read, and the other must list the same keys.
- EmoDB's ``emo`` values include ``boredem`` (so does its label map, which is what counts).
- EmoDB's label map has the key ``Neutral`` while its 79 neutral rows say ``neutral``: a label that
  differs from one key only in case takes that key's class (said in the notes); a label matching
  no key is left out, counted and named (``label 'x' not in label_map.json``), never dropped silently.
- RAVDESS's map renames ``Fearful`` -> ``Fear`` and ``Surprised`` -> ``Surprise``.
- CaFE's paths keep zip-mangled folder names (``CaFE_48k/D\\u201ago\\u2013t/...``): a path is used as
  written, then in its NFC and NFD forms (an unzip on macOS writes NFD).
- Sample rates are 16, 22.05, 44.1 and 48 kHz (the loader resamples) and EmoDB's folds share
  speakers between train and test.

Every row is checked against its file (``checks.py``, ``datarc.on_mismatch``).

Speakers, the unit dev is drawn by and the intervals resample: a row's ``speaker`` field where the
manifest has one, else the corpus's own file naming where this project reads it (``SPEAKER_OF``:
EmoDB, RAVDESS, CaFE, IEMOCAP), else each utterance is its own unit (the row says
``resampling.unit: utterance``). A fold that shares speakers between train and test is kept as
published: each utterance is then the unit kept out of two splits, and the speaker the cluster.
"""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path, PurePosixPath

from care_superb.downstream.cafe.corpus import parse_name as cafe_name
from care_superb.downstream.corpus import (CorpusError, Excluded, Parsed, Utterance, count_reasons, require_dir,
                                          require_root)
from care_superb.downstream.emobox import checks
from care_superb.downstream.emodb.corpus import parse_name as emodb_name
from care_superb.downstream.facts.ravdess import parse_name as ravdess_name
from care_superb.downstream.iemocap.corpus import speaker_of as iemocap_speaker

# The datarc settings ``prepare`` reads besides datarc.corpus (downstream/expert.py passes them).
DATARC = ("dataset", "fold", "on_mismatch")
LAYOUT = ("an EmoBox checkout: data/<dataset>/label_map.json, data/<dataset>/fold_<k>/"
          "<dataset>_{train,test}_fold_<k>.jsonl, and the audio under downloads/<dataset>/ at each row's wav path")

# EmoBox's corpora (its data/ folder names) and their language, from EmoBox's README table.
language = {
    "aesdd": "Greek", "ased": "Amharic", "asvpesd": "mixed", "cafe": "French", "casia": "Mandarin",
    "cremad": "English", "emns": "English", "emodb": "German", "emovdb": "English", "emovo": "Italian",
    "emozionalmente": "Italian", "enterface": "English", "esd": "mixed (English, Mandarin)", "iemocap": "English",
    "jlcorpus": "English", "m3ed": "Mandarin", "mead": "English", "meld": "English", "mer2023": "Mandarin",
    "mesd": "Spanish", "msppodcast": "English", "oreau": "French", "pavoque": "German", "polish": "Polish",
    "ravdess": "English", "resd": "Russian", "savee": "English", "shemo": "Persian", "subesco": "Bangla",
    "tess": "English", "turevdb": "Turkish", "urdu": "Urdu",
}

# Those languages as Whisper codes them (asr_text transcribes in the dataset's); a corpus of several
# languages is transcribed with Whisper's detection, "auto".
WHISPER_CODES = {"Amharic": "am", "Bangla": "bn", "English": "en", "French": "fr", "German": "de", "Greek": "el",
                 "Italian": "it", "Mandarin": "zh", "Persian": "fa", "Polish": "pl", "Russian": "ru", "Spanish": "es",
                 "Turkish": "tr", "Urdu": "ur"}


def language_of(datarc: dict) -> str:
    """The language of the dataset ``datarc`` names, as Whisper codes it (``auto`` for a mixed one)."""
    dataset = datarc.get("dataset")
    if dataset not in language:
        raise CorpusError(f"downstream_expert.datarc.dataset {dataset!r}: not an EmoBox corpus, so its language is "
                          f"unknown (EmoBox has {', '.join(sorted(language))})")
    return "auto" if language[dataset].startswith("mixed") else WHISPER_CODES[language[dataset]]


# dataset -> the speaker a file name gives, read by this project's own parser of that corpus.
SPEAKER_OF = {
    "emodb": lambda name: emodb_name(name)["speaker"],
    "ravdess": lambda name: ravdess_name(name)["actor"],
    "cafe": lambda name: cafe_name(name)["actor"],
    "iemocap": lambda name: iemocap_speaker(PurePosixPath(name).stem, name),
}
SPLITS = ("train", "test")
OPTIONAL = {"valid": "dev"}  # a fold's valid list, where EmoBox publishes one (MELD): it is the dev split


def dataset_folder(root: str | Path, dataset: str) -> Path:
    if not dataset:
        raise CorpusError("downstream_expert.datarc.dataset is not set: name an EmoBox corpus "
                          f"(e.g. emodb, ravdess, iemocap; EmoBox has {', '.join(sorted(language))})")
    root = require_root(root, "EmoBox", LAYOUT)
    data = require_dir(root / "data", "EmoBox", LAYOUT)
    folder = data / str(dataset)
    if not folder.is_dir():
        found = sorted(p.name for p in data.iterdir() if p.is_dir())
        raise CorpusError(f"{folder} is missing: datarc.dataset={dataset!r} is not a corpus of this EmoBox checkout "
                          f"(it has {', '.join(found) or 'none'}); set downstream_expert.datarc.dataset to one of them")
    return folder


def read_label_map(folder: Path) -> dict[str, str]:
    path = folder / "label_map.json"
    if not path.is_file():
        raise CorpusError(f"{path} is missing: every EmoBox corpus publishes its label map there")
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CorpusError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(mapping, dict) or not mapping or not all(isinstance(v, str) for v in mapping.values()):
        raise CorpusError(f"{path}: expected a JSON object mapping each emo label to a class name")
    return mapping


def classes(datarc: dict) -> list[str]:
    """The task's classes for ``datarc.dataset``: the label map's class names, sorted, after the
    config's own ``datarc.label_map`` and ``drop_labels`` (a class merged or dropped there is no
    class of the task: UA and macro F1 would count it as a class never recalled)."""
    published = read_label_map(dataset_folder(datarc["root"], datarc.get("dataset"))).values()
    renamed = datarc.get("label_map") or {}
    return sorted({renamed.get(c, c) for c in published} - set(datarc.get("drop_labels") or []))


def map_label(emo: str, mapping: dict[str, str]) -> tuple[str | None, str | None]:
    """(class, the key that matched) for an ``emo`` value: the key itself, else the one key that
    differs from it only in case, else (None, None). Two such keys are ambiguous: an error."""
    if emo in mapping:
        return mapping[emo], emo
    near = [key for key in mapping if key.casefold() == emo.casefold()]
    if len(near) > 1:
        raise CorpusError(f"label {emo!r} matches label_map.json keys {near} up to case; which one is meant?")
    return (mapping[near[0]], near[0]) if near else (None, None)


def fold_lists(folder: Path, dataset: str, fold) -> dict[str, Path]:
    """split -> the fold's list (train, test, and dev where a valid list is published); EmoDB's
    second copy (``_fold<k>``) must list the same keys."""
    fold_dir = folder / f"fold_{fold}"
    if not fold_dir.is_dir():
        folds = sorted((p.name.removeprefix("fold_") for p in folder.glob("fold_*") if p.is_dir()), key=_number)
        raise CorpusError(f"{fold_dir} is missing: {dataset} has folds {', '.join(folds) or 'none'}; "
                          f"set downstream_expert.datarc.fold to one of them")
    lists = {}
    for split in SPLITS:
        main, twin = (fold_dir / f"{dataset}_{split}_fold_{fold}.jsonl", fold_dir / f"{dataset}_{split}_fold{fold}.jsonl")
        present = [p for p in (main, twin) if p.is_file()]
        if not present:
            raise CorpusError(f"{fold_dir} holds no {split} list ({main.name}); expected {LAYOUT}")
        if len(present) == 2:
            a, b = ({row["key"] for row in read_rows(p)} for p in present)
            if a != b:
                raise CorpusError(f"{main} and {twin} are two copies of fold {fold}'s {split} list but differ "
                                  f"({len(a - b)} keys only in the first, {len(b - a)} only in the second); "
                                  f"restore them from EmoBox's repository")
        lists[split] = present[0]
    for split, ours in OPTIONAL.items():
        path = fold_dir / f"{dataset}_{split}_fold_{fold}.jsonl"
        if path.is_file():
            lists[ours] = path
    return lists


def read_rows(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusError(f"{path}, line {number}: not valid JSON ({err})") from err
        missing = [k for k in ("key", "wav", "emo") if k not in row] if isinstance(row, dict) else ["an object"]
        if missing:
            raise CorpusError(f"{path}, line {number}: lacks {', '.join(missing)}; an EmoBox row has key, wav, emo, length")
        rows.append(row)
    return rows


def audio_path(root: Path, wav: str) -> Path:
    """The row's file as written, else in NFC or NFD form (the name as another unzip wrote it)."""
    path = root / wav
    if not path.exists():
        for form in ("NFC", "NFD"):
            other = root / unicodedata.normalize(form, wav)
            if other.exists():
                return other
    return path


def speaker_of(dataset: str, row: dict, where: str) -> str | None:
    if row.get("speaker") not in (None, ""):
        return str(row["speaker"])
    read = SPEAKER_OF.get(dataset)
    if read is None:
        return None
    try:
        return read(PurePosixPath(row["wav"]).name)
    except CorpusError as err:
        raise CorpusError(f"{where}: {err} (the speaker of a {dataset} row is read from its file name)") from err


def prepare(root: str | Path, dataset: str = "", fold=1, on_mismatch: str = "error") -> Parsed:
    """Fold ``fold`` of EmoBox's ``dataset``: its train and test rows (``Utterance.split``), labelled
    by the label map, each checked against its file."""
    folder = dataset_folder(root, dataset)
    root = Path(root).expanduser()
    mapping = read_label_map(folder)
    lists = fold_lists(folder, dataset, fold)
    excluded, notes, case_only = [], [], {}
    rows, seen = [], {}
    for split, path in lists.items():
        for row in read_rows(path):
            key = str(row["key"])
            if key in seen:
                raise CorpusError(f"{path}: key {key!r} is listed twice in fold {fold} (also in {seen[key]})")
            seen[key] = path.name
            if row.get("dataset", dataset) != dataset:
                raise CorpusError(f"{path}: row {key!r} says dataset {row['dataset']!r}, not {dataset!r}")
            label, matched = map_label(str(row["emo"]), mapping)
            if label is None:
                excluded.append(Excluded(key, f"label {row['emo']!r} not in label_map.json", str(row["wav"])))
                continue
            if matched != row["emo"]:
                case_only[(row["emo"], matched)] = case_only.get((row["emo"], matched), 0) + 1
            length = row.get("length")
            rows.append((split, row, label, checks.Row(key, audio_path(root, str(row["wav"])),
                                                       None if length is None else float(length), path.name)))
    notes += [f"{n} rows' label {emo!r} taken as label_map.json's {key!r} (they differ only in case)"
              for (emo, key), n in sorted(case_only.items())]
    if excluded:
        notes.append(f"left out, their label not in {folder / 'label_map.json'}: "
                     + ", ".join(f"{reason} ({n} rows)" for reason, n in count_reasons(excluded).items()))
    kept, bad, flagged = checks.check_rows([r for *_, r in rows], on_mismatch, dataset)
    speakers = {r.key: speaker_of(dataset, row, f"{lists[split]} ({r.key})") for split, row, _, r in rows}
    known = all(s is not None for s in speakers.values())
    by_split = [{speakers[r.key] for s, *_, r in rows if s == split} for split in lists]
    # EmoDB's folds share speakers between train and test: kept as published (see the top).
    shared = known and sum(len(s) for s in by_split) > len(set().union(*by_split))
    utterances = []
    for split, _, label, check in rows:
        if check.key not in kept:
            continue
        speaker = speakers[check.key] if known else check.key
        utterances.append(Utterance(key=check.key, path=check.path, label=label, speaker=speaker, split=split,
                                    group=check.key if shared else None, cluster=speaker if shared else None))
    if shared:
        notes.append(f"EmoBox's {dataset} fold {fold} shares speakers between its lists (kept as published); "
                     + ("dev is its valid list" if "dev" in lists else "dev is drawn by speaker from its train list")
                     + ", and the intervals resample speakers")
    if not known:
        notes.append(f"{dataset}: no speaker in the manifest or known from its file names; dev is drawn and "
                     f"intervals resample by utterance")
    return Parsed(utterances, excluded + bad, flagged=flagged, notes=notes,
                  partition=f"EmoBox {dataset} fold {fold}", clusters="speaker" if known else "utterance")


def _number(text: str):
    return (0, int(text)) if text.isdigit() else (1, text)
