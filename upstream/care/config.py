"""CARE's configuration: the one object every size of the model comes from.

A CARE is a WavLM speech encoder cut in two (common encoder = its first ``num_common_layers``
layers, acoustic encoder = the rest) plus a semantic encoder made of the *last* layers of a
BERT-family text encoder, one per acoustic layer, each wrapped by a pair of convolutional
adapters. So the configuration is the speech encoder's config, the text encoder's config, the
split point and the adapters' shape; every width and layer count is read from them.

Presets: ``tiny`` (a few thousand parameters per layer, for tests and demos) and ``base`` (the
paper: WavLM-base + RoBERTa-base, split after layer 6, adapters of kernel 5 and stride 3).
The text side can also come from a local Hugging Face folder (any BERT-family encoder whose
layers live in ``model.encoder.layer``: BERT, RoBERTa, MiniLM, XLM-R, ELECTRA ...).
"""
from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any

from transformers import AutoConfig, PretrainedConfig, RobertaConfig, WavLMConfig
from transformers.models.auto.configuration_auto import CONFIG_MAPPING

def wavlm_base_config() -> WavLMConfig:
    """microsoft/wavlm-base: 7 conv layers of 512 channels (stride 320), 12 layers of 768."""
    # transformers' defaults are wavlm-base's published config.json (the authors build it the same
    # way, ``WavLMConfig()``); spelled out here so that the preset does not move if they change.
    return WavLMConfig(
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        conv_dim=(512, 512, 512, 512, 512, 512, 512),
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        conv_bias=False,
        feat_extract_norm="group",
        num_conv_pos_embeddings=128,
        num_conv_pos_embedding_groups=16,
        do_stable_layer_norm=False,
        num_buckets=320,
        max_bucket_distance=800,
        layer_norm_eps=1e-5,
    )


def wavlm_tiny_config() -> WavLMConfig:
    """A WavLM with base's layout (7 convs at stride 320, 12 layers) and tiny widths."""
    return WavLMConfig(
        hidden_size=32,
        num_hidden_layers=12,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32, 32, 32, 32, 32, 32, 32),
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        conv_bias=False,
        feat_extract_norm="group",
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        do_stable_layer_norm=False,
        layer_norm_eps=1e-5,
    )


def wavlm_small_config() -> WavLMConfig:
    """Base's layout with narrow widths (256-channel convs, 12 layers of 128): the smallest size
    whose random features still carry prosody a head can learn from (the README demo's size)."""
    return WavLMConfig(
        hidden_size=128,
        num_hidden_layers=12,
        num_attention_heads=4,
        intermediate_size=256,
        conv_dim=(256,) * 7,
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        conv_bias=False,
        feat_extract_norm="group",
        num_conv_pos_embeddings=32,
        num_conv_pos_embedding_groups=4,
        do_stable_layer_norm=False,
        layer_norm_eps=1e-5,
    )


def roberta_base_config() -> RobertaConfig:
    """FacebookAI/roberta-base's published config.json (12 layers of 768, 12 heads)."""
    return RobertaConfig(
        vocab_size=50265,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )


def roberta_tiny_config() -> RobertaConfig:
    """A RoBERTa with 8 layers (so "the last six" is a real choice) and a width unlike tiny WavLM's
    (so the adapters really map one width to the other)."""
    return RobertaConfig(
        vocab_size=128,
        hidden_size=48,
        num_hidden_layers=8,
        num_attention_heads=2,
        intermediate_size=96,
        max_position_embeddings=66,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )


SPEECH_PRESETS = {"base": wavlm_base_config, "small": wavlm_small_config, "tiny": wavlm_tiny_config}
TEXT_PRESETS = {"roberta-base": roberta_base_config, "tiny": roberta_tiny_config}
# --size picks both sides at once.
SIZES = {"base": ("base", "roberta-base"), "small": ("small", "tiny"), "tiny": ("tiny", "tiny")}


