"""EmoBox's published metadata on the synthetic checkout (`care-superb synth emobox`): the quirks
of the published files, the fold protocol, the label maps and the row checks, with their messages."""
from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from care_superb.downstream.audio import load_audio
from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.emobox import checks
from care_superb.downstream.emobox import corpus as emobox
from care_superb.downstream.expert import task_splits
from care_superb.downstream.registry import TASKS

DATARC = {"fold": 1, "split_seed": 0, "valid_fraction": 0.2, "on_mismatch": "error", "on_bad_audio": "error"}


@pytest.fixture
def tree(synth_root, tmp_path):
    """A copy of the synthetic checkout that a test may change."""
    copy = tmp_path / "EmoBox"
    shutil.copytree(synth_root("emobox"), copy)
    return copy


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fold_list(root: Path, dataset: str, fold: int, split: str) -> Path:
    return root / "data" / dataset / f"fold_{fold}" / f"{dataset}_{split}_fold_{fold}.jsonl"


def drawn(root, dataset, **datarc):
    conf = {"datarc": {**DATARC, "root": str(root), "dataset": dataset, **datarc}}
    return task_splits("emobox", conf)


def test_the_synthetic_checkout_has_the_published_quirks(synth_root):
    root = synth_root("emobox")
    emodb = root / "data" / "emodb"
    assert (emodb / "fold_1" / "emodb_test_fold_1.jsonl").is_file() and (emodb / "fold_1" / "emodb_test_fold1.jsonl").is_file()
    label_map = json.loads((emodb / "label_map.json").read_text())
    assert "Neutral" in label_map and "neutral" not in label_map and "boredem" in label_map
    emos = {r["emo"] for r in rows(emodb / "emodb.jsonl")}
    assert "neutral" in emos and "boredem" in emos
    assert json.loads((root / "data" / "ravdess" / "label_map.json").read_text())["Fearful"] == "Fear"
    cafe_text = (root / "data" / "cafe" / "cafe.jsonl").read_text()
    assert "D\\u201ago\\u2013t" in cafe_text  # escaped in the JSON, as EmoBox writes it
    rates = {r["sample_rate"] for d in ("emodb", "ravdess", "cafe") for r in rows(root / "data" / d / f"{d}.jsonl")}
    assert rates == {16000, 22050, 44100, 48000}


@pytest.mark.parametrize("dataset, folds", [("emodb", 5), ("ravdess", 6), ("cafe", 3)])
def test_test_split_is_exactly_the_fold_list_and_dev_comes_from_its_training_speakers(synth_root, dataset, folds):
    root = synth_root("emobox")
    for fold in (1, folds):
        d = drawn(root, dataset, fold=fold)
        listed = {split: {r["key"] for r in rows(fold_list(root, dataset, fold, split))} for split in ("train", "test")}
        assert {u.key for u in d.splits["test"]} == listed["test"]
        assert {u.key for u in d.splits["train"] + d.splits["dev"]} == listed["train"]
        dev, train = ({u.speaker for u in d.splits[s]} for s in ("dev", "train"))
        assert dev and not dev & train  # whole speakers held out of the fold's train list
        assert d.description["fold"] == fold and d.description["dataset"] == dataset


def test_the_split_seed_draws_other_dev_speakers_never_another_test_list(synth_root):
    root = synth_root("emobox")
    devs = {tuple(drawn(root, "ravdess", split_seed=s).description["speakers"]["dev"]) for s in range(4)}
    assert len(devs) > 1
    tests = {tuple(sorted(u.key for u in drawn(root, "ravdess", split_seed=s).splits["test"])) for s in range(4)}
    assert len(tests) == 1  # the test list never depends on the seed


