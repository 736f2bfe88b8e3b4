"""CMU-MOSI (Zadeh et al., 2016): 2,199 opinion segments of 93 YouTube videos, sentiment -3..3.

As distributed (raw release): ``Raw/Audio/WAV_16000/Segmented/<videoID>_<n>.wav`` (``n`` is
1-based; video IDs contain ``_`` and ``-``, so the segment number is what follows the last ``_``).
Labels come in one of two files:

- the release's headerless ``Raw/Labels/OpinionLevelSentiment.csv``: start, end, video ID,
  segment number, score;
- the widely used MMSA ``label.csv`` (``video_id, clip_id, text, label, label_T, label_A,
  label_V, annotation, mode``; ``clip_id`` is the segment number, ``mode`` train/valid/test).

Two partitions by video are in use (``folds``), both of the same 93 videos and 2,199 segments:

- ``poria2017``, the one CARE follows (its ref. [51], Poria et al., ACL 2017): 62 train / 31 test
  videos = 1447 / 752 segments, no validation videos (the task holds some training videos out
  for model selection). The lists below are the order of the authors' released
  ``transcripts.csv`` (declare-lab/multimodal-deep-learning, ``bc-LSTM/data/``): videos 1-62
  train, 63-93 test. Only 7 of its test videos are in the SDK's test fold.
- ``standard``, the CMU Multimodal SDK's ``standard_train_fold`` / ``standard_valid_fold`` /
  ``standard_test_fold``: 52 / 10 / 31 videos = 1284 / 229 / 686 segments. With an MMSA
  ``label.csv`` its ``mode`` column gives this split.

CARE's task is binary: negative (score < 0) vs positive (score >= 0); the 96 segments scored
exactly 0 count as positive, and ``drop_zero`` leaves them out, as some papers do. ``root`` is the
folder holding ``Raw/`` (or ``Raw/`` itself).

The real ``OpinionLevelSentiment.csv`` has no header and CRLF line ends, 2,199 rows of 93 videos,
96 scored exactly 0, and one segment empty by the corpus's own definition, ``2WGyTLYerpo``
segment 44 (start == end); public loaders drop ``2WGyTLYerpo_44`` as well. Any row with start ==
end, and that segment by name when the labels come from an MMSA ``label.csv`` (which has no
times), is left out and counted before its audio is read: a known corpus defect, whatever
``on_bad_audio`` says.

Sources: the fold lists from the CMU SDK and from Poria et al.'s ``transcripts.csv`` (named
above); the file's format and every count in this docstring (segments, videos, zeros, the empty
segment, the segments per fold) checked against a public copy of OpinionLevelSentiment.csv (issue
16).
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from care_superb.downstream.corpus import CorpusError, Excluded, Parsed, Utterance, require_dir, require_root

LANGUAGE = "en"  # what is spoken, as Whisper codes it (asr_text transcribes in it): English

# Segments the corpus defines as empty (start == end in OpinionLevelSentiment.csv).
KNOWN_EMPTY = ("2WGyTLYerpo_44",)
EMPTY = "empty segment (start == end in the corpus)"
STANDARD_FOLDS = {
    "train": (
        "2iD-tVS8NPw", "8d-gEyoeBzc", "Qr1Ca94K55A", "Ci-AH39fi3Y", "8qrpnFRGt2A", "Bfr499ggo-0",
        "QN9ZIUWUXsY", "9T9Hf74oK10", "7JsX8y1ysxY", "1iG0909rllw", "Oz06ZWiO20M", "BioHAh1qJAQ",
        "9c67fiY0wGQ", "Iu2PFX3z_1s", "Nzq88NnDkEk", "Clx4VXItLTE", "9J25DZhivz8", "Af8D0E4ZXaw",
        "TvyZBvOMOTc", "W8NXH0Djyww", "8OtFthrtaJM", "0h-zjBukYpk", "Vj1wYRQjB-o", "GWuJjcEuzt8",
        "BI97DNYfe5I", "PZ-lDQFboO8", "1DmNV9C1hbY", "OQvJTdtJ2H4", "I5y0__X72p0", "9qR7uwkblbs",
        "G6GlGvlkxAQ", "6_0THN4chvY", "Njd1F0vZSm4", "BvYR0L6f2Ig", "03bSnISJMiM", "Dg_0XKD0Mf4",
        "5W7Z1C_fDaE", "VbQk4H8hgr0", "G-xst2euQUc", "MLal-t_vJPM", "BXuRRbG0Ugk", "LSi-o-IrDMs",
        "Jkswaaud0hk", "2WGyTLYerpo", "6Egk_28TtTM", "Sqr0AcuoNnk", "POKffnXeBds", "73jzhE8R1TQ",
        "OtBXNcAL_lE", "HEsqda8_d0Q", "VCslbP0mgZI", "IumbAb8q2dM",
    ),
    "dev": (
        "WKA5OygbEKI", "c5xsKMxpXnc", "atnd_PF-Lbs", "bvLlb-M3UXU", "bOL9jKpeJRs", "_dI--eQ6qVU",
        "ZAIRrfG22O0", "X3j2zQgwYgE", "aiEXnCPZubE", "ZUXBRvtny7o",
    ),
    "test": (
        "tmZoasNr4rU", "zhpQhgha_KU", "lXPQBPVc5Cw", "iiK8YX8oH1E", "tStelxIAHjw", "nzpVDcQ0ywM",
        "etzxEpPuc6I", "cW1FSBF59ik", "d6hH302o4v8", "k5Y_838nuGo", "pLTX3ipuDJI", "jUzDDGyPkXU",
        "f_pcplsH_V0", "yvsjCA6Y5Fc", "nbWiPyCm4g0", "rnaNMUZpvvg", "wMbj6ajWbic", "cM3Yna7AavY",
        "yDtzw_Y-7RU", "vyB00TXsimI", "dq3Nf_lMPnE", "phBUpBr1hSo", "d3_k5Xpfmik", "v0zCBqDeKcE",
        "tIrG4oNLFzE", "fvVhgmXxadc", "ob23OKe5a9Q", "cXypl4FnoZo", "vvZ4IcEtiZc", "f9O3YtZ2VfI",
        "c7UH_rxdZv4",
    ),
}
PORIA2017_FOLDS = {
    "train": (
        "fvVhgmXxadc", "Oz06ZWiO20M", "QN9ZIUWUXsY", "yvsjCA6Y5Fc", "aiEXnCPZubE", "atnd_PF-Lbs", "f9O3YtZ2VfI",
        "dq3Nf_lMPnE", "VCslbP0mgZI", "Qr1Ca94K55A", "yDtzw_Y-7RU", "c7UH_rxdZv4", "G6GlGvlkxAQ", "2iD-tVS8NPw",
        "cXypl4FnoZo", "wMbj6ajWbic", "f_pcplsH_V0", "etzxEpPuc6I", "5W7Z1C_fDaE", "_dI--eQ6qVU", "HEsqda8_d0Q",
        "jUzDDGyPkXU", "LSi-o-IrDMs", "BioHAh1qJAQ", "PZ-lDQFboO8", "nzpVDcQ0ywM", "X3j2zQgwYgE", "TvyZBvOMOTc",
        "Bfr499ggo-0", "6Egk_28TtTM", "9qR7uwkblbs", "c5xsKMxpXnc", "lXPQBPVc5Cw", "1DmNV9C1hbY", "8qrpnFRGt2A",
        "bOL9jKpeJRs", "d3_k5Xpfmik", "7JsX8y1ysxY", "zhpQhgha_KU", "bvLlb-M3UXU", "ZAIRrfG22O0", "ob23OKe5a9Q",
        "d6hH302o4v8", "9T9Hf74oK10", "nbWiPyCm4g0", "6_0THN4chvY", "MLal-t_vJPM", "k5Y_838nuGo", "rnaNMUZpvvg",
        "pLTX3ipuDJI", "VbQk4H8hgr0", "tIrG4oNLFzE", "OtBXNcAL_lE", "v0zCBqDeKcE", "phBUpBr1hSo", "8OtFthrtaJM",
        "WKA5OygbEKI", "POKffnXeBds", "W8NXH0Djyww", "73jzhE8R1TQ", "IumbAb8q2dM", "BvYR0L6f2Ig",
    ),
    "test": (
        "9J25DZhivz8", "Sqr0AcuoNnk", "1iG0909rllw", "9c67fiY0wGQ", "Af8D0E4ZXaw", "Dg_0XKD0Mf4", "iiK8YX8oH1E",
        "Jkswaaud0hk", "tStelxIAHjw", "BI97DNYfe5I", "Nzq88NnDkEk", "Ci-AH39fi3Y", "OQvJTdtJ2H4", "cM3Yna7AavY",
        "BXuRRbG0Ugk", "tmZoasNr4rU", "Iu2PFX3z_1s", "2WGyTLYerpo", "vyB00TXsimI", "I5y0__X72p0", "G-xst2euQUc",
        "ZUXBRvtny7o", "cW1FSBF59ik", "8d-gEyoeBzc", "Clx4VXItLTE", "Njd1F0vZSm4", "Vj1wYRQjB-o", "GWuJjcEuzt8",
        "0h-zjBukYpk", "vvZ4IcEtiZc", "03bSnISJMiM",
    ),
}
FOLDS = {"poria2017": PORIA2017_FOLDS, "standard": STANDARD_FOLDS}
SPLIT_OF_VIDEO = {name: {video: split for split, videos in folds.items() for video in videos}
                  for name, folds in FOLDS.items()}
MODES = {"train": "train", "valid": "dev", "test": "test"}  # MMSA's mode -> our split names
MMSA_COLUMNS = ("video_id", "clip_id", "text", "label", "label_T", "label_A", "label_V", "annotation", "mode")
AUDIO = ("Audio", "WAV_16000", "Segmented")
OPINION = ("Labels", "OpinionLevelSentiment.csv")
LABELS = ("negative", "positive")  # CARE's binary task: score < 0, score >= 0
LAYOUT = ("Raw/Audio/WAV_16000/Segmented/<videoID>_<n>.wav with labels in Raw/Labels/OpinionLevelSentiment.csv "
          "or an MMSA label.csv (beside Raw/ or in Raw/Labels/)")


def raw_folder(root: Path) -> Path:
    return root / "Raw" if (root / "Raw").is_dir() else root


def label_files(root: Path) -> dict[str, Path]:
    """The label files present: ``opinion`` and/or ``mmsa``."""
    raw = raw_folder(root)
    found = {}
    if raw.joinpath(*OPINION).is_file():
        found["opinion"] = raw.joinpath(*OPINION)
    for candidate in (root / "label.csv", raw / "label.csv", raw / "Labels" / "label.csv"):
        if candidate.is_file():
            found["mmsa"] = candidate
            break
    return found


def sentiment(score: float, where: str) -> str:
    if not (math.isfinite(score) and -3.0 <= score <= 3.0):
        raise CorpusError(f"{where}: sentiment score {score} is outside CMU-MOSI's range [-3, 3]")
    return LABELS[0] if score < 0 else LABELS[1]


def read_opinion(path: Path) -> list[tuple[str, int, float, None, bool]]:
    """(video, segment, score, None, empty) per line of the headerless OpinionLevelSentiment.csv
    (the file says nothing of splits; ``empty``: start == end)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for line, record in enumerate(csv.reader(f), start=1):
            if not record or not "".join(record).strip():
                continue
            if len(record) < 5:
                raise CorpusError(f"{path} line {line}: {record} has {len(record)} fields; expected "
                                  f"start, end, video ID, segment number, score")
            video, segment, score = record[2].strip(), record[3].strip(), record[4].strip()
            try:
                rows.append((video, int(segment), float(score), None, float(record[0]) == float(record[1])))
            except ValueError:
                if line == 1:
                    continue  # a header some copies add
                raise CorpusError(f"{path} line {line}: start {record[0]!r} / end {record[1]!r} / segment {segment!r} "
                                  f"/ score {score!r} are not numbers") from None
    return rows


