"""A CARE before any CARE pre-training: the paper's initialisation, or random weights.

The paper initialises CARE from two public models:

* WavLM-base → the convolutional feature extractor, feature projection, positional convolution
  and encoder LayerNorm; transformer layers 0–5 → common encoder; layers 6–11 → acoustic encoder.
* RoBERTa-base → its last six transformer layers → the semantic encoder's layers.
* The convolutional adapters and the acoustic head start random.

Each side comes either from a local Hugging Face folder (``save_pretrained`` layout; nothing is
downloaded) or from a preset config with transformers' own random initialisation of that model,
and the checkpoint's metadata says which.
"""
from __future__ import annotations

import os
from typing import Any

import torch
from transformers import AutoModel, WavLMModel  # noqa: F401 (WavLMModel: type)

from care_superb.upstream.care.checkpoint import base_metadata
from care_superb.upstream.care.config import SPEECH_PRESETS, TEXT_PRESETS, CareConfig
from care_superb.upstream.care.model import CareModel


# What a WavLM layer has and a HuBERT / data2vec layer lacks: the gated relative position bias.
WAVLM_ONLY = ("attention.gru_rel_pos_const", "attention.gru_rel_pos_linear.", "attention.rel_attn_embed.")


def _load_layer(layer: torch.nn.Module, source: torch.nn.Module) -> None:
    """A speech layer into a WavLM layer: strict for WavLM; for HuBERT / data2vec every tensor
    but WavLM's gating, which is then made inert (a zero bias table gives a zero bias)."""
    result = layer.load_state_dict(source.state_dict(), strict=False)
    missing = [k for k in result.missing_keys if not k.startswith(WAVLM_ONLY)]
    if missing or result.unexpected_keys:
        raise ValueError(f"speech layer does not fit CARE: missing {missing}, unexpected {result.unexpected_keys}")
    if result.missing_keys and getattr(layer.attention, "rel_attn_embed", None) is not None:
        torch.nn.init.zeros_(layer.attention.rel_attn_embed.weight)


def copy_speech_weights(model: CareModel, wavlm: torch.nn.Module) -> None:
    """A WavLM's (or HuBERT's, data2vec-audio's) front end and layers into CARE (strict: every
    tensor must fit; a HuBERT / data2vec start has no relative position bias, so CARE gets none)."""
    split = model.config.num_common_layers
    model.feature_extractor.load_state_dict(wavlm.feature_extractor.state_dict())
    model.feature_projection.load_state_dict(wavlm.feature_projection.state_dict())
    model.pos_conv_embed.load_state_dict(wavlm.encoder.pos_conv_embed.state_dict())
    model.layer_norm.load_state_dict(wavlm.encoder.layer_norm.state_dict())
    layers = wavlm.encoder.layers
    if len(layers) != len(model.common_encoder.layers) + len(model.acoustic_encoder.layers):
        raise ValueError(f"WavLM has {len(layers)} layers; this CARE config expects another count")
    for i, layer in enumerate(model.common_encoder.layers):
        _load_layer(layer, layers[i])
    for i, layer in enumerate(model.acoustic_encoder.layers):
        _load_layer(layer, layers[split + i])


def copy_text_weights(model: CareModel, text_model: torch.nn.Module) -> None:
    """The text encoder's last layers into the semantic encoder (strict)."""
    layers = text_model.encoder.layer
    offset = len(layers) - len(model.semantic_encoder.layers)
    if offset != model.config.text_layer_offset:
        raise ValueError(
            f"the text encoder has {len(layers)} layers; this CARE config expects "
            f"{model.config.text.num_hidden_layers}"
        )
    for j, layer in enumerate(model.semantic_encoder.layers):
        layer.load_state_dict(layers[offset + j].state_dict())


FAMILY_NAMES = {"wavlm": "WavLM", "hubert": "HuBERT", "data2vec-audio": "data2vec-audio"}


def _family(config: CareConfig) -> str:
    return FAMILY_NAMES[getattr(config.speech, "care_source", "wavlm")]


def _speech_model(source: str, config: CareConfig, seed: int) -> tuple[WavLMModel, dict]:
    """The speech model and ``speech_init`` ({kind, detail}, see checkpoint.py)."""
    if source in SPEECH_PRESETS:
        torch.manual_seed(seed)
        return WavLMModel(config.speech), {
            "kind": "random",
            "detail": f"transformers' WavLMModel initialisation, preset {source!r}, seed {seed}"}
    folder = os.path.abspath(source)
    speech = AutoModel.from_pretrained(folder)  # WavLMModel, HubertModel or Data2VecAudioModel
    family = _family(config)
    split, last = config.num_common_layers, config.speech.num_hidden_layers - 1
    bias = "" if family == "WavLM" else "; no relative position bias (zeroed: the source has none)"
    return speech, {"kind": "pretrained", "detail": (
        f"{family} from local folder {folder}; conv feature extractor, projection, "
        f"positional conv and layer norm copied; layers 0-{split - 1} -> common encoder, "
        f"layers {split}-{last} -> acoustic encoder{bias}")}


def _text_model(source: str, config: CareConfig, seed: int) -> tuple[torch.nn.Module, str]:
    first, last = config.text_layer_offset, config.text.num_hidden_layers - 1
    if source in TEXT_PRESETS:
        torch.manual_seed(seed + 1)
        return (
            AutoModel.from_config(config.text),
            f"random: transformers' {config.text.model_type} initialisation, preset {source!r}, "
            f"seed {seed + 1}; layers {first}-{last} -> semantic encoder",
        )
    folder = os.path.abspath(source)
    text_model = AutoModel.from_pretrained(folder)
    return text_model, (
        f"pretrained: {config.text.model_type} from local folder {folder}; its last "
        f"{config.num_semantic_layers} layers ({first}-{last}) -> semantic encoder layers"
    )


def initialise(
    speech: str = "tiny",
    text: str = "tiny",
    seed: int = 0,
    **config_kwargs: Any,
) -> tuple[CareModel, dict[str, Any]]:
    """A CARE and its metadata. ``speech``: ``tiny`` | ``base`` | a local WavLM folder;
    ``text``: ``tiny`` | ``roberta-base`` | a local BERT-family folder. ``config_kwargs`` go to
    :class:`CareConfig` (``num_common_layers``, ``adapter_kernel_size``, ``adapter_stride``...)."""
    config = CareConfig.from_names(speech, text, **config_kwargs)
    speech_model, speech_init = _speech_model(speech, config, seed)
    text_model, text_init = _text_model(text, config, seed)
    torch.manual_seed(seed + 2)
    model = CareModel(config)  # adapters and acoustic head: PyTorch's default initialisation
    copy_speech_weights(model, speech_model)
    copy_text_weights(model, text_model)
    model.eval()
    metadata = base_metadata(
        speech_init=speech_init,
        text_init=text_init,
        adapters_init=f"random: PyTorch default initialisation, seed {seed + 2}",
        acoustic_head_init=f"random: PyTorch default initialisation, seed {seed + 2}",
        pretrained_on=None,
        description=(
            "CARE initialisation only, never pre-trained as CARE: speech side "
            + ("random" if speech in SPEECH_PRESETS else f"from {_family(config)}")
            + ", text side "
            + ("random" if text in TEXT_PRESETS else f"from {config.text.model_type}")
            + ", adapters random"
        ),
    )
    return model, metadata
