"""CARE checkpoints: the format, care-init, care-convert, care-info."""
from __future__ import annotations

import shlex
import sys
import types

import pytest
import torch
from torch import nn
from transformers import BertConfig, BertModel, RobertaModel, WavLMModel

from care_superb.cli import main as cli
from care_superb.upstream.care.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    CheckpointError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    default_checkpoint_path,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from care_superb.upstream.care.config import CareConfig
from care_superb.upstream.care.initialise import initialise
from care_superb.upstream.care.model import CareModel

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def hf_folders(tmp_path_factory):
    """Tiny WavLM, RoBERTa and BERT folders in Hugging Face's save_pretrained layout."""
    root = tmp_path_factory.mktemp("hf")
    config = CareConfig.preset("tiny")
    torch.manual_seed(10)
    wavlm = WavLMModel(config.speech)
    roberta = RobertaModel(config.text)
    bert = BertModel(BertConfig(hidden_size=40, num_hidden_layers=6, num_attention_heads=2,
                                intermediate_size=80, vocab_size=100, max_position_embeddings=64))
    folders = {}
    for name, model in (("wavlm", wavlm), ("roberta", roberta), ("bert", bert)):
        model.save_pretrained(root / name)
        folders[name] = (str(root / name), model.eval())
    return folders


def _forward(model: CareModel, seed: int = 0):
    torch.manual_seed(seed)
    with torch.no_grad():
        return model(torch.randn(1, 16000)).hidden_states()


def test_round_trip(tmp_path):
    model, metadata = initialise("tiny", "tiny", seed=3)
    path = save_checkpoint(tmp_path / "care.pt", model, metadata)
    payload = torch.load(path, weights_only=True)  # plain values and tensors only
    assert payload["format"] == FORMAT and payload["format_version"] == FORMAT_VERSION
    assert payload["metadata"]["speech_init"]["kind"] == "random" and payload["metadata"]["random_weights"] is True
    assert payload["metadata"]["pretrained_on"] is None
    loaded, loaded_meta = load_checkpoint(path)
    assert not loaded.training
    assert loaded_meta == payload["metadata"]
    assert loaded.config.to_dict() == model.config.to_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    for a, b in zip(_forward(model), _forward(loaded)):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize("old_text,kind,random", [
    ("random: transformers' WavLMModel initialisation, preset 'tiny', seed 0", "random", True),
    ("pretrained: WavLM from local folder /models/wavlm-base; conv feature extractor copied", "pretrained", False),
    ("made by hand", None, None),
])
def test_a_checkpoint_with_the_old_free_text_speech_init_is_read_with_a_warning_and_upgraded(
        tmp_path, capsys, old_text, kind, random):
    import warnings

    from care_superb.upstream.care.checkpoint import random_weights, speech_init_kind

    model, metadata = initialise("tiny", "tiny", seed=0)
    path = save_checkpoint(tmp_path / "old.pt", model, metadata)
    payload = torch.load(path, weights_only=True)
    payload["metadata"] = {**payload["metadata"], "speech_init": old_text, "random_weights": not random}
    torch.save(payload, path)  # as care-superb wrote it before speech_init.kind (the old flag ignored)
    with pytest.warns(FutureWarning, match=f"{path}: .*free text.*care-superb care-info {path} --upgrade"):
        _, read = load_checkpoint(path)
    assert speech_init_kind(read) == kind and random_weights(read) is random
    assert cli(["care-info", str(path), "--upgrade"]) == 0
    assert "metadata rewritten" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning any more
        upgraded = torch.load(path, weights_only=True)["metadata"]
        assert load_checkpoint(path)[1] == upgraded
    assert upgraded["speech_init"]["kind"] == kind and upgraded["random_weights"] is random
    weights = torch.load(path, weights_only=True)["state_dict"]
    assert all(torch.equal(value, weights[key]) for key, value in model.state_dict().items())
    assert cli(["care-info", str(path), "--upgrade"]) == 0 and "already current" in capsys.readouterr().out


