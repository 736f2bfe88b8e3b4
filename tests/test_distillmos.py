"""DistillMOS, the worked example of adding a baseline: our states, through the owners' MOS head,
give the owners' own MOS (and do not when a weight is off); the weights the package ships are read
as released, with the hash the wheel itself records for them; its files are told apart by its own
recogniser. (The contract every upstream passes: test_upstream_contract.py.)"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata

import pytest
import torch

from baseline_helpers import utterances
from care_superb.upstream import hub_entries, loaded_upstream
from care_superb.upstream.checkpoints import MARKER_KEY, UpstreamCheckpointError, identify, load_payload
from care_superb.upstream.distillmos.expert import WINDOW

torch.set_num_threads(1)
ENTRIES = hub_entries()


def mos_from_our_states(upstream, wav: torch.Tensor) -> torch.Tensor:
    """The owners' head (BatchNorm, attention pooling, sigmoid, 1 + 4x) on our last state."""
    head = upstream.model.transformer_pool_attn
    with torch.no_grad():
        last = upstream([wav])["hidden_states"][-1]
        x = head.norm_trans(last.transpose(-1, -2)).transpose(-1, -2)
        return 1 + 4 * head.sigmoid(head.pool(x).squeeze(-1))


@pytest.fixture(scope="module")
def owners():
    from distillmos import ConvTransformerSQAModel

    return ConvTransformerSQAModel().eval()  # the owners' class with the weights it loads itself


def test_our_states_give_the_owners_mos_and_not_when_a_weight_is_off(owners):
    upstream = ENTRIES["distillmos"]()
    for seed in (1, 2):
        wav = utterances(WINDOW / 16000, seed=seed)[0]  # one window: the owners' forward crops nothing
        with torch.no_grad():
            theirs = owners(wav[None])[0]
        assert torch.allclose(mos_from_our_states(upstream, wav), theirs, atol=1e-5), seed
    with torch.no_grad():
        upstream.model.transformer_pool_attn.transformer.transformer_encoder.layers[3].linear1.weight.add_(0.05)
        theirs = owners(wav[None])[0]
    assert not torch.allclose(mos_from_our_states(upstream, wav), theirs, atol=1e-5)  # the check above fails


def test_the_packaged_weights_are_released_with_the_hash_the_wheel_records():
    ENTRIES["distillmos"]()
    provenance = loaded_upstream("distillmos")
    assert provenance["weights"] == "released" and provenance["random_weights"] is False
    [released] = provenance["released_files"]
    record = next(f for f in importlib.metadata.files("distillmos") if f.name == "distill_mos_v7.pt")
    assert record.hash.mode == "sha256" and released["name"] == "distill_mos_v7.pt"
    assert base64.urlsafe_b64encode(bytes.fromhex(released["sha256"])).rstrip(b"=").decode() == record.hash.value
    assert hashlib.sha256(record.locate().read_bytes()).hexdigest() == released["sha256"]


def test_a_random_file_is_recognised_read_and_labelled_random(random_checkpoint, tmp_path):
    path = random_checkpoint("distillmos")
    assert set(identify(path).readers) == {"distillmos", "distillmos_local"}
    assert load_payload(path)[MARKER_KEY]["random_weights"] is True
    upstream = ENTRIES["distillmos_local"](ckpt=str(path))
    assert upstream.provenance["weights"] == "random" and upstream.provenance["ckpt"] == str(path)
    care = random_checkpoint("care")
    with pytest.raises(UpstreamCheckpointError) as error:
        ENTRIES["distillmos_local"](ckpt=str(care))
    message = str(error.value)
    assert str(care) in message and "expected a DistillMOS checkpoint" in message
    assert "found a CARE checkpoint" in message and "-u care_local" in message
