"""tools/care_probe.py chooses pre-training settings on dev: it never loads a test utterance."""
from __future__ import annotations

import pytest
import torch

import care_probe  # tools/care_probe.py
from care_superb.downstream.emodb import corpus as emodb
from corpus_trees import tone
from pretrain_fixtures import tiny_init

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def emodb_tree(tmp_path_factory):
    """Every EmoDB speaker in every emotion, one text: tones whose pitch follows the emotion."""
    root = tmp_path_factory.mktemp("emodb")
    for s, speaker in enumerate(emodb.SPEAKERS):
        for e, letter in enumerate(emodb.EMOTIONS):
            tone(root / "wav" / f"{speaker}a01{letter}a.wav", seconds=0.5, hz=150 + 40 * e + 5 * s)
    return root


@pytest.mark.parametrize("split", [0, 1])
def test_the_probe_reads_train_and_dev_speakers_only(emodb_tree, tmp_path, monkeypatch, split):
    from care_superb.benchmark.spec import task_config
    from care_superb.downstream import audio
    from care_superb.downstream.registry import TASKS

    datarc = {**task_config("emodb")["downstream_expert"]["datarc"], "split_seed": split}
    full, _ = TASKS["emodb"].protocol(emodb.prepare(emodb_tree).utterances, datarc)
    test_speakers = {u.unit for u in full["test"]}
    assert len(test_speakers) == 2

    splits = care_probe.selection_splits(str(emodb_tree), split)
    assert set(splits) == {"train", "dev"}
    assert {u.unit for u in splits["dev"]} == {u.unit for u in full["dev"]}

    loaded = []
    real = audio.load_audio
    monkeypatch.setattr(audio, "load_audio", lambda path, *a, **k: (loaded.append(path), real(path, *a, **k))[1])
    scores = care_probe.dev_scores(care_probe.Features(str(tiny_init(tmp_path / "init.pt"))), splits)
    assert scores["dev"] == len(full["dev"]) and len(scores["layers"]) == 13 and 0 <= scores["all"] <= 1
    speakers = {emodb.parse_name(p.name)["speaker"] for p in loaded}
    assert loaded and not speakers & test_speakers, f"the probe loaded test speakers {speakers & test_speakers}"
    assert speakers == {u.unit for u in full["train"] + full["dev"]}
