"""The paper's base baselines that transformers implements: WavLM, HuBERT, data2vec-audio.

Each family: its transformers config at the paper's size (``base``: the owners' published
config.json of microsoft/wavlm-base, facebook/hubert-base-ls960, facebook/data2vec-audio-base,
which are transformers' defaults, spelled out so that they do not move) and at a ``tiny`` size
with the same layout (7 convolutions, stride 320) for tests; whether the owners' training
normalised each waveform (fairseq ``task.normalize``: data2vec yes, HuBERT-base and WavLM-base
no), which becomes ``do_normalize`` of the folder's preprocessor; and the ``-u`` name of s3prl's
loader for the owners' checkpoint format.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from transformers import Data2VecAudioConfig, HubertConfig, PretrainedConfig, WavLMConfig

from care_superb.upstream.care.config import wavlm_base_config as wavlm_base  # CARE's speech side

CONV_BASE = dict(
    conv_dim=(512,) * 7,
    conv_stride=(5, 2, 2, 2, 2, 2, 2),
    conv_kernel=(10, 3, 3, 3, 3, 2, 2),
    conv_bias=False,
)
ENCODER_BASE = dict(
    hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
    hidden_act="gelu", layer_norm_eps=1e-5,
)
# Tiny: base's layout, narrow. The convolution width differs from the encoder width so that the
# feature projection is a real map in both formats (fairseq omits it when the widths are equal).
CONV_TINY = dict(CONV_BASE, conv_dim=(24,) * 7)
ENCODER_TINY = dict(ENCODER_BASE, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                    intermediate_size=64)


def wavlm_tiny() -> WavLMConfig:
    return WavLMConfig(**CONV_TINY, **ENCODER_TINY, feat_extract_norm="group", do_stable_layer_norm=False,
                       num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                       num_buckets=320, max_bucket_distance=800)


def hubert_base() -> HubertConfig:
    return HubertConfig(**CONV_BASE, **ENCODER_BASE, feat_extract_norm="group", do_stable_layer_norm=False,
                        num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16)


def hubert_tiny() -> HubertConfig:
    return HubertConfig(**CONV_TINY, **ENCODER_TINY, feat_extract_norm="group", do_stable_layer_norm=False,
                        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)


def data2vec_base() -> Data2VecAudioConfig:
    # five positional convolutions of kernel 19 (fairseq: pos_conv_depth 5, conv_pos 95), each
    # followed by a LayerNorm; a LayerNorm after every feature-extractor convolution.
    return Data2VecAudioConfig(**CONV_BASE, **ENCODER_BASE, num_conv_pos_embeddings=5,
                               conv_pos_kernel_size=19, num_conv_pos_embedding_groups=16)


def data2vec_tiny() -> Data2VecAudioConfig:
    return Data2VecAudioConfig(**CONV_TINY, **ENCODER_TINY, num_conv_pos_embeddings=3,
                               conv_pos_kernel_size=5, num_conv_pos_embedding_groups=2)


@dataclasses.dataclass(frozen=True)
class Family:
    name: str  # what `care-superb baseline-init` calls it
    model_type: str  # transformers' model_type
    title: str
    sizes: dict[str, Callable[[], PretrainedConfig]]
    normalize: bool  # the owners' waveform normalisation
    owner_upstream: str  # s3prl's loader of the owners' format
    owner_format: str


FAMILIES = {
    "wavlm": Family("wavlm", "wavlm", "WavLM", {"base": wavlm_base, "tiny": wavlm_tiny}, False,
                    "wavlm_local", "Microsoft's WavLM checkpoint ({'cfg', 'model'})"),
    "hubert": Family("hubert", "hubert", "HuBERT", {"base": hubert_base, "tiny": hubert_tiny}, False,
                     "hubert_local", "s3prl's converted fairseq HuBERT checkpoint "
                     "({'task_cfg', 'model_cfg', 'model_weight', 'dictionaries_symbols'})"),
    "data2vec": Family("data2vec", "data2vec-audio", "data2vec-audio",
                       {"base": data2vec_base, "tiny": data2vec_tiny}, True, "data2vec_local",
                       "s3prl's converted fairseq data2vec checkpoint "
                       "({'task_cfg', 'model_cfg', 'model_weight' with '_ema'})"),
}
BY_MODEL_TYPE = {family.model_type: family for family in FAMILIES.values()}


def family_config(family: str, size: str) -> PretrainedConfig:
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose from {', '.join(FAMILIES)}")
    sizes = FAMILIES[family].sizes
    if size not in sizes:
        raise ValueError(f"unknown size {size!r} for {family}; choose from {', '.join(sizes)}")
    return sizes[size]()