def test_mismatched_checkpoint_lists_every_mismatch(tmp_path):
    model, metadata = initialise("tiny", "tiny")
    path = save_checkpoint(tmp_path / "care.pt", model, metadata)
    payload = torch.load(path, weights_only=True)
    state = payload["state_dict"]
    del state["acoustic_encoder.layers.2.attention.q_proj.weight"]
    state["semantic_encoder.extra.weight"] = torch.zeros(3)
    state["semantic_encoder.down.1.weight"] = torch.zeros(48, 32, 4)
    torch.save(payload, tmp_path / "broken.pt")
    with pytest.raises(CheckpointMismatchError) as error:
        load_checkpoint(tmp_path / "broken.pt")
    assert len(error.value.mismatches) == 3
    message = str(error.value)
    assert "missing: acoustic_encoder.layers.2.attention.q_proj.weight" in message
    assert "unexpected: semantic_encoder.extra.weight" in message
    assert "shape: semantic_encoder.down.1.weight is (48, 32, 4) in the checkpoint, (48, 32, 5)" in message


def test_not_a_care_checkpoint(tmp_path):
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="care-convert"):
        read_checkpoint(tmp_path / "other.pt")


def test_missing_default_checkpoint_names_the_command_that_makes_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CARE_SUPERB_HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / "checkpoints" / "care.pt"
    assert default_checkpoint_path() == expected
    from care_superb.upstream.care import hubconf

    with pytest.raises(CheckpointNotFoundError) as error:
        hubconf.care()
    message = str(error.value)
    command = f"care-superb care-init --size tiny --out {expected}"
    assert command in message
    # ... and that command makes the checkpoint `care` then loads
    assert cli(shlex.split(command)[1:]) == 0
    assert expected.is_file()
    upstream = hubconf.care()
    assert upstream.provenance["ckpt"] == str(expected)
    # care-init refuses to overwrite without --force; --exist-ok keeps the file and succeeds
    before = expected.read_bytes()
    assert cli(shlex.split(command)[1:]) == 1
    assert "--force" in capsys.readouterr().out
    assert cli(shlex.split(command)[1:] + ["--exist-ok"]) == 0
    assert expected.read_bytes() == before


def test_care_init_copies_the_papers_initialisation(hf_folders, tmp_path):
    wavlm_dir, wavlm = hf_folders["wavlm"]
    roberta_dir, roberta = hf_folders["roberta"]
    out = tmp_path / "init.pt"
    assert cli(["care-init", "--speech", wavlm_dir, "--text", roberta_dir, "--out", str(out)]) == 0
    care, metadata = load_checkpoint(out)
    assert metadata["speech_init"]["kind"] == "pretrained" and wavlm_dir in metadata["speech_init"]["detail"]
    assert metadata["random_weights"] is False
    assert metadata["text_init"].startswith("pretrained") and roberta_dir in metadata["text_init"]
    assert metadata["adapters_init"].startswith("random")
    ours, theirs, text = care.state_dict(), wavlm.state_dict(), roberta.state_dict()
    for care_key, wavlm_key in [
        ("feature_extractor.conv_layers.0.conv.weight", "feature_extractor.conv_layers.0.conv.weight"),
        ("feature_extractor.conv_layers.0.layer_norm.weight",
         "feature_extractor.conv_layers.0.layer_norm.weight"),
        ("feature_projection.projection.weight", "feature_projection.projection.weight"),
        ("pos_conv_embed.conv.parametrizations.weight.original1",
         "encoder.pos_conv_embed.conv.parametrizations.weight.original1"),
        ("layer_norm.bias", "encoder.layer_norm.bias"),
        ("common_encoder.layers.0.attention.rel_attn_embed.weight",
         "encoder.layers.0.attention.rel_attn_embed.weight"),
        ("common_encoder.layers.5.feed_forward.output_dense.weight",
         "encoder.layers.5.feed_forward.output_dense.weight"),
        ("acoustic_encoder.layers.0.attention.q_proj.weight", "encoder.layers.6.attention.q_proj.weight"),
        ("acoustic_encoder.layers.5.final_layer_norm.weight", "encoder.layers.11.final_layer_norm.weight"),
    ]:
        assert torch.equal(ours[care_key], theirs[wavlm_key]), care_key
    # tiny RoBERTa has 8 layers: the semantic encoder is layers 2..7
    for care_key, roberta_key in [
        ("semantic_encoder.layers.0.attention.self.query.weight", "encoder.layer.2.attention.self.query.weight"),
        ("semantic_encoder.layers.5.output.dense.weight", "encoder.layer.7.output.dense.weight"),
    ]:
        assert torch.equal(ours[care_key], text[roberta_key]), care_key
    assert not torch.equal(
        care.semantic_encoder.layers[0].attention.self.query.weight,
        roberta.encoder.layer[0].attention.self.query.weight,
    )


