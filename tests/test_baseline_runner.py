"""Every baseline through s3prl's own runner on the synthetic EmoDB: train, then evaluate, from the
tiny random checkpoints the builders write; the result row says which checkpoint and that its
weights were random. (Few steps: this checks the plumbing, not what a head learns.)"""
from __future__ import annotations

import json

import pytest

from care_superb.upstream.hf_speech.owner import folder_to_owner
from helpers import run_downstream

CASES = {  # -u name -> (family, owners' format through conversion?)
    "hf_speech": ("wavlm", False),
    "hf_hubert": ("hubert", False),
    "hf_data2vec": ("data2vec", False),
    "wavlm_local": ("wavlm", True),
    "emotion2vec_local": ("emotion2vec", False),
    "sonar_local": ("sonar", False),
    "whisper_local": ("whisper", False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_train_then_evaluate(name, random_checkpoint, synth_root, tmp_path):
    family, convert = CASES[name]
    ckpt = random_checkpoint(family)
    if convert:
        ckpt = folder_to_owner(ckpt, tmp_path / f"{family}.pt")
    exp = tmp_path / "exp"
    run_downstream("-m", "train", "-u", name, "-k", str(ckpt), "-d", "emodb", "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={synth_root('emodb')},,config.runner.total_steps=10,,"
                   "config.runner.eval_step=10,,config.runner.save_step=10")
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    assert row["upstream"]["name"] == name and row["upstream"]["ckpt"] == str(ckpt)
    provenance = row["upstream"]["provenance"]
    assert provenance["ckpt"] == str(ckpt) and provenance["random_weights"] is True
    assert provenance["description"]
    assert 0.0 <= row["metrics"]["weighted_f1"] <= 1.0 and row["n_utterances"] > 0
