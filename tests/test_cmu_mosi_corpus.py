"""CMU-MOSI as distributed: both label files, the standard video split, the binary labels, the
segment the corpus itself defines as empty."""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import yaml

from care_superb.downstream.audio import AudioError, check_audio
from care_superb.downstream.cmu_mosi import corpus as mosi
from care_superb.downstream.cmu_mosi.expert import DownstreamExpert
from care_superb.downstream.corpus import CorpusError, count_reasons
from care_superb.downstream.expert import prepare_utterances
from care_superb.downstream.registry import TASKS
from care_superb.downstream.splits import check_disjoint, official
from corpus_trees import tone
from helpers import REPO

DATARC = yaml.safe_load((REPO / "downstream/cmu_mosi/config.yaml").read_text())["downstream_expert"]["datarc"]


def opinion_rows(root):
    with open(root / "Raw/Labels/OpinionLevelSentiment.csv", newline="") as f:
        return list(csv.reader(f))


def test_both_partitions_split_the_same_93_videos():
    sizes = {name: {split: len(videos) for split, videos in folds.items()} for name, folds in mosi.FOLDS.items()}
    assert sizes == {"standard": {"train": 52, "dev": 10, "test": 31}, "poria2017": {"train": 62, "test": 31}}
    assert set(mosi.SPLIT_OF_VIDEO["standard"]) == set(mosi.SPLIT_OF_VIDEO["poria2017"])
    assert len(mosi.SPLIT_OF_VIDEO["poria2017"]) == 93
    # Not the SDK's train + valid against its test: 7 test videos in common.
    assert len(set(mosi.PORIA2017_FOLDS["test"]) & set(mosi.STANDARD_FOLDS["test"])) == 7


def test_both_label_files_give_the_same_corpus(synth_root):
    root = synth_root("cmu_mosi")
    by_opinion = mosi.prepare(root, labels="opinion").utterances
    by_mmsa = mosi.prepare(root, labels="mmsa").utterances
    assert by_opinion == by_mmsa == mosi.prepare(root).utterances
    assert {u.label for u in by_opinion} == {"negative", "positive"}
    assert len(by_opinion) == len(opinion_rows(root)) - 1  # less the empty segment, by either file
    for labels in ("opinion", "mmsa"):
        excluded = mosi.prepare(root, labels=labels).excluded
        assert [(e.key, e.reason) for e in excluded] == [("2WGyTLYerpo_44", mosi.EMPTY)]


def test_binary_labels_and_the_zero_option(synth_root):
    root = synth_root("cmu_mosi")
    scores = {f"{r[2]}_{r[3]}": float(r[4]) for r in opinion_rows(root)}
    zeros = {key for key, score in scores.items() if score == 0}
    assert zeros and any(s < 0 for s in scores.values()) and any(s > 0 for s in scores.values())
    for utt in mosi.prepare(root).utterances:
        assert utt.label == ("negative" if scores[utt.key] < 0 else "positive"), utt.key
    kept = {u.key for u in mosi.prepare(root, drop_zero=True).utterances}
    assert kept == set(scores) - zeros - {"2WGyTLYerpo_44"}


def test_standard_split_keeps_every_video_in_one_split(synth_root):
    utts = mosi.prepare(synth_root("cmu_mosi"), folds="standard").utterances
    splits, description = official(utts, DATARC)
    check_disjoint(splits)
    for name, part in splits.items():
        videos = {u.group for u in part}
        assert part and videos <= set(mosi.STANDARD_FOLDS[name])
        assert all(u.key.rsplit("_", 1)[0] == u.group == u.speaker for u in part)
    assert description["units"] == {name: len({u.group for u in part}) for name, part in splits.items()}


