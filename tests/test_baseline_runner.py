"""Every upstream folder through s3prl's own runner on the synthetic MSP-IMPROV (English, so that
asr_text's default Whisper, tiny.en, hears its language; and the fewest dev and test utterances):
train, then evaluate, from the tiny random checkpoint of its first family, read by that family's
``-k`` name; the result row says which checkpoint and that its weights were random. A new upstream
folder joins by itself. (Few steps: this checks the plumbing, not what a head learns.)"""
from __future__ import annotations

import json

import pytest

from care_superb.upstream.registry import hubconfs
from helpers import ENGLISH_TASK, FEW_STEPS, run_downstream

# -u name -> family, one per upstream folder
CASES = {module.RANDOM_CHECKPOINTS[0].reader: module.RANDOM_CHECKPOINTS[0].family for module in hubconfs().values()}


def test_every_upstream_folder_has_a_case():
    assert len(CASES) == len(hubconfs()) and {"care_local", "hf_wavlm", "wavlm_local", "sonar_local"} <= set(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_train_then_evaluate(name, random_checkpoint, synth_root, tmp_path, request):
    ckpt = random_checkpoint(CASES[name])
    exp = tmp_path / "exp"
    extra = []
    if name == "asr_text":
        extra = ["-g", str(tmp_path / "en.yaml")]
        request.getfixturevalue("shared_transcripts")  # the same transcripts as test_whisper_runner's
        (tmp_path / "en.yaml").write_text("asr: tiny.en\nlanguage: en\n")
    run_downstream("-m", "train", "-u", name, "-k", str(ckpt), *extra, "-d", ENGLISH_TASK, "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={synth_root(ENGLISH_TASK)},,{FEW_STEPS}")
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    assert row["upstream"]["name"] == name and row["upstream"]["ckpt"] == str(ckpt)
    provenance = row["upstream"]["provenance"]
    assert provenance["ckpt"] == str(ckpt) and provenance["random_weights"] is True
    assert provenance["description"]
    assert -1.0 <= row["metrics"][row["primary_metric"]] <= 1.0 and row["n_utterances"] > 0  # mean CCC