def test_emodb_keeps_its_neutral_rows_whose_case_differs_from_the_label_map(synth_root):
    root = synth_root("emobox")
    d = drawn(root, "emodb")
    neutral_rows = {r["key"] for split in ("train", "test") for r in rows(fold_list(root, "emodb", 1, split))
                    if r["emo"] == "neutral"}
    assert neutral_rows and {u.key for s in d.splits.values() for u in s if u.label == "Neutral"} == neutral_rows
    assert not d.parsed.excluded
    assert any("'neutral' taken as label_map.json's 'Neutral'" in note for note in d.parsed.notes)
    assert d.objective.labels == ["Angry", "Boredom", "Disgust", "Fear", "Happy", "Neutral", "Sad"]


def test_ravdess_classes_are_the_label_maps_values(synth_root):
    d = drawn(synth_root("emobox"), "ravdess")
    assert d.objective.labels == ["Angry", "Calm", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]
    fearful = [u for s in d.splits.values() for u in s if "-06-" in u.path.name]  # emotion code 06: fearful
    assert fearful and {u.label for u in fearful} == {"Fear"}


def test_an_unmapped_label_is_left_out_counted_and_named(tree):
    path = fold_list(tree, "ravdess", 1, "test")
    listed = rows(path)
    listed[0]["emo"], listed[1]["emo"] = "Bored", "Bored"
    path.write_text("".join(json.dumps(r) + "\n" for r in listed))
    d = drawn(tree, "ravdess")
    assert [(e.key, e.reason) for e in d.parsed.excluded] == [(listed[0]["key"], "label 'Bored' not in label_map.json"),
                                                               (listed[1]["key"], "label 'Bored' not in label_map.json")]
    assert len(d.splits["test"]) == len(listed) - 2
    assert any("label 'Bored' not in label_map.json (2 rows)" in note for note in d.parsed.notes)


def test_a_label_matching_two_keys_up_to_case_is_an_error(tree):
    path = tree / "data" / "emodb" / "label_map.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "NEUTRAL": "Neutral"}))
    with pytest.raises(CorpusError, match=r"label 'neutral' matches label_map.json keys \['Neutral', 'NEUTRAL'\]"):
        drawn(tree, "emodb")


def test_emodbs_second_copy_of_a_fold_must_agree_with_the_first(tree):
    twin = tree / "data" / "emodb" / "fold_1" / "emodb_test_fold1.jsonl"
    lines = twin.read_text().splitlines(keepends=True)
    twin.write_text("".join(lines[1:]))
    with pytest.raises(CorpusError) as err:
        drawn(tree, "emodb")
    assert "emodb_test_fold_1.jsonl" in str(err.value) and "emodb_test_fold1.jsonl" in str(err.value)
    assert "1 keys only in the first, 0 only in the second" in str(err.value)


def test_either_copy_of_an_emodb_fold_alone_is_read(tree):
    keys = {r["key"] for r in rows(fold_list(tree, "emodb", 1, "test"))}
    fold_list(tree, "emodb", 1, "test").unlink()
    assert {u.key for u in drawn(tree, "emodb").splits["test"]} == keys


def test_cafe_paths_in_nfd_form_are_found(tree):
    rows_before = {u.key for s in drawn(tree, "cafe").splits.values() for u in s}
    folder = tree / "downloads" / "cafe" / "CaFE_48k" / "Col\u0160re"
    folder.rename(folder.parent / unicodedata.normalize("NFD", folder.name))
    assert not folder.exists()
    assert {u.key for s in drawn(tree, "cafe").splits.values() for u in s} == rows_before


def test_every_sample_rate_is_read_at_16_khz(synth_root):
    root = synth_root("emobox")
    for rate in (22050, 44100, 48000, 16000):
        row = next(r for d in ("emodb", "cafe", "ravdess") for r in rows(root / "data" / d / f"{d}.jsonl")
                   if r["sample_rate"] == rate)
        wav = load_audio(root / row["wav"], max_seconds=None, min_seconds=None)
        assert abs(len(wav) - row["length"] * 16000) <= 2


