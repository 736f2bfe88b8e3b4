"""MSP-IMPROV as distributed: Evaluation.txt (or Evalution.txt), UTD-/MSP- names, attributes by
prefix, rater lines, and speaker folds."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import yaml

from care_superb.downstream import splits
from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.msp_improv import corpus as msp
from care_superb.downstream.registry import TASKS
from helpers import REPO

SPEAKERS = [f"{s}{n:02d}" for n in range(1, 7) for s in "FM"]


def wav(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(1600, dtype=np.float32), 16000, subtype="PCM_16")


def build_tree(root, label_file="Evaluation.txt", audio_level="Audio"):
    """Two turns per speaker; turn 2 of F01 lists D, V, A in another order; a rater line
    follows each label line; one labelled turn has no audio, one wav has no label, one turn has
    a NaN attribute; one turn of F02's improvisation is spoken by her partner M02."""
    blocks = []
    for i, spk in enumerate(SPEAKERS):
        session = int(spk[1:])
        for turn in (1, 2):
            name = f"S0{turn}{'AH'[turn - 1]}-{spk}-{'SP'[turn - 1]}-{spk[0]}{'MF'[spk[0] == 'M']}0{turn}"
            if spk == "F02" and turn == 2:
                name = f"S02H-{spk}-P-MF01"  # the partner speaks
            v, a, d = 1.0 + i * 0.25, 2.0 + turn, 3.5 - i * 0.1
            if spk == "F01" and turn == 2:
                line = f"UTD-IMPROV-{name}.avi; H; D:{d:.6f} ; V:{v:.6f}; N:3.000000; A:{a:.6f};"
            elif spk == "M06" and turn == 2:
                line = f"UTD-IMPROV-{name}.avi; H; A:{a:.6f}; V:NaN; D:{d:.6f} ; N:3.000000;"
            else:
                line = f"UTD-IMPROV-{name}.avi; A; A:{a:.6f}; V:{v:.6f}; D:{d:.6f} ; N:3.000000;"
            blocks.append(f"{line}\nP07; Angry; Frustrated; A:4.000000; V:1.000000; D:5.000000; N:2.000000;\n")
            if not (spk == "M03" and turn == 1):
                folder = root / audio_level if audio_level else root
                wav(folder / f"session{session}" / f"S0{turn}{'AH'[turn - 1]}" / "SP"[turn - 1] / f"MSP-IMPROV-{name}.wav")
    wav(root / audio_level / "session1" / "S09N" / "T" / "MSP-IMPROV-S09N-F01-T-FM01.wav")
    (root / label_file).write_text("\n".join(blocks))
    return root


@pytest.fixture
def tree(tmp_path):
    return build_tree(tmp_path / "msp")


def test_labels_are_valence_arousal_dominance_read_by_prefix(tree):
    utts = {u.key: u for u in msp.prepare(tree).utterances}
    f01 = utts["MSP-IMPROV-S01A-F01-S-FM01"]
    assert f01.label == (1.0, 3.0, 3.5) and f01.speaker == "F01"
    assert f01.path == tree / "Audio/session1/S01A/S/MSP-IMPROV-S01A-F01-S-FM01.wav"
    # D, V, A in another order, N in between: the same attributes come out.
    assert utts["MSP-IMPROV-S02H-F01-P-FM02"].label == (1.0, 4.0, 3.5)
    assert utts["MSP-IMPROV-S01A-M01-S-MF01"].speaker == "M01"
    assert msp.ATTRIBUTES == ("valence", "arousal", "dominance")
    assert TASKS["msp_improv"].objective().attributes == list(msp.ATTRIBUTES)


def test_the_speaker_is_who_speaks_the_turn_unless_asked_for_the_actor(tree):
    turn = {u.key: u.speaker for u in msp.prepare(tree).utterances}
    actor = {u.key: u.speaker for u in msp.prepare(tree, speaker="actor").utterances}
    assert turn["MSP-IMPROV-S02H-F02-P-MF01"] == "M02" and actor["MSP-IMPROV-S02H-F02-P-MF01"] == "F02"
    assert {k for k in turn if turn[k] != actor[k]} == {"MSP-IMPROV-S02H-F02-P-MF01"}
    # both readings resample the same scenes: session and target sentence with its emotion
    parsed = msp.prepare(tree)
    assert parsed.clusters == "scene"
    assert {u.key: u.resampling_unit for u in parsed.utterances}["MSP-IMPROV-S02H-F02-P-MF01"] == "session2/S02H"
    with pytest.raises(CorpusError, match="datarc.corpus.speaker='voice'; choose turn or actor"):
        msp.prepare(tree, speaker="voice")


