"""MSP-IMPROV end to end through s3prl's own runner: CCC for valence, arousal, dominance."""
from __future__ import annotations

import json

import pytest

from helpers import assert_learned, learning_schedule, run_downstream

pytestmark = pytest.mark.slow  # end to end: s3prl's runner or care-superb in subprocesses


def test_train_then_evaluate_predicts_the_attributes(synth_root, tmp_path):
    root, exp = synth_root("msp_improv"), tmp_path / "exp"
    run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", "msp_improv", "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={root},,{learning_schedule(200)}")
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    metrics = row["metrics"]

    assert row["task"] == "msp_improv" and row["primary_metric"] == "mean_ccc"
    assert set(metrics) >= {"mean_ccc", "valence_ccc", "arousal_ccc", "dominance_ccc"}
    assert row["protocol"]["speakers"]["test"] == ["F01"] and row["protocol"]["speakers"]["dev"] == ["M01"]
    assert_learned("msp_improv", metrics, {"mean_ccc": 0.3})
    assert metrics["mean_ccc"] == pytest.approx(sum(metrics[f"{a}_ccc"] for a in ("valence", "arousal", "dominance")) / 3)
    prediction = json.loads((exp / "predictions-test-dev-best.json").read_text())["predictions"][0]
    assert set(prediction["pred"]) == set(prediction["true"]) == {"valence", "arousal", "dominance"}
    # resampled by scene: session 1's target sentence and emotion (the key's S01A)
    assert row["resampling"]["unit"] == "scene" and prediction["unit"] == f"session1/{prediction['key'].split('-')[2]}"
    assert json.loads((exp / "dev-best.json").read_text())["metrics"]["mean_ccc"] > 0