def test_speakers_and_resampling_units(tree):
    ravdess = drawn(tree, "ravdess")
    assert ravdess.parsed.clusters == "speaker"
    assert {u.unit for u in ravdess.splits["test"]} == {"01", "02"}  # a speaker-independent fold
    emodb = drawn(tree, "emodb")
    test = emodb.splits["test"]
    assert {u.unit for u in test} == {u.key for u in test}  # speakers recur across EmoDB's lists ...
    assert {u.resampling_unit for u in test} == {u.speaker for u in test}  # ... and are what is resampled
    # A corpus whose speakers neither the manifest nor a known naming gives: each utterance alone.
    shutil.copytree(tree / "data" / "cafe", tree / "data" / "mystery")
    for path in (tree / "data" / "mystery").rglob("cafe*"):
        path.rename(path.with_name(path.name.replace("cafe", "mystery")))
    for path in (tree / "data" / "mystery").rglob("*.jsonl"):
        path.write_text(path.read_text().replace('"dataset": "cafe"', '"dataset": "mystery"'))
    mystery = drawn(tree, "mystery")
    assert mystery.parsed.clusters == "utterance"
    assert all(u.speaker == u.key for s in mystery.splits.values() for u in s)
    assert any("no speaker in the manifest" in note for note in mystery.parsed.notes)


def crop(path: Path, seconds: float) -> None:
    audio, rate = sf.read(str(path))
    sf.write(str(path), audio[: max(1, len(audio) - int(seconds * rate))], rate)


def test_a_cropped_copy_stops_with_the_count_the_files_and_the_setting(tree):
    files = sorted((tree / "downloads" / "emodb" / "wav").glob("*.wav"))
    for path in files:
        crop(path, 0.2)
    with pytest.raises(CorpusError) as err:
        drawn(tree, "emodb")
    message = str(err.value)
    assert f"{len(files)} of {len(files)} rows of EmoBox's emodb lists do not match" in message
    assert f"{len(files)} duration differs from manifest" in message
    assert "the manifest says" in message and "on_mismatch: error" in message and "... and" in message
    first = message.splitlines()[1]
    assert ".wav:" in first and " s, the manifest says " in first


def test_on_mismatch_warn_keeps_and_flags_skip_leaves_out(tree):
    wavs = tree / "downloads" / "ravdess" / "audio" / "Audio_Speech_Actors_01-24"
    test_keys = {r["key"] for r in rows(fold_list(tree, "ravdess", 1, "test"))}
    cropped = sorted((wavs / "Actor_01").glob("*.wav"))[:2]  # actor 01 is in fold 1's test list
    for path in cropped:
        crop(path, 0.3)
    missing = sorted((wavs / "Actor_02").glob("*.wav"))[0]
    missing.unlink()
    unreadable = sorted((wavs / "Actor_02").glob("*.wav"))[0]
    unreadable.write_bytes(b"not audio")
    warn = drawn(tree, "ravdess", on_mismatch="warn")
    assert sorted(e.reason for e in warn.parsed.flagged) == [checks.DURATION] * 2
    assert sorted(e.reason for e in warn.parsed.excluded) == [checks.MISSING, checks.UNREADABLE]
    assert len(warn.splits["test"]) == len(test_keys) - 2
    skip = drawn(tree, "ravdess", on_mismatch="skip")
    assert sorted(e.reason for e in skip.parsed.excluded) == sorted([checks.DURATION] * 2 + [checks.MISSING, checks.UNREADABLE])
    assert len(skip.splits["test"]) == len(test_keys) - 4 and not skip.parsed.flagged
    with pytest.raises(CorpusError, match="1 missing file, 1 unreadable file"):
        drawn(tree, "ravdess")
    with pytest.raises(CorpusError, match="datarc.on_mismatch='ignore'; use one of error, warn, skip"):
        drawn(tree, "ravdess", on_mismatch="ignore")


