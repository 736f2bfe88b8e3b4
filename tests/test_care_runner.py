"""CARE and its two ablations through s3prl's runner on the synthetic EmoDB, from a care-init
checkpoint: the default location for `-u care`, `-k` for the `_local` names."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sklearn.metrics import f1_score

from helpers import FEW_STEPS, REPO, run_downstream

pytestmark = pytest.mark.slow  # end to end: s3prl's runner or care-superb in subprocesses


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    subprocess.run([sys.executable, "-m", "care_superb.cli", "care-init", "--size", "tiny",
                    "--out", str(home / "checkpoints" / "care.pt")], check=True, capture_output=True)
    return home


@pytest.mark.parametrize("name", ["care", "care_acoustic_local", "care_semantic_local"])
def test_train_and_evaluate(name, tiny_checkpoint, synth_root, tmp_path, monkeypatch):
    monkeypatch.setenv("CARE_SUPERB_HOME", str(tiny_checkpoint))
    ckpt = str(tiny_checkpoint / "checkpoints" / "care.pt")
    exp = tmp_path / "exp"
    upstream = ["-u", name] + (["-k", ckpt] if name.endswith("_local") else [])
    run_downstream("-m", "train", *upstream, "-d", "emodb", "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={synth_root('emodb')},,{FEW_STEPS}")
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    assert row["upstream"]["name"] == name
    provenance = row["upstream"]["provenance"]
    assert provenance["ckpt"] == ckpt
    assert provenance["branches"] == {"care": "both", "care_acoustic_local": "acoustic", "care_semantic_local": "semantic"}[name]
    assert provenance["ckpt_speech_init"]["kind"] == "random" and provenance["random_weights"] is True
    # The row's score is the one its own predictions give, and its weights are the Featurizer's.
    predictions = json.loads((exp / row["predictions"]).read_text())["predictions"]
    true, pred = [p["target"] for p in predictions], [p["output"] for p in predictions]
    assert row["metrics"]["weighted_f1"] == pytest.approx(f1_score(true, pred, average="weighted", labels=range(7),
                                                                   zero_division=0))
    assert len(row["layer_weights"]) == 13 and sum(row["layer_weights"]) == pytest.approx(1.0, abs=1e-4)


def test_the_console_shows_no_third_party_deprecation_warnings(tiny_checkpoint, synth_root, tmp_path):
    # run_downstream.py's own console, warnings not silenced from outside (helpers.run_downstream does)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, str(REPO / "run_downstream.py"), "-m", "train", "-u", "care_local",
         "-k", str(tiny_checkpoint / "checkpoints" / "care.pt"), "-d", "emodb", "-p", str(tmp_path / "exp"), "-o",
         f"config.downstream_expert.datarc.root={synth_root('emodb')},,config.runner.total_steps=2,,"
         "config.runner.eval_step=2,,config.runner.save_step=2"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    console = done.stdout + done.stderr
    assert done.returncode == 0, console[-3000:]
    assert "[emodb]" in console  # our progress is there
    assert "deprecated" not in console.lower() and "Warning:" not in console, console[-3000:]
