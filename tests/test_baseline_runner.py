"""Every upstream folder through s3prl's own runner on the synthetic EmoDB: train, then evaluate,
from the tiny random checkpoint of its first family, read by that family's ``-k`` name; the
result row says which checkpoint and that its weights were random. A new upstream folder joins by
itself. (Few steps: this checks the plumbing, not what a head learns.) asr_text runs on the
synthetic CMU-MOSI instead: its default Whisper, tiny.en, hears English."""
from __future__ import annotations

import json

import pytest

from care_superb.upstream.registry import hubconfs
from helpers import run_downstream

# -u name -> family, one per upstream folder
CASES = {module.RANDOM_CHECKPOINTS[0].reader: module.RANDOM_CHECKPOINTS[0].family for module in hubconfs().values()}


def test_every_upstream_folder_has_a_case():
    assert len(CASES) == len(hubconfs()) and {"care_local", "hf_wavlm", "wavlm_local", "sonar_local"} <= set(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_train_then_evaluate(name, random_checkpoint, synth_root, tmp_path, request):
    ckpt = random_checkpoint(CASES[name])
    exp = tmp_path / "exp"
    task, extra = "emodb", []
    if name == "asr_text":
        task, extra = "cmu_mosi", ["-g", str(tmp_path / "en.yaml")]
        request.getfixturevalue("shared_transcripts")  # the same transcripts as test_whisper_runner's
        (tmp_path / "en.yaml").write_text("asr: tiny.en\nlanguage: en\n")
    run_downstream("-m", "train", "-u", name, "-k", str(ckpt), *extra, "-d", task, "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={synth_root(task)},,config.runner.total_steps=10,,"
                   "config.runner.eval_step=10,,config.runner.save_step=10,,"
                   "config.downstream_expert.datarc.batch_size=4")  # 40 training utterances, not 320
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    assert row["upstream"]["name"] == name and row["upstream"]["ckpt"] == str(ckpt)
    provenance = row["upstream"]["provenance"]
    assert provenance["ckpt"] == str(ckpt) and provenance["random_weights"] is True
    assert provenance["description"]
    assert 0.0 <= row["metrics"]["weighted_f1"] <= 1.0 and row["n_utterances"] > 0