def test_a_difference_within_the_tolerance_is_no_mismatch(tree):
    path = sorted((tree / "downloads" / "emodb" / "wav").glob("*.wav"))[0]
    crop(path, 0.005)  # 5 ms: under both 10 ms and 1% of any clip here
    assert not drawn(tree, "emodb").parsed.flagged
    assert checks.differs(2.0, 2.0 + 0.021) and not checks.differs(2.0, 2.0 + 0.019)  # 1% of 2 s
    assert checks.differs(0.5, 0.5 + 0.011) and not checks.differs(0.5, 0.5 + 0.009)  # 10 ms


@pytest.mark.parametrize("datarc, complaint", [
    ({"dataset": ""}, "datarc.dataset is not set"),
    ({"dataset": "iemocap"}, r"not a corpus of this EmoBox checkout \(it has cafe, emodb, ravdess\)"),
    ({"dataset": "cafe", "fold": 4}, "cafe has folds 1, 2, 3; set downstream_expert.datarc.fold"),
])
def test_a_wrong_dataset_or_fold_names_what_there_is(synth_root, datarc, complaint):
    with pytest.raises(CorpusError, match=complaint):
        drawn(synth_root("emobox"), **{"dataset": "emodb", **datarc})


def test_the_configs_label_map_and_drop_list_shape_the_classes(synth_root):
    d = drawn(synth_root("emobox"), "ravdess", label_map={"Calm": "Neutral"}, drop_labels=["Surprise"])
    assert d.objective.labels == ["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad"]
    assert d.objective_options["classes"] == d.objective.labels


def test_ua_is_the_primary_metric_unless_the_config_says_otherwise(synth_root):
    conf = {"datarc": {**DATARC, "root": str(synth_root("emobox")), "dataset": "cafe"}}
    assert task_splits("emobox", conf).objective.selection == "unweighted_accuracy"
    conf["objective"] = {"selection": "macro_f1"}
    assert task_splits("emobox", conf).objective.selection == "macro_f1"
    with pytest.raises(ValueError, match="objective.selection must be one of"):
        TASKS["emobox"].objective(["a", "b"], "f1")


def test_every_emobox_corpus_has_a_language():
    assert len(emobox.language) == 32 and emobox.language["emodb"] == "German"


def test_a_published_valid_list_is_dev_and_nothing_is_drawn(tree):
    train = fold_list(tree, "ravdess", 1, "train")
    listed = rows(train)
    valid = [r for r in listed if "Actor_03/" in r["wav"]]
    train.write_text("".join(json.dumps(r) + "\n" for r in listed if r not in valid))
    (train.parent / "ravdess_valid_fold_1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in valid))
    for seed in (0, 1):
        d = drawn(tree, "ravdess", split_seed=seed)
        assert {u.key for u in d.splits["dev"]} == {r["key"] for r in valid}
        assert d.description["protocol"] == "published fold with its valid list"
        assert len(d.splits["train"]) == len(listed) - len(valid)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_ua_and_wa_are_emoboxs_scikit_learn_metrics():
    """EmoBox reports UA = balanced_accuracy_score, WA = accuracy_score, and macro F1; ours agree
    where every class is in the test list, and where one is not, our UA counts it 0 (said in the docs)."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
    objective = TASKS["emobox"].objective(["a", "b", "c", "d"])
    rng = np.random.default_rng(0)
    true, pred = rng.integers(0, 4, 200).tolist(), rng.integers(0, 4, 200).tolist()
    scores = objective.metrics(true, pred)
    assert scores["unweighted_accuracy"] == pytest.approx(balanced_accuracy_score(true, pred))
    assert scores["accuracy"] == pytest.approx(accuracy_score(true, pred))
    assert scores["macro_f1"] == pytest.approx(f1_score(true, pred, average="macro"))
    without_d = [(t, p) for t, p in zip(true, pred) if t != 3]
    t3, p3 = zip(*without_d)
    ours = objective.metrics(list(t3), list(p3))["unweighted_accuracy"]
    assert ours == pytest.approx(balanced_accuracy_score(t3, p3) * 3 / 4)
