"""IEMOCAP as distributed: EmoEvaluation labels, speakers from utterance IDs, leave one session
out with a validation speaker from the training sessions, the 4- and 6-class label sets."""
from __future__ import annotations

import shutil

import pytest
import yaml

from care_superb.downstream.corpus import CorpusError, count_reasons
from care_superb.downstream.expert import prepare_utterances
from care_superb.downstream.iemocap import corpus as iemocap
from care_superb.downstream.registry import TASKS
from care_superb.downstream.splits import check_disjoint, leave_one_session_out
from corpus_trees import tone
from helpers import REPO


def datarc(task, root, **changes):
    block = yaml.safe_load((REPO / f"downstream/{task}/config.yaml").read_text())["downstream_expert"]["datarc"]
    return {**block, "root": str(root), **changes}


def owner_tree(root, turns=None):
    """Five sessions, one dialog each; the turns of Session1 are given, the others get one each."""
    turns = turns or {"Ses01F_impro01": [("Ses01F_impro01_F000", "neu"), ("Ses01F_impro01_M000", "exc"),
                                         ("Ses01F_impro01_M001", "xxx")]}
    for n in range(1, 6):
        dialogs = turns if n == 1 else {f"Ses0{n}M_script01_1": [(f"Ses0{n}M_script01_1_F000", "ang")]}
        for dialog, lines in dialogs.items():
            text = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
            for i, (utt, code) in enumerate(lines):
                tone(root / f"Session{n}/sentences/wav/{dialog}/{utt}.wav")
                text += f"[{i + 1.5:.4f} - {i + 2.75:.4f}]\t{utt}\t{code}\t[2.5000, 3.0000, 2.0000]\n"
                text += "C-E2:\tNeutral state;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n"
            labels = root / f"Session{n}/dialog/EmoEvaluation"
            labels.mkdir(parents=True, exist_ok=True)
            (labels / f"{dialog}.txt").write_text(text)
            (labels / "Categorical").mkdir(exist_ok=True)
            (labels / "Categorical" / f"{dialog}_e2_cat.txt").write_text("[not a label line]\n")
            (labels / f"._{dialog}.txt").write_bytes(b"\x00\x05\x16\x07[1.0 - 2.0]\tjunk\tbad\t[\n")
    return root


def test_owner_layout(tmp_path):
    utts = iemocap.prepare(owner_tree(tmp_path)).utterances
    first = [(u.key, u.label, u.speaker, u.split) for u in utts if u.split == "Session1"]
    # the speaker is the gender letter of the turn, not of the dialog's name
    assert first == [("Ses01F_impro01_F000", "neu", "Ses01F", "Session1"),
                     ("Ses01F_impro01_M000", "exc", "Ses01M", "Session1"),
                     ("Ses01F_impro01_M001", "xxx", "Ses01M", "Session1")]
    assert {u.speaker for u in utts if u.split == "Session4"} == {"Ses04F"}
    # a test session's errors cluster in its dialogues: the leaderboard resamples those
    parsed = iemocap.prepare(owner_tree(tmp_path))
    assert parsed.clusters == "dialogue" and {u.resampling_unit for u in utts if u.split == "Session1"} == {"Ses01F_impro01"}
    assert TASKS["iemocap4"].corpus is TASKS["iemocap6"].corpus is iemocap  # one corpus folder, two tasks


def test_an_unknown_code_names_the_file_and_line(tmp_path):
    owner_tree(tmp_path, {"Ses01F_impro01": [("Ses01F_impro01_F000", "neu"), ("Ses01F_impro01_M000", "joy")]})
    with pytest.raises(CorpusError, match=r"Ses01F_impro01\.txt line 7: Ses01F_impro01_M000 has label 'joy'"):
        iemocap.prepare(tmp_path).utterances


def test_layout_errors_say_what_was_expected(tmp_path):
    with pytest.raises(CorpusError, match="datarc.root"):
        iemocap.prepare(tmp_path / "nowhere").utterances
    owner_tree(tmp_path / "IEMOCAP_full_release")
    assert len(iemocap.prepare(tmp_path).utterances) == 7  # the folder holding IEMOCAP_full_release/ works too
    (tmp_path / "IEMOCAP_full_release/Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M000.wav").unlink()
    with pytest.raises(CorpusError, match=r"Ses01F_impro01_M000\.wav is missing: .*Ses01F_impro01\.txt labels"):
        iemocap.prepare(tmp_path).utterances
    shutil.rmtree(tmp_path / "IEMOCAP_full_release/Session3")
    with pytest.raises(CorpusError, match="Session3 missing; an IEMOCAP root holds Session1/ ... Session5/"):
        iemocap.prepare(tmp_path / "IEMOCAP_full_release").utterances