def test_care_init_accepts_any_bert_family_text_encoder(hf_folders, tmp_path):
    bert_dir, bert = hf_folders["bert"]
    out = tmp_path / "bert.pt"
    assert cli(["care-init", "--size", "tiny", "--text", bert_dir, "--out", str(out)]) == 0
    care, metadata = load_checkpoint(out)
    assert "bert" in metadata["text_init"] and metadata["speech_init"]["kind"] == "random"
    assert type(care.semantic_encoder.layers[0]).__name__ == "BertLayer"
    # adapters map the speech width (32) to BERT's (40) and back
    assert care.semantic_encoder.down[0].weight.shape == (40, 32, 5)
    assert care.semantic_encoder.up[0].weight.shape == (40, 32, 5)
    assert torch.equal(
        care.semantic_encoder.layers[3].intermediate.dense.weight,
        bert.encoder.layer[3].intermediate.dense.weight,
    )
    states = _forward(care)
    assert len(states) == 13 and states[-1].shape[-1] == 64


def test_care_info_reports_base_parameter_count(capsys):
    assert cli(["care-info", "--size", "base"]) == 0
    out = capsys.readouterr().out
    # independent count: WavLM-base (without its masking vector) + 6 RoBERTa-base layers
    # + 12 adapters (768x768x5 + bias) + the 768->256 acoustic head
    config = CareConfig.preset("base")
    with torch.device("meta"):
        wavlm_params = sum(p.numel() for n, p in WavLMModel(config.speech).named_parameters()
                           if n != "masked_spec_embed")
        roberta_layer = sum(p.numel() for p in RobertaModel(config.text).encoder.layer[0].parameters())
    expected = wavlm_params + 6 * roberta_layer + 12 * (768 * 768 * 5 + 768) + 768 * 256 + 256
    assert f"{expected:,}" in out
    assert 165e6 < expected < 180e6
    assert "13 x 1536" in out and "~160M" in out


# ---- the authors' layout --------------------------------------------------------------------
def _authors_layout_modules():
    """Stand-ins for the authors' classes, in modules that will disappear before conversion
    (their checkpoint pickles classes from their training script and model file)."""
    model_file = types.ModuleType("model_pase")
    script = types.ModuleType("train_pase_script")

    class SpeechTextModel(nn.Module):
        def __init__(self, wavlm, roberta, common):
            super().__init__()
            self.audio_feature_extractor = nn.Sequential(*wavlm.feature_extractor.conv_layers)
            self.feature_projection_audio = wavlm.feature_projection
            self.pos_conv = wavlm.encoder.pos_conv_embed
            self.wavlm_layer_norm = wavlm.encoder.layer_norm
            self.wavlm_dropout = nn.Dropout(0.1)
            layers = wavlm.encoder.layers
            self.audio_model = nn.ModuleList([layers[i] for i in range(common)])
            self.dual_model = nn.ModuleList([layers[i] for i in range(common, len(layers))])
            self.linear = nn.Linear(wavlm.config.hidden_size, 256)
            self.roberta_embeddings = roberta.embeddings
            text_layers = roberta.encoder.layer
            first = len(text_layers) - len(self.dual_model)
            self.text_model = nn.ModuleList([text_layers[i] for i in range(first)])
            self.common_model = nn.ModuleList([text_layers[i] for i in range(first, len(text_layers))])
            w, t = wavlm.config.hidden_size, roberta.config.hidden_size
            self.downblock = nn.ModuleList([nn.Conv1d(w, t, 5, stride=3) for _ in self.dual_model])
            self.upblock = nn.ModuleList(
                [nn.ConvTranspose1d(t, w, 5, stride=3, output_padding=1) for _ in self.dual_model]
            )

    class EmotionClassifier(nn.Module):  # the training script's wrapper
        def __init__(self, joint_model):
            super().__init__()
            self.joint_model = joint_model
            self.fc_text = nn.Linear(64, 32)
            self.fc_text_final = nn.Linear(32, 3)

    for cls, module in ((SpeechTextModel, model_file), (EmotionClassifier, script)):
        cls.__module__ = module.__name__
        cls.__qualname__ = cls.__name__
        setattr(module, cls.__name__, cls)
    return model_file, script


