"""hf_speech: any transformers speech encoder from a local folder, padding done right, clear errors."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import torch
from transformers import AutoModel, BertConfig, BertModel, Wav2Vec2Config, WavLMConfig

from baseline_helpers import padded_vs_alone, perturb_, utterances
from care_superb.upstream.checkpoints import UpstreamCheckpointError
from care_superb.upstream.batching import ZeroPaddingBefore
from care_superb.upstream.hf_speech.hubconf import hf_hubert, hf_speech, hf_wavlm
from care_superb.upstream.hf_speech.random import save_folder

torch.set_num_threads(1)
FAMILIES = ("wavlm", "hubert", "data2vec")


@pytest.fixture(scope="module")
def folders(random_checkpoint, tmp_path_factory):
    """Each family's tiny random folder, perturbed (so that no weight is an identity)."""
    out = {}
    for family in FAMILIES:
        folder = tmp_path_factory.mktemp("hf") / family
        shutil.copytree(random_checkpoint(family), folder)
        model = perturb_(AutoModel.from_pretrained(folder), seed=1)
        model.save_pretrained(folder)
        out[family] = folder
    return out


def folder_of(config, tmp_path, name, normalize=False):
    torch.manual_seed(0)
    return save_folder(perturb_(AutoModel.from_config(config)), tmp_path / name, normalize, {"random_weights": True})


@pytest.mark.parametrize("family", FAMILIES)
def test_hidden_states_are_transformers_own(folders, family):
    upstream = hf_speech(ckpt=str(folders[family]))
    reference = AutoModel.from_pretrained(folders[family]).eval()
    wav = utterances(1.3)[0]
    with torch.no_grad():
        ours = upstream([wav])["hidden_states"]
        if family == "data2vec":  # its preprocessor normalises the waveform; without it, no match
            unnormalised = reference(wav[None], output_hidden_states=True).hidden_states
            assert float((unnormalised[0] - ours[0]).abs().max()) > 1e-3
            wav = (wav - wav.mean()) / torch.sqrt(wav.var(unbiased=False) + 1e-7)
        theirs = reference(wav[None], output_hidden_states=True).hidden_states
    assert len(ours) == reference.config.num_hidden_layers + 1 == 4
    for k, (a, b) in enumerate(zip(ours, theirs)):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0, msg=f"state {k}")
    assert upstream.get_downsample_rates("hidden_states") == 320


@pytest.mark.parametrize("family", FAMILIES)
def test_padded_batch_equals_each_utterance_alone(folders, family):
    upstream = hf_speech(ckpt=str(folders[family]))
    diff, padding = padded_vs_alone(upstream, utterances(1.0, 1.013, 1.6, 1.0))
    assert diff < 1e-5 and padding == 0.0
    # All three run batched, the encoder once per batch; WavLM's and HuBERT's group-normed first
    # convolution per length group.
    assert not upstream.by_length and upstream.group_norm == (family != "data2vec")
    calls = []
    upstream.model.encoder.register_forward_hook(lambda *_: calls.append(1))
    with torch.no_grad():
        upstream(utterances(1.0, 1.013, 1.6, 1.0))
    assert len(calls) == 1


def test_a_group_normed_first_convolution_batched_with_padding_is_not_each_utterance_alone(folders):
    upstream = hf_speech(ckpt=str(folders["wavlm"]))
    upstream.group_norm = False  # the whole front end batched: its GroupNorm sees the padding
    diff, _ = padded_vs_alone(upstream, utterances(1.0, 1.013, 1.6, 1.0))
    assert diff > 1e-3


def test_layer_norm_models_run_batched_with_the_attention_mask(tmp_path):
    # WavLM-large's layout: layer-normed convolutions, pre-LN encoder
    config = WavLMConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                         conv_dim=(24,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                         feat_extract_norm="layer", do_stable_layer_norm=True)
    upstream = hf_speech(ckpt=str(folder_of(config, tmp_path, "wavlm-large-layout")))
    assert not upstream.by_length
    diff, padding = padded_vs_alone(upstream, utterances(1.0, 1.7, 1.25))
    assert diff < 1e-5 and padding == 0.0


def test_any_speech_encoder_automodel_reads(tmp_path):
    config = Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                            conv_dim=(24,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)
    upstream = hf_speech(ckpt=str(folder_of(config, tmp_path, "w2v2")))
    assert upstream.provenance["model_type"] == "wav2vec2"
    diff, _ = padded_vs_alone(upstream, utterances(1.0, 1.4))
    assert diff < 1e-5


def test_data2vec_needs_the_padding_zeroed_before_every_positional_convolution(folders, monkeypatch):
    # transformers zeroes padded frames only before the first of data2vec-audio's positional convs;
    # without our pre-hook the padding leaks into the last frames of the shorter utterances.
    monkeypatch.setattr(ZeroPaddingBefore, "__call__", lambda self, module, args: None)
    upstream = hf_speech(ckpt=str(folders["data2vec"]))
    diff, _ = padded_vs_alone(upstream, utterances(1.0, 1.6))
    assert diff > 1e-3


