"""EmoDB end to end through s3prl's own runner: train, evaluate, a result row with provenance."""
from __future__ import annotations

import json

import pytest
import torch

from care_superb.downstream.registry import TASKS
from care_superb.downstream.results import keys_hash
from helpers import assert_learned, learning_schedule, run_downstream

pytestmark = pytest.mark.slow  # end to end: s3prl's runner or care-superb in subprocesses


def test_train_then_evaluate_beats_chance(synth_root, tmp_path):
    root, exp = synth_root("emodb"), tmp_path / "exp"
    # The config's one loader worker is kept here, where the other runner tests load in the main
    # process.
    run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", "emodb", "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={root},,{learning_schedule(200, workers=1)}")
    assert (exp / "dev-best.ckpt").is_file() and (exp / "split.json").is_file()
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())

    assert row["task"] == "emodb" and row["split"] == "test" and row["primary_metric"] == "weighted_f1"
    assert set(row["metrics"]) >= {"weighted_f1", "accuracy", "unweighted_accuracy", "macro_f1"}
    # 7 classes: chance weighted F1 is about 1/7.
    assert_learned("emodb", row["metrics"], {"weighted_f1": 0.3})
    assert row["data"]["synthetic"] is True and row["upstream"]["name"] == "fbank_no_cmvn"
    assert row["protocol"]["speakers"]["test"] and row["downstream_checkpoint"].endswith("dev-best.ckpt")
    assert row["versions"]["s3prl"] == "0.4.18" and row["config"]["optimizer"]["torch_optim_name"] == "AdamW"
    predictions = json.loads((exp / "predictions-test-dev-best.json").read_text())["predictions"]
    assert len(predictions) == row["n_utterances"] == len(json.loads((exp / "split.json").read_text())["utterances"]["test"])
    # Schema 3: what the leaderboard reads; each prediction names its cluster, the test speaker.
    assert (row["schema"], row["schema_version"], row["engine"]) == ("care-superb/result-row", 3, "s3prl")
    assert {p["unit"] for p in predictions} == set(row["protocol"]["speakers"]["test"])
    assert row["resampling"]["unit"] == "speaker" and row["resampling"]["n_units"] == 2
    assert row["resampling"]["test_keys_sha256"] == keys_hash(p["key"] for p in predictions)
    assert row["predictions"] == "predictions-test-dev-best.json" and row["exclusions"] == {}
    assert row["n_classes_present"] == len({p["target"] for p in predictions}) == 7
    objective = TASKS["emodb"].objective()
    recomputed = objective.metrics([p["target"] for p in predictions], [p["output"] for p in predictions])
    assert recomputed["weighted_f1"] == pytest.approx(row["metrics"]["weighted_f1"])
    assert all(objective.labels[p["target"]] == p["true"] for p in predictions)
    # One hidden state (log-mel): s3prl's Featurizer has no layer weights to learn.
    assert "weights" not in torch.load(exp / "dev-best.ckpt", map_location="cpu", weights_only=False)["Featurizer"]
    assert row["layer_weights"] is None
