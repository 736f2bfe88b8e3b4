"""MELD as distributed: both CSV/folder layouts, the mp4 -> wav preparation (resumable), the
known defects reported by name, the official split by dialogue."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
import soundfile as sf
import yaml

from care_superb.cli import main
from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.expert import prepare_utterances
from care_superb.downstream.meld import corpus as meld
from care_superb.downstream.meld import prepare
from care_superb.downstream.registry import TASKS
from care_superb.downstream.splits import check_disjoint, official
from helpers import REPO

def _pairs(known: dict) -> set[tuple[str, str]]:
    return {(split, name) for split, names in known.items() for name in names}


CORRUPT, MISSING, UNLABELLED = (_pairs(meld.KNOWN_CORRUPT), _pairs(meld.KNOWN_MISSING), _pairs(meld.KNOWN_UNLABELLED))
DATARC = yaml.safe_load((REPO / "downstream/meld/config.yaml").read_text())["downstream_expert"]["datarc"]


@pytest.fixture(scope="module")
def prepared(synth_root, tmp_path_factory):
    root = synth_root("meld")
    cache = tmp_path_factory.mktemp("meld-16k")
    return root, cache, prepare.prepare_cache(root, cache, progress=False)


def labelled(root) -> set[tuple[str, str]]:
    return {(s.name, r.name) for s in meld.inventory(root).values() for r in s.rows}


def wavs(cache) -> dict[str, bytes]:
    return {str(p.relative_to(cache)): p.read_bytes() for p in sorted(cache.glob("*/*.wav"))}


def test_preparation_reports_the_known_defects_by_name(prepared):
    root, cache, report = prepared
    named = lambda kind: {(item["split"], item["clip"]) for item in report[kind]}
    assert named("corrupt") == CORRUPT and named("missing") == MISSING and named("unlabelled") == UNLABELLED
    assert "dia125_utt3.mp4" in report["corrupt"][0]["error"]
    expected = labelled(root) - CORRUPT - MISSING
    assert report["converted"] == len(expected) and report["already_cached"] == 0
    assert set(wavs(cache)) == {f"{split}/{name}.wav" for split, name in expected}
    assert json.loads((cache / meld.REPORT).read_text())["corrupt"] == report["corrupt"]


def test_cache_is_16k_mono_pcm(prepared):
    _, cache, _ = prepared
    for path in sorted(cache.glob("*/*.wav"))[::20]:
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16") and info.duration > 0.5


def test_synthetic_clips_are_48k_mp4_with_1_2_or_6_channels(synth_root):
    clips = sorted((synth_root("meld") / "train_splits").glob("*.mp4"))[:60]
    channels, rates = set(), set()
    for clip in clips:
        if clip.stem == "dia125_utt3":
            continue
        out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                              "stream=codec_name,channels,sample_rate", "-of", "csv=p=0", str(clip)],
                             capture_output=True, text=True, check=True).stdout.strip().split(",")
        assert out[0] == "aac"
        rates.add(int(out[1]))
        channels.add(int(out[2]))
    assert rates == {48000} and channels == {1, 2, 6}


def test_parser_leaves_out_each_defect_by_name(prepared):
    root, cache, _ = prepared
    parsed = meld.prepare(root, cache=cache)
    assert {tuple(u.key.split("/")) for u in parsed.utterances} == labelled(root) - CORRUPT - MISSING
    left_out = {reason: {tuple(e.key.split("/")) for e in parsed.excluded if e.reason == reason}
                for reason in {e.reason for e in parsed.excluded}}
    assert left_out == {"corrupt clip": CORRUPT, "missing clip": MISSING, "clip without a label row": UNLABELLED}
    assert {u.label for u in parsed.utterances} == set(meld.EMOTIONS)


def test_official_split_by_dialogue(prepared):
    root, cache, _ = prepared
    utts = meld.prepare(root, cache=cache).utterances
    splits, description = official(utts, DATARC)
    check_disjoint(splits)
    for name, part in splits.items():
        assert part and {u.split for u in part} == {name}
        assert all(u.group == f"{name}/dia{u.key.split('/dia')[1].split('_')[0]}" for u in part)
    groups = {name: {u.group for u in part} for name, part in splits.items()}
    assert not (groups["train"] & groups["dev"] or groups["train"] & groups["test"] or groups["dev"] & groups["test"])
    assert description["units"] == {name: len(g) for name, g in groups.items()}


def test_both_layouts_read_the_same(prepared, tmp_path):
    """The CSV and clip folder of each split under train/ dev/ test/ instead of at the root."""
    root, shared, _ = prepared
    # A copy: preparing again rewrites the cache's report (the nested root's paths in its errors),
    # which the module's other tests read; in a shuffled order they came after this one.
    cache = shutil.copytree(shared, tmp_path / "meld-16k")
    nested = tmp_path / "MELD.Raw"
    for split in ("train", "dev", "test"):
        (nested / split).mkdir(parents=True)
        shutil.copy(root / meld.CSV_NAMES[split], nested / split / meld.CSV_NAMES[split])
        shutil.copytree(root / meld.CLIP_FOLDERS[split], nested / split / meld.CLIP_FOLDERS[split])
    flat = sorted((u.key, u.label, u.speaker, u.split) for u in meld.prepare(root, cache=cache).utterances)
    # root may also be the folder holding MELD.Raw/
    assert sorted((u.key, u.label, u.speaker, u.split) for u in meld.prepare(tmp_path, cache=cache).utterances) == flat
    assert labelled(nested) == labelled(root)
    again = prepare.prepare_cache(nested, cache, progress=False)
    assert again["converted"] == 0 and again["already_cached"] == len(flat)


def test_csv_text_with_commas_and_quotes_in_either_encoding(tmp_path):
    header = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"
    line = '1,"Oh, I\u2019m so \u201chappy\u201d, really!",Rachel,Joy,positive,7,2,3,14,"00:16:16,059","00:16:21,731"\n'
    for encoding in ("utf-8", "cp1252"):
        csv = tmp_path / f"{encoding}.csv"
        csv.write_bytes((header + line).encode(encoding))
        [row] = meld.read_rows(csv, "train")
        assert (row.split, row.dialogue, row.utterance, row.emotion, row.speaker, row.name) == \
            ("train", 7, 2, "joy", "Rachel", "dia7_utt2")


def test_malformed_csvs_stop_with_the_file(tmp_path):
    bad = tmp_path / "train_sent_emo.csv"
    bad.write_text("Sr No.,Utterance,Speaker,Sentiment,Dialogue_ID,Utterance_ID\n1,hi,Joey,neutral,0,0\n")
    with pytest.raises(CorpusError, match=r"train_sent_emo.csv: columns \['Emotion'\] are missing"):
        meld.read_rows(bad, "train")
    bad.write_text("Sr No.,Utterance,Speaker,Emotion,Dialogue_ID,Utterance_ID\n1,hi,Joey,joy,0,0\n2,hi,Joey,joy,0,0\n")
    with pytest.raises(CorpusError, match="line 3: dia0_utt0 is listed twice"):
        meld.read_rows(bad, "train")


def test_layout_and_cache_errors_say_what_to_do(prepared, tmp_path):
    root, cache, _ = prepared
    with pytest.raises(CorpusError, match="train_sent_emo.csv not found at .*train_splits/"):
        meld.inventory(tmp_path)
    with pytest.raises(CorpusError, match="datarc.corpus.cache: decode the mp4 clips once with `care-superb prepare meld"):
        meld.prepare(root).utterances
    with pytest.raises(CorpusError, match="no prepare_report.json.*care-superb prepare meld"):
        meld.prepare(root, cache=tmp_path / "empty").utterances
    partial = tmp_path / "partial"
    shutil.copytree(cache, partial)
    victim = sorted(partial.glob("test/*.wav"))[3]
    victim.unlink()
    with pytest.raises(CorpusError, match=f"{victim.name} is missing.*run it again"):
        meld.prepare(root, cache=partial).utterances


def test_an_unknown_emotion_names_the_clip_and_label(prepared, tmp_path):
    root, cache, _ = prepared
    copy = tmp_path / "meld"
    shutil.copytree(root, copy)
    csv = copy / "dev_sent_emo.csv"
    csv.write_text(csv.read_text().replace(",neutral,neutral,", ",calm,neutral,", 1))
    spec = TASKS["meld"]
    with pytest.raises(CorpusError, match=r"dev/dia\d+_utt\d+\.wav: label 'calm'"):
        prepare_utterances(spec, {**DATARC, "root": str(copy), "corpus": {"cache": str(cache)}}, spec.objective())


def test_interrupted_preparation_converts_only_what_is_missing(prepared, tmp_path, monkeypatch):
    root, reference, _ = prepared
    cache = tmp_path / "cache"
    real, batches = prepare.convert, []

    def killed_half_way(jobs, output_args, ffmpeg="ffmpeg"):
        if sum(map(len, batches)) >= 100:  # killed while ffmpeg was writing the next batch's first wav
            part = jobs[0][1].with_name(f".{jobs[0][1].name}.part")
            part.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(b"RIFF\x00\x00")
            raise KeyboardInterrupt
        real(jobs, output_args, ffmpeg)
        batches.append(jobs)

    monkeypatch.setattr(prepare, "convert", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        prepare.prepare_cache(root, cache, progress=False)
    first = wavs(cache)
    assert 100 <= len(first) == sum(map(len, batches)) < len(wavs(reference)) and not (cache / meld.REPORT).exists()
    assert all(first[name] == reference.joinpath(name).read_bytes() for name in first)  # no half file

    converted = []

    def counting(jobs, output_args, ffmpeg="ffmpeg"):
        real(jobs, output_args, ffmpeg)
        converted.extend(str(wav.relative_to(cache)) for _, wav in jobs)

    monkeypatch.setattr(prepare, "convert", counting)
    report = prepare.prepare_cache(root, cache, progress=False)
    assert not set(converted) & set(first) and report["already_cached"] == len(first)
    assert set(converted) | set(first) == set(wavs(reference))
    assert wavs(cache) == wavs(reference) and not list(cache.glob("*/.*.part"))
    assert {(c["split"], c["clip"]) for c in report["corrupt"]} == CORRUPT


def test_prepare_command_resumes_and_says_so(prepared, tmp_path, capsys):
    root, _, _ = prepared
    cache = tmp_path / "cache"
    assert main(["prepare", "meld", "--root", str(root), "--cache", str(cache)]) == 0
    first = capsys.readouterr().out
    assert "0 already there" in first and "train dia125_utt3" in first and "dev dia110_utt7" in first
    assert "test final_videos_testdia101_utt0" in first and str(cache / meld.REPORT) in first
    assert main(["prepare", "meld", "--root", str(root), "--cache", str(cache)]) == 0
    assert "0 clips converted now" in capsys.readouterr().out


def test_synthetic_dialogues_are_ids_the_release_has():
    """Train has no dialogue 60 (1038 dialogues, IDs 0-1038): no seed may write dia60 into train."""
    import random

    from care_superb.downstream.meld import synth

    assert meld.DIALOGUES == {"train": 1038, "dev": 114, "test": 280} and 60 not in meld.DIALOGUE_IDS["train"]
    for seed in range(20):
        plan = synth.plan(random.Random(f"{seed}:plan"), "full")
        rows = csv.DictReader(io.StringIO(plan.text_files[meld.CSV_NAMES["train"]]))
        used = {int(row["Dialogue_ID"]) for row in rows}
        assert used <= set(meld.DIALOGUE_IDS["train"]), (seed, sorted(used - set(meld.DIALOGUE_IDS["train"])))