def test_group_norm_models_would_see_the_padding_in_one_batched_call(folders):
    upstream = hf_speech(ckpt=str(folders["wavlm"]))
    short, long = utterances(1.0, 1.6)
    with torch.no_grad():
        alone = upstream([short])["hidden_states"][-1][0]
        batched = upstream.model(torch.nn.utils.rnn.pad_sequence([short, long], batch_first=True),
                                 output_hidden_states=True).hidden_states[-1][0, : alone.shape[0]]
    assert float((batched - alone).abs().max()) > 1e-3


def test_waveform_normalisation_follows_the_preprocessor(folders):
    wav = utterances(1.2)[0]
    with torch.no_grad():
        for family, normalises in (("data2vec", True), ("wavlm", False)):
            upstream = hf_speech(ckpt=str(folders[family]))
            quiet, loud = upstream([wav])["last_hidden_state"], upstream([wav * 7])["last_hidden_state"]
            assert torch.allclose(quiet, loud, atol=1e-4) == normalises, family


def test_without_a_preprocessor_the_owners_normalisation_applies(folders, tmp_path):
    folder = tmp_path / "d2v"
    shutil.copytree(folders["data2vec"], folder)
    (folder / "preprocessor_config.json").unlink()
    upstream = hf_speech(ckpt=str(folder))
    assert upstream.normalize and "owners' setting for data2vec-audio" in upstream.provenance["normalize"]


def test_provenance_names_the_folder_type_config_and_random_weights(folders):
    upstream = hf_wavlm(ckpt=str(folders["wavlm"]))
    p = upstream.provenance
    assert p["ckpt"] == str(folders["wavlm"]) and p["model_type"] == "wavlm"
    assert p["random_weights"] is True and "baseline-init wavlm" in p["created_by"]
    assert len(p["config_sha256"]) == 16
    assert p["batching"] == "batched with attention mask, the first convolution per equal-length group"


@pytest.mark.parametrize("safetensors", [True, False])
def test_a_folder_saved_by_transformers_without_our_record_is_a_release(folders, tmp_path, safetensors):
    """A save_pretrained folder (the owners' Hugging Face release: model.safetensors, or
    pytorch_model.bin as microsoft/wavlm-base ships) says released, and which file with its sha256."""
    folder = tmp_path / "release"
    AutoModel.from_pretrained(folders["hubert"]).save_pretrained(folder, safe_serialization=safetensors)
    shutil.copy(folders["hubert"] / "preprocessor_config.json", folder)
    p = hf_speech(ckpt=str(folder)).provenance
    weights = folder / ("model.safetensors" if safetensors else "pytorch_model.bin")
    assert p["weights"] == "released" and p["random_weights"] is False and p["created_by"] is None
    assert p["released_files"] == [{"name": weights.name, "bytes": weights.stat().st_size,
                                    "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}]
    assert hf_speech(ckpt=str(folders["hubert"])).provenance["weights"] == "random"  # our record wins


def test_not_a_model_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UpstreamCheckpointError, match="expected a local Hugging Face speech-encoder folder") as error:
        hf_speech(ckpt=str(tmp_path))
    assert str(tmp_path) in str(error.value) and "notes.txt" in str(error.value)


def test_missing_folder_and_a_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        hf_speech(ckpt=str(tmp_path / "absent"))
    file = tmp_path / "model.pt"
    torch.save({"cfg": {}, "model": {}}, file)
    with pytest.raises(UpstreamCheckpointError, match=f"-k {file}: expected a local Hugging Face"):
        hf_speech(ckpt=str(file))


def test_a_text_model_folder(tmp_path):
    BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                         vocab_size=50)).save_pretrained(tmp_path / "bert")
    with pytest.raises(UpstreamCheckpointError, match="found a Hugging Face bert text encoder folder. That is read by -u asr_text"):
        hf_speech(ckpt=str(tmp_path / "bert"))


def test_a_folder_of_the_wrong_family(folders):
    with pytest.raises(UpstreamCheckpointError) as error:
        hf_hubert(ckpt=str(folders["wavlm"]))
    message = str(error.value)
    assert "expected a Hugging Face hubert folder" in message and "found a Hugging Face wavlm" in message
    assert "-u hf_speech or -u hf_wavlm" in message


def test_weights_that_do_not_fit_the_config(folders, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(folders["wavlm"], folder)
    config = json.loads((folder / "config.json").read_text())
    config["intermediate_size"] = 48
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(UpstreamCheckpointError, match="whose weights fit its config.json"):
        hf_speech(ckpt=str(folder))
    (folder / "model.safetensors").unlink()
    with pytest.raises(UpstreamCheckpointError, match="whose weights fit its config.json"):
        hf_speech(ckpt=str(folder))


def test_model_config_and_a_missing_k_are_refused(folders):
    with pytest.raises(ValueError, match="-k FOLDER"):
        hf_speech(ckpt=None)
    with pytest.raises(ValueError, match="no -g/model_config"):
        hf_speech(ckpt=str(folders["wavlm"]), model_config="x.yaml")