def test_synthetic_corpus_is_in_the_owners_layout(synth_root):
    root = synth_root("iemocap")
    utts = iemocap.prepare(root).utterances
    assert {u.speaker for u in utts} == {f"Ses0{n}{g}" for n in range(1, 6) for g in "FM"}
    assert {u.label for u in utts} >= {"neu", "hap", "exc", "sad", "ang", "fru", "xxx"}
    assert all(u.path == root / u.split / "sentences/wav" / u.key.rsplit("_", 1)[0] / f"{u.key}.wav" for u in utts)
    assert list(root.glob("Session1/dialog/EmoEvaluation/Categorical/*.txt"))
    # turns of the other gender in a dialog named after one speaker
    assert any(u.key.startswith("Ses02F") and u.speaker == "Ses02M" for u in utts)


@pytest.mark.parametrize("fold", range(1, 6))
@pytest.mark.parametrize("seed", [0, 1])
def test_leave_one_session_out(synth_root, fold, seed):
    utts = iemocap.prepare(synth_root("iemocap")).utterances
    splits, description = leave_one_session_out(utts, datarc("iemocap4", "", fold=fold, split_seed=seed))
    check_disjoint(splits)  # no speaker in two splits
    sessions = {name: {u.split for u in part} for name, part in splits.items()}
    speakers = {name: {u.speaker for u in part} for name, part in splits.items()}
    assert sessions["test"] == {f"Session{fold}"} and f"Session{fold}" not in sessions["train"] | sessions["dev"]
    assert speakers["test"] == {f"Ses0{fold}F", f"Ses0{fold}M"} and len(speakers["dev"]) == 1
    assert sessions["dev"] <= sessions["train"]  # the validation speaker's partner trains
    assert len(speakers["train"]) == 7 and sum(map(len, splits.values())) == len(utts)
    assert description["fold"] == fold and description["speakers"]["dev"] == sorted(speakers["dev"])
    again, _ = leave_one_session_out(utts, datarc("iemocap4", "", fold=fold, split_seed=seed))
    assert {u.speaker for u in again["dev"]} == speakers["dev"]


def test_validation_speaker_depends_on_the_seed_and_fold_is_checked(synth_root):
    utts = iemocap.prepare(synth_root("iemocap")).utterances
    drawn = {leave_one_session_out(utts, {"fold": 1, "split_seed": s})[1]["speakers"]["dev"][0] for s in range(8)}
    assert len(drawn) > 1
    with pytest.raises(CorpusError, match="datarc.fold=6, but the corpus has 5 sessions"):
        leave_one_session_out(utts, {"fold": 6})


def test_four_classes_merge_excited_into_happy_and_count_the_drops(synth_root):
    root = synth_root("iemocap")
    raw = iemocap.prepare(root).utterances
    spec = TASKS["iemocap4"]
    parsed = prepare_utterances(spec, datarc("iemocap4", root), spec.objective())
    kept, excluded = parsed.utterances, parsed.excluded
    assert {u.label for u in kept} == {"ang", "hap", "sad", "neu"}
    assert sum(u.label == "hap" for u in kept) == sum(u.label in ("hap", "exc") for u in raw)
    dropped = {code: sum(u.label == code for u in raw) for code in ("fru", "sur", "fea", "dis", "oth", "xxx")}
    assert count_reasons(excluded) == {f"label {code} dropped (drop_labels)": n for code, n in dropped.items() if n}
    assert len(kept) == len(raw) - sum(dropped.values())


def test_six_classes_and_an_unlisted_label_is_an_error(synth_root):
    root = synth_root("iemocap")
    spec = TASKS["iemocap6"]
    kept = prepare_utterances(spec, datarc("iemocap6", root), spec.objective()).utterances
    assert {u.label for u in kept} == {"ang", "hap", "sad", "neu", "exc", "fru"}
    with pytest.raises(CorpusError, match=r"Ses0\d[FM]_\w+\.wav: label 'xxx'.*drop_labels"):
        prepare_utterances(spec, datarc("iemocap6", root, drop_labels=["sur", "fea", "dis", "oth"]), spec.objective())