def test_care_convert_reads_the_authors_pickled_model(tmp_path, monkeypatch):
    config = CareConfig.preset("tiny")
    torch.manual_seed(20)
    wavlm, roberta = WavLMModel(config.speech).eval(), RobertaModel(config.text).eval()
    model_file, script = _authors_layout_modules()
    monkeypatch.setitem(sys.modules, "model_pase", model_file)
    monkeypatch.setitem(sys.modules, "train_pase_script", script)
    authors = script.EmotionClassifier(model_file.SpeechTextModel(wavlm, roberta, common=6))
    # Their torch / transformers kept the positional conv's weight norm as parameters weight_g /
    # weight_v (today's parametrized modules cannot even be pickled whole): same tensors, old names.
    ours = wavlm.encoder.pos_conv_embed.conv
    conv = nn.Conv1d(ours.in_channels, ours.out_channels, ours.kernel_size, padding=ours.padding,
                     groups=ours.groups)
    del conv.weight
    conv.weight_g = nn.Parameter(ours.parametrizations.weight.original0.detach().clone())
    conv.weight_v = nn.Parameter(ours.parametrizations.weight.original1.detach().clone())
    conv.bias = nn.Parameter(ours.bias.detach().clone())
    pos_conv = nn.Module()
    pos_conv.conv = conv
    authors.joint_model.pos_conv = pos_conv
    torch.save(authors, tmp_path / "model-10000.pth")  # the whole module, as their script does
    monkeypatch.delitem(sys.modules, "model_pase")
    monkeypatch.delitem(sys.modules, "train_pase_script")

    out = tmp_path / "converted.pt"
    argv = ["care-convert", "--in", str(tmp_path / "model-10000.pth"), "--out", str(out),
            "--size", "tiny", "--pretrained-on", "MSP-PODCAST (test stand-in)"]
    assert cli(argv) == 0
    care, metadata = load_checkpoint(out)  # weights_only from here on
    assert metadata["pretrained_on"] == "MSP-PODCAST (test stand-in)"
    assert set(metadata["source_classes_stood_in"]) == {
        "model_pase.SpeechTextModel", "train_pase_script.EmotionClassifier"}
    assert {"joint_model.roberta_embeddings", "joint_model.text_model", "fc_text"} <= set(
        metadata["dropped_tensor_groups"])
    ours, theirs = care.state_dict(), authors.state_dict()
    for care_key, authors_key in [
        ("feature_extractor.conv_layers.0.conv.weight", "audio_feature_extractor.0.conv.weight"),
        ("feature_extractor.conv_layers.6.conv.weight", "audio_feature_extractor.6.conv.weight"),
        ("feature_projection.layer_norm.weight", "feature_projection_audio.layer_norm.weight"),
        ("pos_conv_embed.conv.parametrizations.weight.original0", "pos_conv.conv.weight_g"),
        ("pos_conv_embed.conv.parametrizations.weight.original1", "pos_conv.conv.weight_v"),
        ("pos_conv_embed.conv.bias", "pos_conv.conv.bias"),
        ("layer_norm.weight", "wavlm_layer_norm.weight"),
        ("common_encoder.layers.3.attention.k_proj.weight", "audio_model.3.attention.k_proj.weight"),
        ("acoustic_encoder.layers.2.attention.gru_rel_pos_const", "dual_model.2.attention.gru_rel_pos_const"),
        ("acoustic_head.weight", "linear.weight"),
        ("semantic_encoder.layers.4.attention.output.dense.weight",
         "common_model.4.attention.output.dense.weight"),
        ("semantic_encoder.down.1.weight", "downblock.1.weight"),
        ("semantic_encoder.up.5.bias", "upblock.5.bias"),
    ]:
        assert torch.equal(ours[care_key], theirs["joint_model." + authors_key]), care_key
    # and the converted CARE computes what the original WavLM computes
    torch.manual_seed(0)
    wav = torch.randn(1, 16000)
    with torch.no_grad():
        ours = care(wav).hidden_states("acoustic")
        theirs = wavlm(wav, output_hidden_states=True).hidden_states
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_care_convert_stops_on_a_config_that_does_not_fit(tmp_path):
    config = CareConfig.preset("tiny")
    wavlm, roberta = WavLMModel(config.speech), RobertaModel(config.text)
    model_file, _ = _authors_layout_modules()
    authors = model_file.SpeechTextModel(wavlm, roberta, common=6)
    state = {f"joint_model.{k}": v for k, v in authors.state_dict().items()}
    torch.save({"model_state_dict": state}, tmp_path / "state.tar")
    from care_superb.upstream.care.convert import convert

    with pytest.raises(CheckpointMismatchError) as error:
        convert(tmp_path / "state.tar", tmp_path / "x.pt", CareConfig.preset("tiny", num_common_layers=5))
    message = str(error.value)
    assert "missing: common_encoder.layers.5" in message or "unexpected: common_encoder.layers.5" in message
    assert not (tmp_path / "x.pt").exists()