def read_mmsa(path: Path) -> list[tuple[str, int, float, str, bool]]:
    """(video, segment, score, split, empty) per row of an MMSA label.csv; the split is its
    ``mode``; it has no times, so ``empty`` is whether the segment is a ``KNOWN_EMPTY`` one."""
    table = pd.read_csv(path, dtype={"video_id": str, "clip_id": str, "mode": str}, keep_default_na=False)
    missing = [c for c in ("video_id", "clip_id", "label", "mode") if c not in table.columns]
    if missing:
        raise CorpusError(f"{path}: columns {missing} are missing; an MMSA label.csv has video_id, clip_id, "
                          f"text, label, label_T, label_A, label_V, annotation, mode (found {list(table.columns)})")
    labelled = []
    for line, record in enumerate(table.to_dict("records"), start=2):
        mode = str(record["mode"]).strip()
        if mode not in MODES:
            raise CorpusError(f"{path} line {line}: mode {mode!r} is not one of {', '.join(MODES)}")
        try:
            video, segment = record["video_id"].strip(), int(record["clip_id"])
            labelled.append((video, segment, float(record["label"]), MODES[mode], f"{video}_{segment}" in KNOWN_EMPTY))
        except ValueError:
            raise CorpusError(f"{path} line {line}: clip_id {record['clip_id']!r} / label {record['label']!r} "
                              f"are not numbers") from None
    return labelled


