"""CaFE as distributed: labels from file names (garbled folders), both editions as released (the
48 kHz folder; the 192 kHz pair of AIFF folders with three-field neutral names), speaker splits."""
from __future__ import annotations

from collections import Counter

import pytest
import soundfile as sf
import yaml

from care_superb.benchmark.extract import audio_tuple, expected_samples
from care_superb.downstream.audio import AudioError, check_audio, load_audio
from care_superb.downstream.cafe import corpus as cafe
from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.splits import check_disjoint, speaker_independent
from corpus_trees import tone
from helpers import REPO

LETTERS = {"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral", "P": "fear", "S": "surprise", "T": "sadness"}
DATARC = yaml.safe_load((REPO / "downstream/cafe/config.yaml").read_text())["downstream_expert"]["datarc"]


@pytest.mark.parametrize("letter", sorted(LETTERS))
def test_every_emotion_letter(letter):
    level = "1" if letter == "N" else "2"  # neutral has one intensity
    assert cafe.parse_name(f"07-{letter}-{level}-6.wav") == {"actor": "07", "emotion": LETTERS[letter],
                                                              "intensity": level, "sentence": "6"}


def test_both_name_forms_and_both_containers():
    assert cafe.parse_name("03-N-1.aiff") == {"actor": "03", "emotion": "neutral", "intensity": None, "sentence": "1"}
    assert cafe.parse_name("03-N-1-1.wav") == {"actor": "03", "emotion": "neutral", "intensity": "1", "sentence": "1"}
    assert cafe.parse_name("07-T-2-6.aiff")["emotion"] == "sadness"
    assert cafe.parse_name("07-T-2-6.AIFF")["sentence"] == "6"


@pytest.mark.parametrize("name, complaint", [
    ("13-C-1-1.wav", "actor '13'"), ("01-X-1-1.wav", "emotion letter 'X'"), ("01-C-3-1.wav", "intensity '3'"),
    ("01-C-1-7.wav", "sentence '7'"), ("01_C_1_1.wav", "expected AA-E-I-S.wav"),
    ("01-C-1.aiff", "only neutral files"), ("01-N-2-1.wav", r"intensity '2'.*1 \(or none\) for neutral"),
    ("01-C-1-1.mp3", "expected AA-E-I-S.wav or .aiff"),
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
    with pytest.raises(CorpusError, match=r"no CaFE_48k/ or CaFE_192k_1/ \+ CaFE_192k_2/ \(found: Colère\).*Fort\|Faible"):
        cafe.prepare(tmp_path).utterances
    with pytest.raises(CorpusError, match=r"no CaFE_192k_1/ \+ CaFE_192k_2/"):
        cafe.prepare(tmp_path, edition="192k").utterances
    (tmp_path / "CaFE_48k").mkdir()
    with pytest.raises(CorpusError, match="holds no .wav/.aiff/.aif files"):
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
    assert {u.key for u in utts if u.label == "neutral"} and all(
        cafe.parse_name(u.path.name)["intensity"] == "1" for u in utts if u.label == "neutral")  # AA-N-1-S.wav


def test_synthetic_192k_edition_is_the_released_pair(synth_root):
    root = synth_root("cafe", "demo-192k")
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["CaFE_192k_1", "CaFE_192k_2"]
    for half in ("CaFE_192k_1", "CaFE_192k_2"):
        assert (root / half / "Readme.txt").is_file() and (root / half / "License.txt").is_file()
    utts = cafe.prepare(root / "CaFE_192k_2").utterances  # either half reads the pair
    assert {u.speaker for u in utts} == set(cafe.ACTORS) and {u.label for u in utts} == set(LETTERS.values())
    assert {u.path.suffix for u in utts} == {".aiff"}
    assert all(u.path.parent.name == "Neutre" and u.key.count("-") == 2 for u in utts if u.label == "neutral")
    assert all(u.path.parent.name in ("Fort", "Faible") and u.key.count("-") == 3 for u in utts if u.label != "neutral")
    infos = [sf.info(str(u.path)) for u in utts[::20]]
    assert {(i.format, i.subtype, i.samplerate) for i in infos} == {("AIFF", "PCM_24", 192000)}
    for u in utts[::40]:
        check_audio(u.path)


@pytest.mark.parametrize("seed", range(5))
def test_no_speaker_in_two_splits(synth_root, seed):
    splits, _ = speaker_independent(cafe.prepare(synth_root("cafe")).utterances, {**DATARC, "split_seed": seed})
    check_disjoint(splits)
    speakers = {name: {u.speaker for u in part} for name, part in splits.items()}
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["test"]
                or speakers["dev"] & speakers["test"])
    assert (len(speakers["train"]), len(speakers["dev"]), len(speakers["test"])) == (8, 2, 2)


# -- the editions as released --------------------------------------------------------------------
def release(root, edition: str, seconds: float = 0.002):
    """Every one of CaFE's 936 files in ``edition``'s released layout (48k: one folder of WAVs;
    192k: the pair of AIFF folders, three-field neutral names, a Readme and License per half),
    each a few milliseconds of tone."""
    rate, suffix, subtype = (48000, ".wav", "PCM_16") if edition == "48k" else (192000, ".aiff", "PCM_24")
    for folder, actors in cafe.EDITIONS[edition].items():
        if edition == "192k":
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder / "Readme.txt").write_text("File naming method : AA-E-I-S.wav\n")
            (root / folder / "License.txt").write_text("CC BY-NC-SA 4.0\n")
        for actor in actors:
            for letter, emotion_folder in cafe.FOLDERS.items():
                for s in cafe.SENTENCES:
                    if letter == "N":
                        name = f"{actor}-N-1-{s}" if edition == "48k" else f"{actor}-N-{s}"
                        tone(root / folder / emotion_folder / f"{name}{suffix}", rate, seconds=seconds, subtype=subtype)
                        continue
                    for level, intensity in cafe.INTENSITIES.items():
                        tone(root / folder / emotion_folder / intensity / f"{actor}-{letter}-{level}-{s}{suffix}", rate,
                             seconds=seconds, subtype=subtype)
    return root


