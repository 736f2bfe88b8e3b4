"""CARE's s3prl names, used the way s3prl's runner uses them."""
from __future__ import annotations

import pytest
import torch

from care_superb import plug
import s3prl.hub as hub
from care_superb.upstream.care.checkpoint import save_checkpoint
from care_superb.upstream.care.initialise import initialise
from s3prl.upstream.interfaces import Featurizer

plug()  # our names in s3prl.hub, as run_downstream.py does (the file passed only after one that plugged)
torch.set_num_threads(1)

NAMES = {  # name -> output width, in units of the model width
    "care": 2,
    "care_acoustic": 1,
    "care_semantic": 1,
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    model, metadata = initialise("tiny", "tiny", seed=5)
    path = tmp_path_factory.mktemp("ckpt") / "care.pt"
    save_checkpoint(path, model, metadata)
    return str(path), model.config.hidden_size


@pytest.fixture
def home_with_default(tmp_path, monkeypatch, checkpoint):
    default = tmp_path / "checkpoints" / "care.pt"
    default.parent.mkdir(parents=True)
    default.write_bytes(open(checkpoint[0], "rb").read())
    monkeypatch.setenv("CARE_SUPERB_HOME", str(tmp_path))
    return default


def test_every_name_is_registered():
    for name in NAMES:
        assert callable(getattr(hub, name)) and callable(getattr(hub, f"{name}_local"))


@pytest.mark.parametrize("name", sorted(NAMES))
def test_featurizer_over_the_local_names(name, checkpoint):
    path, width = checkpoint
    upstream = getattr(hub, f"{name}_local")(ckpt=path, model_config=None, refresh=False)
    featurizer = Featurizer(upstream, upstream_device="cpu")
    assert featurizer.layer_num == 13
    assert featurizer.output_dim == NAMES[name] * width
    assert featurizer.downsample_rate == 320
    assert not upstream.training
    # a padded batch through the runner's path: upstream -> featurizer -> per-utterance features
    wavs = [torch.randn(16000), torch.randn(16208), torch.randn(320000)]
    with torch.no_grad():
        features = featurizer(wavs, upstream(wavs))
    assert [f.shape[0] for f in features] == [50, 51, 999]  # round(len / 320), clipped to T
    assert all(f.shape[1] == featurizer.output_dim for f in features)


def test_default_names_load_the_default_checkpoint(home_with_default, checkpoint):
    path, width = checkpoint
    for name, units in NAMES.items():
        upstream = getattr(hub, name)()  # -u NAME without -k
        assert upstream.provenance["ckpt"] == str(home_with_default)
        states = upstream([torch.randn(16000)])["hidden_states"]
        assert len(states) == 13 and states[0].shape[-1] == units * width


def test_ablations_are_halves_of_care(checkpoint):
    path, width = checkpoint
    wavs = [torch.randn(20000), torch.randn(12000)]
    with torch.no_grad():
        both = hub.care_local(ckpt=path)(wavs)["hidden_states"]
        acoustic = hub.care_acoustic_local(ckpt=path)(wavs)["hidden_states"]
        semantic = hub.care_semantic_local(ckpt=path)(wavs)["hidden_states"]
    for k in range(13):
        torch.testing.assert_close(both[k][..., width:], acoustic[k], atol=1e-6, rtol=0)
        torch.testing.assert_close(both[k][..., :width], semantic[k], atol=1e-6, rtol=0)
    assert not torch.allclose(acoustic[12], semantic[12])


def test_local_names_need_a_checkpoint_and_refuse_model_config(checkpoint):
    with pytest.raises(ValueError, match="-k"):
        hub.care_local(ckpt=None)
    with pytest.raises(ValueError, match="model_config"):
        hub.care_local(ckpt=checkpoint[0], model_config="config.yaml")
