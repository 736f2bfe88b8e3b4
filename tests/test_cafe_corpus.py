"""CaFE as distributed: labels from file names (garbled folders), both editions, speaker splits."""
from __future__ import annotations

import pytest
import soundfile as sf
import yaml

from care_superb.downstream.audio import load_audio
from care_superb.downstream.cafe import corpus as cafe
from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.splits import check_disjoint, speaker_independent
from corpus_trees import tone
from helpers import REPO

LETTERS = {"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral", "P": "fear", "S": "surprise", "T": "sadness"}
DATARC = yaml.safe_load((REPO / "downstream/cafe/config.yaml").read_text())["downstream_expert"]["datarc"]


@pytest.mark.parametrize("letter", sorted(LETTERS))
def test_every_emotion_letter(letter):
    assert cafe.parse_name(f"07-{letter}-2-6.wav") == {"actor": "07", "emotion": LETTERS[letter],
                                                        "intensity": "2", "sentence": "6"}


@pytest.mark.parametrize("name, complaint", [
    ("13-C-1-1.wav", "actor '13'"), ("01-X-1-1.wav", "emotion letter 'X'"), ("01-C-3-1.wav", "intensity '3'"),
    ("01-C-1-7.wav", "sentence '7'"), ("01_C_1_1.wav", "expected AA-E-I-S.wav"),
])
def test_bad_names_are_named(name, complaint):
    with pytest.raises(CorpusError, match=complaint) as err:
        cafe.parse_name(name)
    assert name in str(err.value)


def edition(root, name="CaFE_48k", rate=48000):
    """A small edition tree: accented, garbled and plain folder names, Neutre without intensity."""
    tone(root / name / "Colère/Fort/01-C-2-1.wav", rate)
    tone(root / name / "D+®go+¦t/Faible/02-D-1-3.wav", rate)  # Dégoût as a cp437 zip shows it
    tone(root / name / "Joie/Fort/03-J-2-2.wav", rate)
    tone(root / name / "Neutre/04-N-1-5.wav", rate)
    tone(root / name / "__MACOSX/Neutre/._04-N-1-5.wav", rate)
    (root / name / "Neutre/._04-N-1-5.wav").write_bytes(b"\x00\x05")
    return root


def test_labels_come_from_file_names_whatever_the_folders(tmp_path):
    utts = cafe.prepare(edition(tmp_path)).utterances
    assert sorted((u.key, u.label, u.speaker) for u in utts) == [
        ("01-C-2-1", "anger", "01"), ("02-D-1-3", "disgust", "02"), ("03-J-2-2", "happiness", "03"),
        ("04-N-1-5", "neutral", "04")]


def test_the_192k_edition_reads_and_resamples(tmp_path):
    edition(tmp_path, "CaFE_192k", 192000)
    utts = cafe.prepare(tmp_path).utterances
    assert {sf.info(str(u.path)).samplerate for u in utts} == {192000}
    assert all("CaFE_192k" in u.path.parts for u in utts)
    wav = load_audio(utts[0].path, min_seconds=None)
    assert wav.ndim == 1 and abs(len(wav) - 0.3 * 16000) <= 1


def test_edition_choice(tmp_path):
    edition(tmp_path, "CaFE_48k", 48000)
    edition(tmp_path, "CaFE_192k", 192000)
    assert all("CaFE_48k" in u.path.parts for u in cafe.prepare(tmp_path).utterances)  # auto: 48 kHz first
    assert all("CaFE_192k" in u.path.parts for u in cafe.prepare(tmp_path, edition="192k").utterances)
    assert all("CaFE_192k" in u.path.parts for u in cafe.prepare(tmp_path / "CaFE_192k").utterances)  # the edition folder itself
    with pytest.raises(CorpusError, match="edition='96k'"):
        cafe.prepare(tmp_path, edition="96k").utterances


def test_wrong_layouts_say_what_was_expected(tmp_path):
    with pytest.raises(CorpusError, match="datarc.root"):
        cafe.prepare(tmp_path / "nowhere").utterances
    tone(tmp_path / "Colère/Fort/01-C-2-1.wav")
    with pytest.raises(CorpusError, match=r"no CaFE_48k/ or CaFE_192k/ \(found: Colère\).*Fort\|Faible"):
        cafe.prepare(tmp_path).utterances
    with pytest.raises(CorpusError, match="no CaFE_192k/"):
        cafe.prepare(tmp_path, edition="192k").utterances
    (tmp_path / "CaFE_48k").mkdir()
    with pytest.raises(CorpusError, match="holds no .wav files"):
        cafe.prepare(tmp_path).utterances


def test_a_stray_or_duplicated_file_stops_with_its_name(tmp_path):
    edition(tmp_path)
    tone(tmp_path / "CaFE_48k/Joie/Faible/03-J-2-2.wav")
    with pytest.raises(CorpusError, match="03-J-2-2.wav is in the corpus twice"):
        cafe.prepare(tmp_path).utterances
    (tmp_path / "CaFE_48k/Joie/Faible/03-J-2-2.wav").unlink()
    tone(tmp_path / "CaFE_48k/Joie/Fort/03-J-2-2 (1).wav")
    with pytest.raises(CorpusError, match=r"03-J-2-2 \(1\)\.wav: not a CaFE file name"):
        cafe.prepare(tmp_path).utterances


def test_synthetic_corpus_is_in_the_owners_layout(synth_root):
    root = synth_root("cafe")
    utts = cafe.prepare(root).utterances
    assert {u.speaker for u in utts} == {f"{n:02d}" for n in range(1, 13)}
    assert {u.label for u in utts} == set(LETTERS.values())
    garbled = [u for u in utts if "Col+¿re" in u.path.parts]
    assert garbled and {u.label for u in garbled} == {"anger"}
    assert all(u.path.parent.name in ("Fort", "Faible") for u in utts if u.label != "neutral")
    assert all(u.path.parent.name == "Neutre" for u in utts if u.label == "neutral")
    assert {sf.info(str(u.path)).samplerate for u in utts[::25]} == {48000}


@pytest.mark.parametrize("seed", range(5))
def test_no_speaker_in_two_splits(synth_root, seed):
    splits, _ = speaker_independent(cafe.prepare(synth_root("cafe")).utterances, {**DATARC, "split": seed})
    check_disjoint(splits)
    speakers = {name: {u.speaker for u in part} for name, part in splits.items()}
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["test"]
                or speakers["dev"] & speakers["test"])
    assert (len(speakers["train"]), len(speakers["dev"]), len(speakers["test"])) == (8, 2, 2)