# Speech encoders CARE can start from (the paper's Table VI): their conv front end, projection and
# post-layer-norm transformer layers have WavLM-base's structure and parameter names; WavLM adds
# only the gated relative position bias, which a HuBERT or data2vec start leaves at zero.
SPEECH_FAMILIES = ("wavlm", "hubert", "data2vec-audio")


def speech_config(name_or_folder: str) -> WavLMConfig:
    """A speech preset name (``base``, ``tiny``) or a local Hugging Face WavLM, HuBERT or
    data2vec-audio folder. The config is always a WavLMConfig; ``care_source`` records the family
    and, for data2vec, ``position_embedding = "data2vec"`` selects its five-layer convolutional
    positional embedding (its conv front end normalises every layer: ``feat_extract_norm="layer"``)."""
    if name_or_folder in SPEECH_PRESETS:
        return SPEECH_PRESETS[name_or_folder]()
    if not os.path.isdir(name_or_folder):
        raise ValueError(
            f"speech encoder {name_or_folder!r} is neither a preset ({', '.join(SPEECH_PRESETS)}) "
            f"nor a local Hugging Face folder of {', '.join(SPEECH_FAMILIES)}"
        )
    data = AutoConfig.from_pretrained(name_or_folder).to_dict()
    family = data.pop("model_type", None)
    if family not in SPEECH_FAMILIES:
        raise ValueError(
            f"{name_or_folder} holds a {family!r} model; CARE's speech side starts from "
            f"{', '.join(SPEECH_FAMILIES)}"
        )
    if family == "hubert" and not data.get("feat_proj_layer_norm", True):
        raise ValueError(f"{name_or_folder}: a HuBERT without feat_proj_layer_norm has no LayerNorm "
                         "before its projection, unlike WavLM-base; CARE cannot reproduce it")
    if family == "data2vec-audio":
        data.update(feat_extract_norm="layer", position_embedding="data2vec")
    config = WavLMConfig.from_dict(data)
    config.care_source = family
    return config


def text_config(name_or_folder: str) -> PretrainedConfig:
    """A text preset name (``roberta-base``, ``tiny``) or a local Hugging Face folder."""
    if name_or_folder in TEXT_PRESETS:
        return TEXT_PRESETS[name_or_folder]()
    if os.path.isdir(name_or_folder):
        return AutoConfig.from_pretrained(name_or_folder)
    raise ValueError(
        f"text encoder {name_or_folder!r} is neither a preset ({', '.join(TEXT_PRESETS)}) "
        "nor a local Hugging Face folder"
    )