def prepare(root: str | Path, labels: str = "auto", drop_zero: bool = False, folds: str = "poria2017") -> Parsed:
    """``labels``: ``opinion`` (OpinionLevelSentiment.csv), ``mmsa`` (label.csv) or ``auto``
    (the release's own file when present, else label.csv). ``folds``: ``poria2017`` or
    ``standard`` (the SDK's; an MMSA label.csv's ``mode`` column)."""
    if folds not in FOLDS:
        raise CorpusError(f"datarc.corpus.folds={folds!r}; choose {' or '.join(FOLDS)}")
    root = require_root(root, "CMU-MOSI", LAYOUT)
    audio = require_dir(raw_folder(root).joinpath(*AUDIO), "CMU-MOSI", LAYOUT)
    found = label_files(root)
    if labels not in ("auto", "opinion", "mmsa"):
        raise CorpusError(f"datarc.corpus.labels={labels!r}; choose auto, opinion or mmsa")
    source = ("opinion" if "opinion" in found else "mmsa") if labels == "auto" else labels
    if source not in found:
        raise CorpusError(f"{root}: no {'OpinionLevelSentiment.csv' if source == 'opinion' else 'label.csv'} "
                          f"found; a CMU-MOSI root holds {LAYOUT}")
    rows = (read_opinion if source == "opinion" else read_mmsa)(found[source])

    utterances, keys, excluded = [], set(), []
    for video, segment, score, mode, empty in rows:
        key = f"{video}_{segment}"
        split = mode if folds == "standard" and mode is not None else SPLIT_OF_VIDEO[folds].get(video)
        if split is None:
            raise CorpusError(f"{found[source]}: video {video!r} is not one of CMU-MOSI's 93 videos in the "
                              f"{folds} folds; choose datarc.corpus.folds from {', '.join(FOLDS)}")
        if key in keys:
            raise CorpusError(f"{found[source]}: segment {key} is labelled twice")
        keys.add(key)
        if empty:  # a known corpus defect: its audio is never read
            excluded.append(Excluded(key, EMPTY, f"{found[source].name}: segment {segment} of video {video} starts "
                                                 f"where it ends" + ("" if source == "opinion" else
                                                                     " in OpinionLevelSentiment.csv")))
            continue
        if drop_zero and score == 0:
            excluded.append(Excluded(key, "scored 0 (drop_zero)", f"{found[source].name}: score 0"))
            continue
        path = audio / f"{key}.wav"
        if not path.is_file():
            raise CorpusError(f"{path} is missing: {found[source].name} labels segment {segment} of video {video}")
        utterances.append(Utterance(key=key, path=path, label=sentiment(score, f"{found[source]} {key}"),
                                    speaker=video, group=video, split=split))
    excluded += [Excluded(p.stem, "audio without a label", f"{p} has no row in {found[source].name}")
                 for p in sorted(audio.glob("*.wav")) if p.stem not in keys]
    return Parsed(utterances, excluded, partition=f"cmu_mosi {folds}", clusters="video")
