"""The synthetic MSP-IMPROV: the owners' layout, and attributes that drive the prosody."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml
from scipy.stats import spearmanr

from care_superb.downstream import splits
from care_superb.downstream.msp_improv import corpus as msp
from care_superb.downstream.msp_improv import synth
from care_superb.synth import MARKER
from helpers import REPO


def test_layout_and_label_file(synth_root):
    root = synth_root("msp_improv")
    assert json.loads((root / MARKER).read_text())["layout"] == "msp_improv"
    files = sorted(root.glob("Audio/session*/S*/*/MSP-IMPROV-*.wav"))
    assert files and len(files) == len(list(root.rglob("*.wav")))
    for path in files:
        fields = msp.parse_name(path.name)
        assert path.parent.name == fields["scenario"] and path.parent.parent.name == fields["sentence"] + fields["emotion"]
        assert path.parent.parent.parent.name == f"session{int(fields['speaker'][1:])}"
    info = sf.info(str(files[0]))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    text = (root / "Evaluation.txt").read_text()
    assert re.search(r"^UTD-IMPROV-S\d\d[AHSN]-[FM]0\d-[PRST]-\w+\.avi; [AHSN]; A:\d\.\d{6}; V:\d\.\d{6}; D:\d\.\d{6} ; N:",
                     text, re.M)
    parsed = msp.prepare(root)
    assert parsed.excluded == [] and len(parsed.utterances) == len(files)
    assert sorted({u.speaker for u in parsed.utterances}) == sorted(msp.SPEAKERS)


def voices_of(root):
    """Which voice really speaks each turn: the plan the synthetic corpus was rendered from."""
    plan = synth.plan(random.Random(f"{json.loads((root / MARKER).read_text())['seed']}:plan"), "demo")
    return {Path(clip.path).stem: clip.speaker.id for clip in plan.clips}


def test_both_actors_speak_in_improvisations_and_each_fold_keeps_a_voice_on_one_side(synth_root):
    root = synth_root("msp_improv")
    voice = voices_of(root)
    parsed = msp.prepare(root).utterances
    assert all(u.speaker == voice[u.key] for u in parsed)
    partner = [u for u in parsed if u.speaker != msp.parse_name(u.key)["speaker"]]
    assert partner and {msp.parse_name(u.key)["scenario"] for u in partner} == {"S", "P"}
    datarc = yaml.safe_load((REPO / "downstream/msp_improv/config.yaml").read_text())["downstream_expert"]["datarc"]
    for fold, (test_speaker, _) in enumerate(datarc["folds"]):
        drawn, _ = splits.speaker_folds(parsed, {**datarc, "fold": fold})
        assert {voice[u.key] for u in drawn["test"]} == {test_speaker}
        assert test_speaker not in {voice[u.key] for u in drawn["train"] + drawn["dev"]}
    # The common reading (the 4th name field) puts the partner's voice in the test speaker's fold.
    by_actor = msp.prepare(root, speaker="actor").utterances
    drawn, _ = splits.speaker_folds(by_actor, {**datarc, "fold": 0})
    assert {voice[u.key] for u in drawn["test"]} == set(datarc["folds"][0])


def test_arousal_and_dominance_drive_loudness_and_arousal_the_rate(synth_root):
    utterances = msp.prepare(synth_root("msp_improv")).utterances
    loudness, arousal, dominance, durations = [], [], [], {}
    for utt in utterances:
        audio, sr = sf.read(str(utt.path))
        loudness.append(np.sqrt(np.mean(audio[np.abs(audio) > 0.01] ** 2)))
        valence, a, d = utt.label
        arousal.append(a)
        dominance.append(d)
        fields = msp.parse_name(utt.key)
        if fields["scenario"] in "RT":  # the target sentence itself: same words, so duration = rate
            durations.setdefault(fields["sentence"], []).append((a, len(audio) / sr))
    assert spearmanr(arousal, loudness).correlation > 0.4
    assert spearmanr(dominance, loudness).correlation > 0.3
    relative = [(a, d / np.mean([x[1] for x in group])) for group in durations.values() for a, d in group]
    assert spearmanr(*zip(*relative)).correlation < -0.3


def test_the_evalution_spelling_of_a_copy_parses_the_same(synth_root, tmp_path):
    import shutil

    root = tmp_path / "msp"
    shutil.copytree(synth_root("msp_improv"), root)
    (root / "Evaluation.txt").rename(root / "Evalution.txt")
    assert [(u.key, u.label) for u in msp.prepare(root).utterances] == [(u.key, u.label) for u in msp.prepare(synth_root("msp_improv")).utterances]