@dataclasses.dataclass
class CareConfig:
    """Everything that sizes a CARE.

    speech: the WavLM whose feature extractor, projection, positional convolution, layer norm and
        transformer layers CARE reuses (common encoder = layers ``[0, num_common_layers)``,
        acoustic encoder = the rest).
    text: the BERT-family encoder whose last ``num_acoustic_layers`` layers form the semantic
        encoder (one semantic layer per acoustic layer, so that they pair up as ``[s_i ; a_i]``).
    num_common_layers: the split point of the speech encoder (6 in the paper).
    adapter_kernel_size, adapter_stride, adapter_output_padding: the Conv1d before each text layer
        (speech width -> text width, time / stride) and the ConvTranspose1d after it (text width ->
        speech width, time * stride).
    acoustic_head_size: width of the acoustic head's targets (PASE+ frames, 256), pre-training only.
    """

    speech: WavLMConfig = dataclasses.field(default_factory=wavlm_base_config)
    text: PretrainedConfig = dataclasses.field(default_factory=roberta_base_config)
    num_common_layers: int = 6
    adapter_kernel_size: int = 5
    adapter_stride: int = 3
    adapter_output_padding: int = 1
    acoustic_head_size: int = 256

    def __post_init__(self) -> None:
        self.speech = copy.deepcopy(self.speech)  # private copies: callers may reuse theirs
        self.text = copy.deepcopy(self.text)
        self.validate()

    # ---- derived sizes -------------------------------------------------------------------------
    @property
    def hidden_size(self) -> int:
        """Width of every speech-side state (x0, c_k, a_k, and s_k after its up-sampling)."""
        return self.speech.hidden_size

    @property
    def text_hidden_size(self) -> int:
        return self.text.hidden_size

    @property
    def num_acoustic_layers(self) -> int:
        return self.speech.num_hidden_layers - self.num_common_layers

    @property
    def num_semantic_layers(self) -> int:
        return self.num_acoustic_layers

    @property
    def text_layer_offset(self) -> int:
        """Index of the first text-encoder layer used (the semantic encoder takes the last ones)."""
        return self.text.num_hidden_layers - self.num_semantic_layers

    @property
    def num_hidden_states(self) -> int:
        """States given to s3prl: the encoder input, then one per common and per paired layer."""
        return 1 + self.num_common_layers + self.num_acoustic_layers

    @property
    def downsample_rate(self) -> int:
        """Input samples per output frame: the product of the feature extractor's strides."""
        rate = 1
        for stride in self.speech.conv_stride:
            rate *= stride
        return rate

    def validate(self) -> None:
        speech, text = self.speech, self.text
        if speech.do_stable_layer_norm:
            raise ValueError(
                "CARE reuses WavLM-base's post-layer-norm encoder; a WavLM with "
                "do_stable_layer_norm=True (WavLM-large) has a different layer structure"
            )
        if not 1 <= self.num_common_layers < speech.num_hidden_layers:
            raise ValueError(
                f"num_common_layers={self.num_common_layers} must leave at least one common and one "
                f"acoustic layer of the speech encoder's {speech.num_hidden_layers}"
            )
        if text.num_hidden_layers < self.num_semantic_layers:
            raise ValueError(
                f"the text encoder has {text.num_hidden_layers} layers; CARE needs "
                f"{self.num_semantic_layers} (one per acoustic layer)"
            )
        if not 0 <= self.adapter_output_padding < self.adapter_stride:
            raise ValueError("adapter_output_padding must be in [0, adapter_stride)")
        if self.adapter_kernel_size < self.adapter_stride:
            raise ValueError("adapter_kernel_size must be at least adapter_stride")

    # ---- presets and (de)serialisation ---------------------------------------------------------
    @classmethod
    def from_names(cls, speech: str, text: str, **kwargs: Any) -> "CareConfig":
        """Speech and text sides each from a preset name or a local Hugging Face folder."""
        return cls(speech=speech_config(speech), text=text_config(text), **kwargs)

    @classmethod
    def preset(cls, size: str, **kwargs: Any) -> "CareConfig":
        """``tiny`` or ``base`` (the paper's)."""
        if size not in SIZES:
            raise ValueError(f"unknown CARE size {size!r}; choose from {', '.join(SIZES)}")
        speech, text = SIZES[size]
        return cls.from_names(speech, text, **kwargs)

    def to_dict(self) -> dict:
        """Plain Python values only, so that a checkpoint loads with ``weights_only=True``."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["speech"] = self.speech.to_dict()
        out["text"] = self.text.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "CareConfig":
        data = dict(data)
        speech = dict(data.pop("speech"))
        text = dict(data.pop("text"))
        speech.pop("model_type", None)
        text_type = text.pop("model_type")
        if text_type not in CONFIG_MAPPING:
            raise ValueError(f"unknown text encoder model_type {text_type!r}")
        return cls(
            speech=WavLMConfig.from_dict(speech),
            text=CONFIG_MAPPING[text_type].from_dict(text),
            **data,
        )

    def describe(self) -> str:
        s, t = self.speech, self.text
        return (
            f"speech WavLM {s.num_hidden_layers}x{s.hidden_size} (common {self.num_common_layers}, "
            f"acoustic {self.num_acoustic_layers}); text {t.model_type} "
            f"{t.num_hidden_layers}x{t.hidden_size}, layers {self.text_layer_offset}.."
            f"{t.num_hidden_layers - 1} as semantic encoder; adapters k{self.adapter_kernel_size} "
            f"s{self.adapter_stride}"
        )
