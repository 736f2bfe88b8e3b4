"""EmoDB as distributed: file-name parsing, layout errors."""
from __future__ import annotations

import pytest

from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.emodb import corpus as emodb

REAL_SPEAKERS = ["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"]
REAL_LETTERS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
                "F": "happiness", "T": "sadness", "N": "neutral"}


@pytest.mark.parametrize("speaker", REAL_SPEAKERS)
@pytest.mark.parametrize("letter", sorted(REAL_LETTERS))
def test_every_real_speaker_and_emotion_letter_parses(speaker, letter):
    fields = emodb.parse_name(f"{speaker}b09{letter}c.wav")
    assert fields == {"speaker": speaker, "text": "b09", "emotion": REAL_LETTERS[letter], "take": "c"}


@pytest.mark.parametrize("name, complaint", [
    ("01a01Fa.wav", "unknown speaker '01'"),
    ("03a03Fa.wav", "unknown text code 'a03'"),
    ("03a01Xa.wav", "unknown emotion letter 'X'"),
    ("03a01F.wav", "expected SSTTTEV.wav"),
    ("notes.wav", "expected SSTTTEV.wav"),
])
def test_bad_file_names_are_named_in_the_error(name, complaint):
    with pytest.raises(CorpusError, match=complaint) as err:
        emodb.parse_name(name)
    assert name in str(err.value)


def test_missing_root_says_what_to_do(tmp_path):
    with pytest.raises(CorpusError) as err:
        emodb.prepare(tmp_path / "nowhere").utterances
    assert "nowhere" in str(err.value) and "datarc.root" in str(err.value) and "care-superb synth" in str(err.value)


def test_root_without_wav_folder_is_not_emodb(tmp_path):
    (tmp_path / "03a01Fa.wav").write_bytes(b"")
    with pytest.raises(CorpusError, match=r"wav is missing.*SSTTTEV"):
        emodb.prepare(tmp_path).utterances


def test_empty_wav_folder(tmp_path):
    (tmp_path / "wav").mkdir()
    with pytest.raises(CorpusError, match="holds no .wav files"):
        emodb.prepare(tmp_path).utterances


def test_a_stray_file_stops_with_its_name(synth_root, tmp_path):
    (tmp_path / "wav").mkdir()
    (tmp_path / "wav" / "03a01Fa.wav").write_bytes(b"x")
    (tmp_path / "wav" / "03a01Fa (copy).wav").write_bytes(b"x")
    with pytest.raises(CorpusError, match=r"03a01Fa \(copy\)\.wav"):
        emodb.prepare(tmp_path).utterances


def test_synthetic_corpus_parses_into_the_real_inventory(synth_root):
    utts = emodb.prepare(synth_root("emodb")).utterances
    assert {u.speaker for u in utts} == set(REAL_SPEAKERS)
    assert {u.label for u in utts} == set(REAL_LETTERS.values())
    assert len({u.key for u in utts}) == len(utts)
