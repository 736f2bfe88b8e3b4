"""DAIC-WOZ end to end through s3prl's own runner: segments in, segment- and interview-level
results out, depression detected above chance on the synthetic corpus."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import assert_learned, learning_schedule, run_downstream

pytestmark = pytest.mark.slow  # end to end: s3prl's runner or care-superb in subprocesses


def test_train_then_evaluate_detects_depression_above_chance(synth_root, tmp_path):
    root, exp = synth_root("daic_woz"), tmp_path / "exp"
    # Shorter segments and fewer of them than the paper's keep this run under half a minute on 2
    # CPU cores. 600 steps passed on head seeds 1337, 1, 2 and 3. Measured before dev-best's tie
    # rule: 400 missed the depressed-class floor on seed 3 (0.774 for 0.778), 200 on seed 1337;
    # and 600 missed on seed 3 too once a tie kept the first step to reach it (the interview F1
    # that picks dev-best takes few values on a few dev interviews): a tie goes to the lower loss.
    run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", "daic_woz", "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={root},,{learning_schedule(600)},,"
                   "config.downstream_expert.datarc.segment_seconds=2.0,,"
                   "config.downstream_expert.datarc.segments_per_label={'depressed':12,'not_depressed':8}")
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    metrics = row["metrics"]

    assert row["task"] == "daic_woz" and row["split"] == "test" and row["primary_metric"] == "interview_weighted_f1"
    assert set(metrics) >= {"weighted_f1", "macro_f1", "depressed_f1", "interview_weighted_f1",
                            "interview_macro_f1", "interview_depressed_f1", "interview_accuracy"}
    # Tested on the AVEC 2017 dev list's participants, as the paper reports.
    dev_list = {str(p) for p in pd.read_csv(root / "dev_split_Depression_AVEC2017.csv")["Participant_ID"]}
    assert set(row["protocol"]["speakers"]["test"]) <= dev_list and len(row["protocol"]["speakers"]["test"]) >= 8
    predictions = json.loads((exp / "predictions-test-dev-best.json").read_text())["predictions"]
    assert len(predictions) == row["n_utterances"] == row["protocol"]["segments"]["counts"]["test"]
    assert row["protocol"]["segments"]["evaluation"] == "tile"  # every test interview whole, whatever its label
    # resampled by interview: every segment names its interview
    assert row["resampling"]["unit"] == "interview"
    assert all(p["unit"] == p["key"].split("/")[0] for p in predictions)
    assert {p["unit"] for p in predictions} == set(row["protocol"]["speakers"]["test"])
    assert row["exclusions"]["interruption cut out"] == 1
    # Chance: predicting "depressed" for everything scores 2p / (1 + p) on the depressed class.
    p = sum(x["true"] == "depressed" for x in predictions) / len(predictions)
    assert_learned("daic_woz", metrics, {"depressed_f1": 2 * p / (1 + p) + 0.05, "weighted_f1": 0.7,
                                         "interview_weighted_f1": 0.6})
    assert row["data"]["synthetic"] is True and row["upstream"]["name"] == "fbank_no_cmvn"