def test_defects_are_left_out_by_name(tree):
    parsed = msp.prepare(tree)
    left_out = {(e.key, e.reason) for e in parsed.excluded}
    assert left_out == {("MSP-IMPROV-S01A-M03-S-MF01", "label without audio"),
                        ("MSP-IMPROV-S02H-M06-P-MF02", "attribute is NaN"),
                        ("MSP-IMPROV-S09N-F01-T-FM01", "audio without a label")}
    assert len(parsed.utterances) == 2 * 12 - 2


def test_rater_lines_do_not_become_labels(tree):
    assert all(u.label != (1.0, 4.0, 5.0) for u in msp.prepare(tree).utterances)


def test_evalution_spelling_and_no_audio_level(tmp_path):
    root = build_tree(tmp_path / "msp", label_file="Evalution.txt", audio_level="")
    utts = msp.prepare(root).utterances
    assert len(utts) == 22 and utts[0].path.parent.parent.parent.name.startswith("session")


def test_missing_label_file(tmp_path):
    (tmp_path / "Audio").mkdir()
    with pytest.raises(CorpusError, match="Evaluation.txt nor .*Evalution.txt"):
        msp.prepare(tmp_path).utterances


def test_a_label_line_without_an_attribute_names_its_line(tree):
    path = tree / "Evaluation.txt"
    path.write_text(path.read_text() + "UTD-IMPROV-S03A-F02-R-FM01.avi; A; A:3.0; V:2.0; N:3.0;\n")
    with pytest.raises(CorpusError, match=r"Evaluation.txt:\d+: label line lacks \['dominance'\]"):
        msp.prepare(tree).utterances


def test_duplicate_label_keeps_the_first(tree):
    path = tree / "Evaluation.txt"
    path.write_text(path.read_text() + "UTD-IMPROV-S01A-F01-S-FM01.avi; A; A:1.0; V:1.0; D:1.0 ; N:3.0;\n")
    parsed = msp.prepare(tree)
    assert ("MSP-IMPROV-S01A-F01-S-FM01", "labelled twice (first label kept)") in {(e.key, e.reason) for e in parsed.excluded}
    assert next(u for u in parsed.utterances if u.key.endswith("S01A-F01-S-FM01")).label == (1.0, 3.0, 3.5)


@pytest.mark.parametrize("name, complaint", [
    ("MSP-IMPROV-S01A-X01-S-FM01.wav", "not an MSP-IMPROV name"),
    ("MSP-IMPROV-S01A-F07-S-FM01.wav", "unknown speaker 'F07'"),
    ("UTD-IMPROV-S01A.avi", "not an MSP-IMPROV name"),
])
def test_bad_names(name, complaint):
    with pytest.raises(CorpusError, match=complaint):
        msp.parse_name(name)


def test_parse_name():
    assert msp.parse_name("UTD-IMPROV-S08H-F05-P-MF01.avi") == {
        "corpus": "UTD", "sentence": "S08", "emotion": "H", "speaker": "F05", "scenario": "P", "turn": "MF01",
        "voice": "M05"}


def folds_config():
    return yaml.safe_load((REPO / "downstream/msp_improv/config.yaml").read_text())["downstream_expert"]["datarc"]


def test_every_configured_fold_tests_one_speaker_and_validates_its_partner(tree):
    datarc = folds_config()
    utts = msp.prepare(tree).utterances
    tested = []
    for fold in range(len(datarc["folds"])):
        drawn, description = splits.speaker_folds(utts, {**datarc, "fold": fold})
        splits.check_disjoint(drawn)
        test, dev = {u.speaker for u in drawn["test"]}, {u.speaker for u in drawn["dev"]}
        assert len(test) == len(dev) == 1 and test != dev
        assert {s[1:] for s in test} == {s[1:] for s in dev}  # the same session
        assert {u.speaker for u in drawn["train"]} == set(SPEAKERS) - test - dev
        assert description["speakers"]["test"] == sorted(test) and description["fold"] == fold
        tested += sorted(test)
    assert sorted(tested) == sorted(SPEAKERS)


def test_bad_fold_settings(tree):
    utts, datarc = msp.prepare(tree).utterances, folds_config()
    with pytest.raises(CorpusError, match="datarc.fold=12"):
        splits.speaker_folds(utts, {**datarc, "fold": 12})
    with pytest.raises(CorpusError, match="test speaker 'F09'"):
        splits.speaker_folds(utts, {**datarc, "folds": [["F09", "M01"]], "fold": 0})
    with pytest.raises(CorpusError, match="both 'F01'"):
        splits.speaker_folds(utts, {**datarc, "folds": [["F01", "F01"]], "fold": 0})