@pytest.mark.parametrize("seed", [0, 1])
def test_poria_split_tests_on_its_31_videos_and_holds_dev_out_of_train(synth_root, seed):
    utts = mosi.prepare(synth_root("cmu_mosi")).utterances
    splits, description = official(utts, {**DATARC, "split_seed": seed})
    check_disjoint(splits)
    groups = {name: {u.group for u in part} for name, part in splits.items()}
    assert groups["test"] == {u.group for u in utts} & set(mosi.PORIA2017_FOLDS["test"])
    assert groups["dev"] and groups["dev"] | groups["train"] <= set(mosi.PORIA2017_FOLDS["train"])
    assert len(groups["dev"]) == round(DATARC["valid_fraction"] * (len(groups["dev"]) + len(groups["train"])))
    assert description["protocol"] == "official, dev held out of train" and description["split_seed"] == seed
    with pytest.raises(CorpusError, match="no dev split; set downstream_expert.datarc.valid_fraction"):
        official(utts, {k: v for k, v in DATARC.items() if k != "valid_fraction"})


def test_label_csv_mode_column_is_the_split(synth_root, tmp_path):
    root = tmp_path / "mosi"
    shutil.copytree(synth_root("cmu_mosi"), root)
    label = root / "label.csv"
    rows = list(csv.DictReader(open(label, newline="")))
    moved = next(r["video_id"] for r in rows if r["mode"] == "train")
    for r in rows:
        if r["video_id"] == moved:
            r["mode"] = "test"
    with open(label, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    splits, _ = official(mosi.prepare(root, labels="mmsa", folds="standard").utterances, DATARC)
    assert moved in {u.group for u in splits["test"]} and moved not in {u.group for u in splits["train"]}
    label.unlink()  # auto falls back to whichever file exists
    assert mosi.prepare(root).utterances == mosi.prepare(root, labels="opinion").utterances


def small_tree(root, lines, video="0h-zjBukYpk"):
    for n in (1, 2):
        tone(root / f"Raw/Audio/WAV_16000/Segmented/{video}_{n}.wav")
    (root / "Raw/Labels").mkdir(parents=True, exist_ok=True)
    (root / "Raw/Labels/OpinionLevelSentiment.csv").write_text(lines)
    return root


def test_headerless_file_video_ids_with_underscores_and_an_optional_header(tmp_path):
    video = "I5y0__X72p0"
    small_tree(tmp_path, f"12.5,15.0,{video},1,-0.4\n15.2,19.9,{video},2,0.0\n", video)
    utts = mosi.prepare(tmp_path).utterances
    assert [(u.key, u.label, u.split, u.group) for u in utts] == [
        (f"{video}_1", "negative", "test", video), (f"{video}_2", "positive", "test", video)]  # Poria's test video
    assert {u.split for u in mosi.prepare(tmp_path, folds="standard").utterances} == {"train"}  # the SDK's train
    small_tree(tmp_path, f"start,end,video,segment,label\n12.5,15.0,{video},1,-0.4\n", video)
    assert [u.key for u in mosi.prepare(tmp_path).utterances] == [f"{video}_1"]
    assert mosi.prepare(tmp_path.joinpath("Raw")).utterances == mosi.prepare(tmp_path).utterances  # root may be Raw/ itself


@pytest.mark.parametrize("lines, complaint", [
    ("1,2,notAMosiVid,1,1.0\n", "video 'notAMosiVid' is not one of CMU-MOSI's 93 videos in the poria2017 folds"),
    ("1,2,0h-zjBukYpk,1,3.5\n", "score 3.5 is outside CMU-MOSI's range"),
    ("1,2,0h-zjBukYpk,3,1.0\n", r"0h-zjBukYpk_3\.wav is missing: OpinionLevelSentiment.csv labels segment 3"),
    ("1,2,0h-zjBukYpk,1,1.0\n1,2,0h-zjBukYpk,1,2.0\n", "segment 0h-zjBukYpk_1 is labelled twice"),
    ("1,2,0h-zjBukYpk,1\n", "has 4 fields"),
])
def test_bad_label_lines_are_named(tmp_path, lines, complaint):
    with pytest.raises(CorpusError, match=complaint):
        mosi.prepare(small_tree(tmp_path, lines)).utterances


def test_bad_mmsa_files(tmp_path):
    small_tree(tmp_path, "")
    (tmp_path / "Raw/Labels/OpinionLevelSentiment.csv").unlink()
    (tmp_path / "label.csv").write_text("video_id,clip_id,text,label,mode\n0h-zjBukYpk,1,hi,1.0,dev\n")
    with pytest.raises(CorpusError, match="line 2: mode 'dev' is not one of train, valid, test"):
        mosi.prepare(tmp_path).utterances
    (tmp_path / "label.csv").write_text("video_id,segment,label\n0h-zjBukYpk,1,1.0\n")
    with pytest.raises(CorpusError, match=r"columns \['clip_id', 'mode'\] are missing"):
        mosi.prepare(tmp_path).utterances


def test_wrong_layouts_say_what_was_expected(tmp_path):
    with pytest.raises(CorpusError, match="datarc.root"):
        mosi.prepare(tmp_path / "nowhere").utterances
    with pytest.raises(CorpusError, match="Segmented is missing.*OpinionLevelSentiment.csv"):
        mosi.prepare(tmp_path).utterances
    tone(tmp_path / "Raw/Audio/WAV_16000/Segmented/0h-zjBukYpk_1.wav")
    with pytest.raises(CorpusError, match="no OpinionLevelSentiment.csv found"):
        mosi.prepare(tmp_path, labels="opinion").utterances
    with pytest.raises(CorpusError, match="no label.csv found"):
        mosi.prepare(tmp_path).utterances


# -- the segment the corpus defines as empty -------------------------------------------------------
def test_the_empty_segment_is_in_the_synthetic_release(synth_root):
    root = synth_root("cmu_mosi")
    raw = (root / "Raw/Labels/OpinionLevelSentiment.csv").read_bytes()
    assert raw.count(b"\r\n") == len(opinion_rows(root)) and not raw.startswith(b"start")  # CRLF, no header
    row = next(r for r in opinion_rows(root) if r[2:4] == ["2WGyTLYerpo", "44"])
    assert float(row[0]) == float(row[1])
    wav = root / "Raw/Audio/WAV_16000/Segmented/2WGyTLYerpo_44.wav"
    assert sf.info(str(wav)).frames == 0
    with pytest.raises(AudioError, match="holds no samples"):  # what would stop the default config
        check_audio(wav)


def test_the_default_config_runs_through_the_empty_segment(synth_root, tmp_path):
    block = yaml.safe_load((REPO / "downstream/cmu_mosi/config.yaml").read_text())["downstream_expert"]
    block["datarc"]["root"] = str(synth_root("cmu_mosi"))
    assert block["datarc"]["on_bad_audio"] == "error"
    expert = DownstreamExpert(240, 160, block, str(tmp_path / "exp"))
    assert "2WGyTLYerpo_44" not in {u.key for part in expert.splits.values() for u in part}
    skipped = json.loads((tmp_path / "exp" / "skipped.json").read_text())
    assert skipped["counts"] == {mosi.EMPTY: 1}
    assert skipped["excluded"][0]["key"] == "2WGyTLYerpo_44"


def test_other_empty_rows_are_defects_and_other_bad_audio_follows_on_bad_audio(tmp_path):
    video = "0h-zjBukYpk"
    small_tree(tmp_path, f"12.5,15.0,{video},1,-0.4\r\n15.2,15.2,{video},2,0.0\r\n17.0,19.0,{video},3,1.0\r\n", video)
    sf.write(tmp_path / f"Raw/Audio/WAV_16000/Segmented/{video}_2.wav", np.zeros(0), 16000)  # empty, as defined
    sf.write(tmp_path / f"Raw/Audio/WAV_16000/Segmented/{video}_3.wav", np.zeros(0), 16000)  # empty, not defined so
    parsed = mosi.prepare(tmp_path)
    assert [(e.key, e.reason) for e in parsed.excluded] == [(f"{video}_2", mosi.EMPTY)]
    spec, objective = TASKS["cmu_mosi"], TASKS["cmu_mosi"].objective()
    with pytest.raises(AudioError, match=f"{video}_3.wav: audio file holds no samples"):
        prepare_utterances(spec, {"root": str(tmp_path), "on_bad_audio": "error"}, objective)
    skipped = prepare_utterances(spec, {"root": str(tmp_path), "on_bad_audio": "skip"}, objective)
    assert count_reasons(skipped.excluded) == {mosi.EMPTY: 1, "unusable audio": 1}
    assert [u.key for u in skipped.utterances] == [f"{video}_1"]
