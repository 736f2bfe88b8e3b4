"""RAVDESS-Song as distributed: file names, the song/speech mix, Actor_18, the singer splits."""
from __future__ import annotations

import pytest
import soundfile as sf
import yaml

from care_superb.downstream.audio import load_audio
from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.expert import prepare_utterances
from care_superb.downstream.ravdess_song import corpus as ravdess
from care_superb.downstream.registry import TASKS
from care_superb.downstream.splits import check_disjoint, speaker_independent
from corpus_trees import tone
from helpers import REPO

SONG = ["neutral", "calm", "happy", "sad", "angry", "fearful"]
DATARC = yaml.safe_load((REPO / "downstream/ravdess_song/config.yaml").read_text())["downstream_expert"]["datarc"]


@pytest.mark.parametrize("code, emotion", [("01", "neutral"), ("02", "calm"), ("03", "happy"), ("04", "sad"),
                                           ("05", "angry"), ("06", "fearful"), ("07", "disgust"), ("08", "surprised")])
def test_every_emotion_code(code, emotion):
    fields = ravdess.parse_name(f"03-02-{code}-02-01-02-13.wav")
    assert fields == {"modality": "03", "channel": "song", "emotion": emotion, "intensity": "02",
                      "statement": "01", "repetition": "02", "actor": "13"}
    assert ravdess.parse_name(f"03-01-{code}-01-02-01-24.wav")["channel"] == "speech"


@pytest.mark.parametrize("name, complaint", [
    ("01-02-01-01-01-01-01.wav", "modality code '01'"),
    ("03-03-01-01-01-01-01.wav", "channel code '03'"),
    ("03-02-09-01-01-01-01.wav", "emotion code '09'"),
    ("03-02-01-03-01-01-01.wav", "intensity code '03'"),
    ("03-02-01-01-01-01-25.wav", "actor '25'"),
    ("03-02-01-01-01-01.wav", "expected MM-VV-EE-II-SS-RR-AA.wav"),
])
def test_bad_names_are_named(name, complaint):
    with pytest.raises(CorpusError, match=complaint) as err:
        ravdess.parse_name(name)
    assert name in str(err.value)


def owner_tree(root):
    """Actor_01 (song, speech, a 2-channel song, an .mp4), Actor_02, and an empty Actor_18."""
    tone(root / "Actor_01/03-02-01-01-01-01-01.wav", 48000)
    tone(root / "Actor_01/03-02-05-02-02-01-01.wav", 48000, channels=2)
    tone(root / "Actor_01/03-01-08-02-01-01-01.wav", 48000)  # speech: ignored
    (root / "Actor_01/01-02-01-01-01-01-01.mp4").write_bytes(b"video")
    (root / "Actor_01/._03-02-01-01-01-01-01.wav").write_bytes(b"\x00\x05")
    tone(root / "Actor_02/03-02-06-01-01-02-02.wav", 48000)
    (root / "Actor_18").mkdir()
    return root


def test_owner_layout_song_only(tmp_path):
    parsed = ravdess.prepare(owner_tree(tmp_path))
    assert [(e.key, e.reason) for e in parsed.excluded] == [("03-01-08-02-01-01-01", "speech file (the task is song)")]
    utts = parsed.utterances
    assert sorted((u.key, u.label, u.speaker) for u in utts) == [
        ("03-02-01-01-01-01-01", "neutral", "01"), ("03-02-05-02-02-01-01", "angry", "01"),
        ("03-02-06-01-01-02-02", "fearful", "02")]
    stereo = next(u for u in utts if u.label == "angry")
    assert sf.info(str(stereo.path)).channels == 2
    wav = load_audio(stereo.path)
    assert wav.ndim == 1 and len(wav) == 16000  # 0.3 s at 48 kHz -> 16 kHz mono, padded to 1 s


def test_a_file_in_another_actors_folder(tmp_path):
    tone(tmp_path / "Actor_03/03-02-01-01-01-01-04.wav")
    with pytest.raises(CorpusError, match="actor 04 in the name, but the file is in Actor_03"):
        ravdess.prepare(tmp_path).utterances


def test_wrong_layouts_say_what_was_expected(tmp_path):
    with pytest.raises(CorpusError, match="datarc.root"):
        ravdess.prepare(tmp_path / "nowhere").utterances
    tone(tmp_path / "songs/03-02-01-01-01-01-01.wav")
    with pytest.raises(CorpusError, match="no Actor_NN folders.*Actor_01/03-02-01-01-01-01-01.wav"):
        ravdess.prepare(tmp_path).utterances
    tone(tmp_path / "Actor_01/03-01-01-01-01-01-01.wav")
    with pytest.raises(CorpusError, match="no song files.*Audio_Song_Actors_01-24.zip"):
        ravdess.prepare(tmp_path).utterances


def test_a_non_song_emotion_is_refused_by_name_unless_dropped(tmp_path):
    owner_tree(tmp_path)
    odd = tone(tmp_path / "Actor_02/03-02-07-01-01-01-02.wav")
    spec = TASKS["ravdess_song"]
    datarc = {**DATARC, "root": str(tmp_path)}
    with pytest.raises(CorpusError, match=rf"{odd.name}: label 'disgust'"):
        prepare_utterances(spec, datarc, spec.objective())
    kept = prepare_utterances(spec, {**datarc, "drop_labels": ["disgust"]}, spec.objective()).utterances
    assert len(kept) == 3


def test_synthetic_corpus_is_in_the_owners_layout(synth_root):
    root = synth_root("ravdess_song")
    utts = ravdess.prepare(root).utterances
    assert {u.speaker for u in utts} == {f"{n:02d}" for n in range(1, 25)} - {"18"}
    assert (root / "Actor_18").is_dir() and not any((root / "Actor_18").iterdir())
    assert {u.label for u in utts} == set(SONG)
    speech = [p for p in root.glob("Actor_*/03-01-*.wav")]
    assert speech and not {p.stem for p in speech} & {u.key for u in utts}
    infos = [sf.info(str(u.path)) for u in utts]
    assert {i.samplerate for i in infos} == {48000} and sorted(i.channels for i in infos)[-1] == 2
    # neutral has no strong take, as in the corpus
    assert not [u for u in utts if u.label == "neutral" and ravdess.parse_name(u.path.name)["intensity"] == "02"]


@pytest.mark.parametrize("seed", range(5))
def test_no_singer_in_two_splits(synth_root, seed):
    utts = ravdess.prepare(synth_root("ravdess_song")).utterances
    splits, description = speaker_independent(utts, {**DATARC, "split_seed": seed})
    check_disjoint(splits)
    singers = {name: {u.speaker for u in part} for name, part in splits.items()}
    assert not (singers["train"] & singers["dev"] or singers["train"] & singers["test"] or singers["dev"] & singers["test"])
    assert (len(singers["train"]), len(singers["dev"]), len(singers["test"])) == (17, 3, 3)
    assert {k: set(v) for k, v in description["speakers"].items()} == singers