@pytest.fixture(scope="module")
def both_editions(tmp_path_factory):
    """The three archives of the owners' release unzipped side by side."""
    root = tmp_path_factory.mktemp("cafe-release")
    return release(release(root, "48k"), "192k")


def assert_the_whole_corpus(utterances):
    assert len(utterances) == cafe.FILES == 936
    assert Counter(u.speaker for u in utterances) == {actor: 78 for actor in cafe.ACTORS}
    assert Counter(u.label for u in utterances) == {**{e: 144 for e in LETTERS.values()}, "neutral": 72}


@pytest.mark.parametrize("edition, suffix", [("48k", ".wav"), ("192k", ".aiff")])
def test_each_released_edition_is_the_whole_corpus(both_editions, edition, suffix):
    utterances = cafe.prepare(both_editions, edition=edition).utterances
    assert_the_whole_corpus(utterances)
    assert {u.path.suffix for u in utterances} == {suffix}
    if edition == "192k":  # actors 01-06 in the first archive, 07-12 in the second
        assert {u.path.relative_to(both_editions).parts[0] for u in utterances if u.speaker <= "06"} == {"CaFE_192k_1"}
        assert {u.path.relative_to(both_editions).parts[0] for u in utterances if u.speaker >= "07"} == {"CaFE_192k_2"}
        assert {u.key for u in utterances if u.label == "neutral"} >= {"03-N-1", "07-N-6"}
    assert all("CaFE_48k" in u.path.parts for u in cafe.prepare(both_editions).utterances)  # auto: 48 kHz first


@pytest.mark.parametrize("half", ["CaFE_192k_1", "CaFE_192k_2"])
def test_either_192k_folder_reads_the_pair(both_editions, half):
    utterances = cafe.prepare(both_editions / half).utterances
    assert_the_whole_corpus(utterances)
    assert {u.path.relative_to(both_editions).parts[0] for u in utterances} == {"CaFE_192k_1", "CaFE_192k_2"}


def test_one_192k_half_alone_is_refused_naming_the_other(tmp_path):
    tone(tmp_path / "CaFE_192k_1/Neutre/03-N-1.aiff", 192000, subtype="PCM_24")
    for root in (tmp_path, tmp_path / "CaFE_192k_1"):
        with pytest.raises(CorpusError, match=r"holds only CaFE_192k_1/ \(actors 01-06\); unzip CaFE_192k_2/ "
                                              r"\(actors 07-12, archive CaFE_192k_2.zip\)"):
            cafe.prepare(root).utterances


def test_aiff_is_read_checked_and_measured_from_its_header(tmp_path):
    """192 kHz 24-bit AIFF: read and resampled by the loader, checked before training, and its
    length known from the header alone (the benchmark's batching) exactly as loaded."""
    path = tone(tmp_path / "07-T-2-6.aiff", 192000, seconds=1.37, subtype="PCM_24")
    check_audio(path)
    for settings in ({"sample_rate": 16000, "max_seconds": 20, "min_seconds": 1},
                     {"sample_rate": 16000, "max_seconds": 1.0, "min_seconds": None},
                     {"sample_rate": 16000, "max_seconds": None, "min_seconds": 2.0}):
        loaded = load_audio(path, **settings)
        assert len(loaded) == expected_samples(path, None, None, audio_tuple(settings)), settings
    assert abs(len(load_audio(path, min_seconds=None)) - 1.37 * 16000) <= 1
    data = path.read_bytes()
    (tmp_path / "cut.aiff").write_bytes(data[: len(data) // 2])  # a truncated copy
    with pytest.raises(AudioError, match="truncated AIFF: header declares 263040 sample frames"):
        check_audio(tmp_path / "cut.aiff")
