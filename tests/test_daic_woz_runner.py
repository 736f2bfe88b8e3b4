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
    # Shorter segments and fewer of them than the paper's keep this run about a minute on 2 CPU
    # cores. At lr 1e-3 for 600 steps it passed on head seeds 1337, 1, 2 and 3 here, but with
    # another CPU's kernels (tools/runner_seeds.py --cpu avx2) seed 1 missed the depressed-class
    # floor (0.765 for 0.778; +0.114 with this CPU's): the interview F1 that picks dev-best takes
    # few values on a few dev interviews, and which step reached it first followed the floating
    # point. At 1e-4 for 1200 steps: +0.102 to +0.109 on seeds 1337, 1, 2 and, with AVX2 kernels, 1 and 3.
    run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", "daic_woz", "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={root},,{learning_schedule(1200, lr=1e-4)},,"
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
