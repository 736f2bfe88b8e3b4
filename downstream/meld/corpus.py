"""MELD, the Multimodal EmotionLines Dataset (Poria et al., 2019): dialogue clips from Friends.

As distributed (``MELD.Raw``): one CSV per official split, ``train_sent_emo.csv``,
``dev_sent_emo.csv``, ``test_sent_emo.csv`` (columns ``Sr No., Utterance, Speaker, Emotion,
Sentiment, Dialogue_ID, Utterance_ID, Season, Episode, StartTime, EndTime``; the text holds commas
and non-ASCII quotes), and ``dia{D}_utt{U}.mp4`` clips in ``train_splits/``,
``dev_splits_complete/`` and ``output_repeated_splits_test/`` (audio 48 kHz, 1, 2 or 6 channels:
as public preparation code reports it, not checked here). The CSVs are the owners' files in
declare-lab/MELD ``data/MELD/`` (9,989 / 1,109 / 2,610 rows; checked against a public copy, issue
16). Quirks:

- Whether each CSV and clip folder sits at the root or under ``train/ dev/ test/`` varies between
  copies; both places are searched (``root`` may also be the folder holding ``MELD.Raw/``).
- Dialogue numbers restart in every split: a dialogue is ``<split>/dia{D}``, the unit kept out of
  two splits (the characters of the show speak in every split, as in the official protocol).
- Known defects: ``train dia125_utt3.mp4`` is corrupt (declare-lab/MELD issues 39, 52), ``dev
  dia110_utt7`` is missing (issue 27), and a few clips have no CSV row (dev ``dia66_utt9
  dia66_utt10 dia49_utt4 dia49_utt5``, test ``dia108_utt2`` and ``final_videos_testdia101_utt0``,
  as public preparation code lists them). The parser finds any such clip itself and reports it by
  name; the lists only say which ones every copy has.

The clips are mp4, which the training loader does not read: ``care-superb prepare meld --root RAW
--cache DIR`` decodes them once into 16 kHz mono wavs (``downstream/meld/prepare.py``) and records
what it could not decode in ``DIR/prepare_report.json``; ``prepare(root, cache=DIR)`` pairs the
CSV rows with those wavs.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from care_superb.downstream.corpus import CorpusError, Excluded, Parsed, Utterance, require_root

LANGUAGE = "en"  # what is spoken, as Whisper codes it (asr_text transcribes in it): English (the Friends TV series)

SPLITS = ("train", "dev", "test")
CSV_NAMES = {"train": "train_sent_emo.csv", "dev": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}
CLIP_FOLDERS = {"train": "train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}
HEADER = ("Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID",
          "Season", "Episode", "StartTime", "EndTime")
COLUMNS = ("Utterance", "Speaker", "Emotion", "Dialogue_ID", "Utterance_ID")  # the ones read
# Dialogue IDs per split, numbered from 0 in each. The owners' train CSV has no dialogue 60 (dia59 is
# followed by dia61; the last is dia1038): 1038 dialogues, although their README's table says 1039.
# Dev ends at dia113 and test at dia279 (the owners' CSVs), 114 and 280 per their README.
DIALOGUE_IDS = {"train": tuple(i for i in range(1039) if i != 60), "dev": tuple(range(114)), "test": tuple(range(280))}
DIALOGUES = {split: len(ids) for split, ids in DIALOGUE_IDS.items()}  # 1038, 114, 280
# The known defects of the release, per split (see above); the parser needs no list of them: it
# finds and reports any such clip, and these name the ones every copy has.
KNOWN_CORRUPT = {"train": ("dia125_utt3",)}
KNOWN_MISSING = {"dev": ("dia110_utt7",)}
KNOWN_UNLABELLED = {"dev": ("dia66_utt9", "dia66_utt10", "dia49_utt4", "dia49_utt5"),
                    "test": ("dia108_utt2", "final_videos_testdia101_utt0")}
EMOTIONS = ("neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust")
CLIP = re.compile(r"^dia(?P<dialogue>\d+)_utt(?P<utterance>\d+)\.mp4$")
REPORT = "prepare_report.json"
LAYOUT = ("train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv and the clip folders train_splits/, "
          "dev_splits_complete/, output_repeated_splits_test/ (each at the root or under train/ dev/ test/)")


def prepare_hint(root, cache="DIR") -> str:
    return (f"decode the mp4 clips once with `care-superb prepare meld --root {root} --cache {cache}` and "
            f"point downstream_expert.datarc.corpus.cache at that folder")


@dataclass
class Row:
    split: str
    dialogue: int
    utterance: int
    emotion: str
    speaker: str

    @property
    def name(self) -> str:
        return f"dia{self.dialogue}_utt{self.utterance}"


@dataclass
class Split:
    name: str
    csv: Path
    clips: Path
    rows: list[Row]
    files: dict[str, Path]  # clip name without .mp4 -> path, for every mp4 in the clip folder

    @property
    def missing(self) -> list[str]:
        """Rows without a clip."""
        return [r.name for r in self.rows if r.name not in self.files]

    @property
    def unlabelled(self) -> list[str]:
        """Clips without a row."""
        labelled = {r.name for r in self.rows}
        return sorted(name for name in self.files if name not in labelled)


def find(root: Path, split: str, name: str, kind: str) -> Path:
    candidates = [root / name, root / split / name]
    for path in candidates:
        if (path.is_file() if kind == "file" else path.is_dir()):
            return path
    raise CorpusError(f"MELD {split}: {name} not found at {' or '.join(map(str, candidates))}; "
                      f"a MELD root holds {LAYOUT}")


def read_rows(csv: Path, split: str) -> list[Row]:
    """One Row per CSV line. The CSVs are UTF-8; older copies are Windows-1252."""
    try:
        table = pd.read_csv(csv, encoding="utf-8", dtype=str, keep_default_na=False)
    except UnicodeDecodeError:
        table = pd.read_csv(csv, encoding="cp1252", dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise CorpusError(f"{csv}: columns {missing} are missing; MELD's CSVs have Sr No., Utterance, Speaker, "
                          f"Emotion, Sentiment, Dialogue_ID, Utterance_ID, Season, Episode, StartTime, EndTime "
                          f"(found {list(table.columns)})")
    rows, seen = [], set()
    for line, record in enumerate(table.to_dict("records"), start=2):
        try:
            dialogue, utterance = int(record["Dialogue_ID"]), int(record["Utterance_ID"])
        except ValueError:
            raise CorpusError(f"{csv} line {line}: Dialogue_ID {record['Dialogue_ID']!r} / Utterance_ID "
                              f"{record['Utterance_ID']!r} are not numbers") from None
        row = Row(split, dialogue, utterance, record["Emotion"].strip().lower(), record["Speaker"].strip())
        if row.name in seen:
            raise CorpusError(f"{csv} line {line}: {row.name} is listed twice")
        seen.add(row.name)
        rows.append(row)
    return rows


def inventory(root: str | Path) -> dict[str, Split]:
    """The three official splits: CSV rows and clip files, wherever the copy keeps them."""
    root = require_root(root, "MELD", LAYOUT)
    if not any((root / p).exists() for p in (*CSV_NAMES.values(), *SPLITS)) and (root / "MELD.Raw").is_dir():
        root = root / "MELD.Raw"
    splits = {}
    for split in SPLITS:
        csv = find(root, split, CSV_NAMES[split], "file")
        clips = find(root, split, CLIP_FOLDERS[split], "dir")
        # Every mp4 is listed (also e.g. final_videos_testdia101_utt0.mp4), so that clips without
        # a row can be reported; macOS "._" files are not clips.
        files = {p.name[:-4]: p for p in sorted(clips.iterdir())
                 if p.suffix.lower() == ".mp4" and not p.name.startswith(".")}
        splits[split] = Split(split, csv, clips, read_rows(csv, split), files)
    return splits


def cached_wav(cache: Path, split: str, name: str) -> Path:
    return cache / split / f"{name}.wav"


def read_report(cache: Path, root) -> dict:
    report = cache / REPORT
    if not report.is_file():
        raise CorpusError(f"MELD cache {cache} has no {REPORT} (no finished preparation); {prepare_hint(root, cache)}")
    return json.loads(report.read_text())


def prepare(root: str | Path, cache: str | Path | None = None) -> Parsed:
    """Utterances of the three official splits, audio from the decoded ``cache``. Rows without a
    clip, clips that did not decode and clips without a row are left out, each by name."""
    if cache is None:
        raise CorpusError(f"MELD needs datarc.corpus.cache: {prepare_hint(root)}")
    splits = inventory(root)
    cache = Path(cache).expanduser()
    corrupt = {(c["split"], c["clip"]): c.get("error", "") for c in read_report(cache, root).get("corrupt", [])}
    utterances, skipped = [], []
    for split in splits.values():
        for row in split.rows:
            wav = cached_wav(cache, split.name, row.name)
            key = f"{split.name}/{row.name}"
            if row.name not in split.files:
                skipped.append(Excluded(key, "missing clip", f"in {split.csv.name}, but {split.clips}/{row.name}.mp4 "
                                                             f"is missing"))
            elif wav.is_file():
                utterances.append(Utterance(key=key, path=wav, label=row.emotion,
                                            speaker=row.speaker, group=f"{split.name}/dia{row.dialogue}",
                                            split=split.name))
            elif (split.name, row.name) in corrupt:
                skipped.append(Excluded(key, "corrupt clip", f"could not be decoded ({corrupt[(split.name, row.name)]})"))
            else:
                raise CorpusError(f"{wav} is missing: the cache was prepared before this clip existed or the "
                                  f"preparation was interrupted; run it again (it converts only what is missing): "
                                  f"{prepare_hint(root, cache)}")
        skipped += [Excluded(f"{split.name}/{name}", "clip without a label row",
                             f"{split.files[name]} has no row in {split.csv.name}") for name in split.unlabelled]
    return Parsed(utterances, skipped, clusters="dialogue")
