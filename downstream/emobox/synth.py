"""A synthetic EmoBox checkout: ``data/`` as EmoBox publishes it, for three of its corpora with the
quirks of the published files, and ``downloads/`` with espeak-ng speech at each row's ``wav`` path.

- ``emodb``: EmoDB's speakers, sentences and emotion letters in German (``downloads/emodb/wav/``,
  16 kHz); EmoBox's ``emo`` values, ``boredem`` included; neutral rows say ``neutral`` while the
  label map's key is ``Neutral``; five folds that share speakers between train and test, each list
  written twice (``emodb_test_fold_1.jsonl`` and ``emodb_test_fold1.jsonl``).
- ``ravdess``: RAVDESS speech (``downloads/ravdess/audio/Audio_Speech_Actors_01-24/Actor_NN/``,
  48 kHz), actors 01-12, eight emotions; EmoBox's labels (``Fearful``, ``Surprised``) and its map
  renaming them (``Fear``, ``Surprise``); six folds of two actors each.
- ``cafe``: CaFE's 48 kHz layout with the zip-mangled folder names EmoBox's paths keep
  (``CaFE_48k/Col\\u0160re``, ``CaFE_48k/D\\u201ago\\u2013t``), one-letter labels; three folds of four
  actors; the actors' files cycle through 48, 44.1 and 22.05 kHz (EmoBox's corpora come at 16,
  22.05, 44.1 and 48 kHz: the tree holds all four).

Each row's ``length``, ``num_frame`` and ``sample_rate`` are read from the rendered file.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import soundfile as sf

from care_superb.downstream.cafe import corpus as cafe
from care_superb.downstream.emodb import corpus as emodb
from care_superb.downstream.facts import ravdess
from care_superb.downstream.ravdess_song.synth import PROFILES as RAVDESS_PROFILES
from care_superb.synth import Clip, Plan, speakers

# sentences per (speaker, emotion): "demo" keeps the tests and the demo to about 300 clips.
SIZES = {"demo": 1, "full": 3}

EMODB_EMO = {"W": "anger", "L": "boredem", "E": "disgust", "A": "fear", "F": "happy", "T": "sad", "N": "neutral"}
EMODB_MAP = {"anger": "Angry", "boredem": "Boredom", "disgust": "Disgust", "fear": "Fear", "happy": "Happy",
             "Neutral": "Neutral", "sad": "Sad"}
RAVDESS_EMO = {"01": "Neutral", "02": "Calm", "03": "Happy", "04": "Sad", "05": "Angry", "06": "Fearful",
               "07": "Disgust", "08": "Surprised"}
RAVDESS_MAP = {"Angry": "Angry", "Surprised": "Surprise", "Sad": "Sad", "Disgust": "Disgust", "Happy": "Happy",
               "Calm": "Calm", "Neutral": "Neutral", "Fearful": "Fear"}
RAVDESS_ACTORS = tuple(f"{n:02d}" for n in range(1, 13))
CAFE_MAP = {"c": "Angry", "d": "Disgust", "j": "Happy", "n": "Neutral", "p": "Fear", "s": "Surprise", "t": "Sad"}
CAFE_FOLDERS = {**cafe.FOLDERS, "C": "Col\u0160re", "D": "D\u201ago\u2013t"}  # as EmoBox's paths spell them
CAFE_RATES = (48000, 44100, 22050)
FOLDS = {"emodb": 5, "ravdess": 6, "cafe": 3}
LABEL_MAPS = {"emodb": EMODB_MAP, "ravdess": RAVDESS_MAP, "cafe": CAFE_MAP}


def plan(rng: random.Random, size: str) -> Plan:
    n = SIZES[size]
    rows: dict[str, list[dict]] = {name: [] for name in FOLDS}  # what finish() writes, file facts added
    clips: list[Clip] = []

    def add(dataset: str, path: str, text: str, voice, profile, emo: str, fold: int, rate: int) -> None:
        clips.append(Clip(path, text, voice, profile, rate))
        rows[dataset].append({"key": f"{dataset}-{Path(path).stem}", "wav": path, "emo": emo, "fold": fold})

    emodb_clips = []
    for sid, voice in speakers(emodb.SPEAKERS, "de", rng).items():
        for letter, emotion in emodb.EMOTIONS.items():
            for text in sorted(rng.sample(sorted(emodb.TEXTS), n)):
                emodb_clips.append((f"downloads/emodb/wav/{sid}{text}{letter}a.wav", emodb.TEXTS[text], voice,
                                    emotion, EMODB_EMO[letter]))
    order = list(range(len(emodb_clips)))
    rng.shuffle(order)  # EmoBox's EmoDB folds are drawn over utterances: speakers recur across folds
    for i, index in enumerate(order):
        path, text, voice, emotion, emo = emodb_clips[index]
        add("emodb", path, text, voice, emotion, emo, i % FOLDS["emodb"] + 1, 16000)

    voices = speakers({a: ravdess.ACTORS[a] for a in RAVDESS_ACTORS}, "en-us", rng)
    for i, (actor, voice) in enumerate(voices.items()):
        for code, emo in RAVDESS_EMO.items():
            for statement in sorted(rng.sample(sorted(ravdess.STATEMENTS), n if n <= 2 else 2)):
                path = (f"downloads/ravdess/audio/Audio_Speech_Actors_01-24/Actor_{actor}/"
                        f"03-01-{code}-01-{statement}-01-{actor}.wav")
                add("ravdess", path, ravdess.STATEMENTS[statement], voice, RAVDESS_PROFILES[ravdess.EMOTIONS[code]],
                    emo, i // 2 + 1, 48000)

    for i, (actor, voice) in enumerate(speakers(cafe.ACTORS, "fr-fr", rng).items()):
        for letter, emotion in cafe.EMOTIONS.items():
            where = CAFE_FOLDERS[letter] if letter == "N" else f"{CAFE_FOLDERS[letter]}/Faible"
            for sentence in sorted(rng.sample(sorted(cafe.SENTENCES), n)):
                add("cafe", f"downloads/cafe/CaFE_48k/{where}/{actor}-{letter}-1-{sentence}.wav",
                    cafe.SENTENCES[sentence], voice, emotion, letter.lower(), i // 4 + 1, CAFE_RATES[i % 3])

    def finish(root: Path) -> None:
        for dataset, entries in rows.items():
            write_dataset(root, dataset, entries)

    return Plan(clips, finish=finish)


def manifest_row(root: Path, dataset: str, entry: dict) -> dict:
    info = sf.info(str(root / entry["wav"]))
    return {"key": entry["key"], "dataset": dataset, "wav": entry["wav"], "type": "raw",
            "sample_rate": info.samplerate, "num_frame": float(info.frames), "task": "category",
            "length": info.frames / info.samplerate, "emo": entry["emo"], "channel": info.channels}


def write_dataset(root: Path, dataset: str, entries: list[dict]) -> None:
    folder = root / "data" / dataset
    folder.mkdir(parents=True, exist_ok=True)
    rows = [(entry["fold"], manifest_row(root, dataset, entry)) for entry in entries]
    write_jsonl(folder / f"{dataset}.jsonl", [row for _, row in rows])
    (folder / "label_map.json").write_text(json.dumps(LABEL_MAPS[dataset], indent=4, ensure_ascii=False))
    for k in range(1, FOLDS[dataset] + 1):
        lists = {"train": [row for fold, row in rows if fold != k], "test": [row for fold, row in rows if fold == k]}
        for split, chosen in lists.items():
            write_jsonl(folder / f"fold_{k}" / f"{dataset}_{split}_fold_{k}.jsonl", chosen)
            if dataset == "emodb":  # EmoDB's folder holds each list twice, the second without "_"
                write_jsonl(folder / f"fold_{k}" / f"{dataset}_{split}_fold{k}.jsonl", chosen)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
