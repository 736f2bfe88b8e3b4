"""Any transformers speech encoder from a local ``save_pretrained`` folder, as an s3prl upstream.

Built with transformers' own Auto classes (``AutoConfig``, ``AutoModel``,
``AutoFeatureExtractor``), from local files only. Hidden states: transformers' own
``output_hidden_states`` (the encoder input, then every layer: ``num_hidden_layers + 1``), at the
frame rate of the convolutional front end (the product of ``conv_stride``).

Padding (see ``upstream/batching.py``):

* the model types in ``MASKED_BATCHING``: one batched call with the attention mask.
  transformers zeroes padded frames before the positional convolution; for data2vec-audio, whose
  positional embedding is a stack of convolutions, a pre-hook zeroes them again before every
  convolution of the stack (as each utterance alone sees zero padding there). Where the first
  convolution is normalised over time (``feat_extract_norm: group``: wav2vec2-base, HuBERT-base,
  WavLM-base), that one layer runs per group of equal-length utterances (``first_layer_alone``).
* any other model type: the model runs once per group of equal-length utterances, without a mask.

The waveform is normalised per utterance (zero mean, unit variance) exactly when the folder's
preprocessor says ``do_normalize``.
"""
from __future__ import annotations

import hashlib
import os
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.batching import (ZeroPaddingBefore, first_layer_alone, frame_mask, run_by_length,
                                          zero_padded_frames)
from care_superb.upstream.checkpoints import mismatch, provenance, read_marker_file
from care_superb.upstream.hf_speech.families import BY_MODEL_TYPE, FAMILIES

# Model types whose layer-normed front end and encoder are exact under an attention mask.
MASKED_BATCHING = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "unispeech", "unispeech-sat")
SAMPLE_RATE = 16000
FOLDER = "a local Hugging Face speech-encoder folder (save_pretrained: config.json and weights)"


def read_folder(folder: str | os.PathLike, upstream: str, family: str | None = None):
    """The folder's config, checked: a speech encoder (of ``family`` when given)."""
    from transformers import AutoConfig

    path = Path(folder)
    if not path.is_dir() or not (path / "config.json").is_file():
        raise mismatch(folder, upstream, FOLDER)
    config = AutoConfig.from_pretrained(path, local_files_only=True)
    if not hasattr(config, "conv_stride"):
        raise mismatch(folder, upstream, FOLDER)
    if family is not None and config.model_type != FAMILIES[family].model_type:
        raise mismatch(folder, upstream, f"a Hugging Face {FAMILIES[family].model_type} folder")
    return config


def weight_files(folder: Path) -> list[Path]:
    """The weight files transformers loads from a ``save_pretrained`` folder (safetensors first,
    as transformers prefers them; every shard an index names)."""
    import json

    for index, single in (("model.safetensors.index.json", "model.safetensors"),
                          ("pytorch_model.bin.index.json", "pytorch_model.bin")):
        if (folder / index).is_file():
            return sorted({folder / name for name in json.loads((folder / index).read_text())["weight_map"].values()})
        if (folder / single).is_file():
            return [folder / single]
    return []


def waveform_normalisation(folder: Path, model_type: str | None = None) -> tuple[bool, str]:
    """``do_normalize`` of the folder's preprocessor (and where that came from); without one, the
    owners' setting for the paper's families, else none."""
    from transformers import AutoFeatureExtractor

    if not (folder / "preprocessor_config.json").is_file():
        if model_type in BY_MODEL_TYPE:
            normalize = BY_MODEL_TYPE[model_type].normalize
            return normalize, f"no preprocessor_config.json: the owners' setting for {model_type}, do_normalize={normalize}"
        return False, "no preprocessor_config.json: waveforms not normalised"
    extractor = AutoFeatureExtractor.from_pretrained(folder, local_files_only=True)
    rate = getattr(extractor, "sampling_rate", SAMPLE_RATE)
    if rate != SAMPLE_RATE:
        raise ValueError(f"{folder}: the model expects {rate} Hz audio; s3prl gives {SAMPLE_RATE} Hz")
    normalize = bool(getattr(extractor, "do_normalize", False))
    return normalize, f"preprocessor_config.json: do_normalize={normalize}"


class UpstreamExpert(UpstreamBase):
    def __init__(self, ckpt: str | os.PathLike, upstream: str = "hf_speech", family: str | None = None, **kwargs):
        super().__init__(**kwargs)
        from transformers import AutoModel

        folder = Path(ckpt)
        config = read_folder(folder, upstream, family)
        try:
            self.model, info = AutoModel.from_pretrained(folder, config=config, local_files_only=True,
                                                         output_loading_info=True)
        except (OSError, RuntimeError, ValueError) as error:  # no weight file, or weights of another shape
            raise mismatch(folder, upstream, f"{FOLDER} whose weights fit its config.json "
                           f"(transformers: {str(error).splitlines()[0][:300]})") from error
        missing = [k for k in info["missing_keys"] if k != "masked_spec_embed"]  # pre-training only
        if missing or info["mismatched_keys"]:
            problems = missing + [str(m) for m in info["mismatched_keys"]]
            raise mismatch(folder, upstream, f"weights for every tensor of its {config.model_type} config "
                           f"({len(problems)} missing or of another shape: {problems[:5]})")
        self.normalize, normalize_source = waveform_normalisation(folder, config.model_type)
        self.by_length = config.model_type not in MASKED_BATCHING
        self.group_norm = getattr(config, "feat_extract_norm", "layer") == "group"
        pos_conv = getattr(getattr(self.model, "encoder", None), "pos_conv_embed", None)
        self.zero_padding = ZeroPaddingBefore(getattr(pos_conv, "layers", []))  # data2vec-audio's stack

        known = BY_MODEL_TYPE.get(config.model_type)
        self.provenance = provenance(
            folder,
            f"{known.title if known else config.model_type} from a Hugging Face folder "
            f"({config.num_hidden_layers} layers of {config.hidden_size})",
            read_marker_file(folder), weight_files=weight_files(folder),
            model_type=config.model_type,
            config_sha256=hashlib.sha256((folder / "config.json").read_bytes()).hexdigest()[:16],
            normalize=normalize_source,
            batching="per equal-length group" if self.by_length else "batched with attention mask" + (
                ", the first convolution per equal-length group" if self.group_norm else ""),
            ignored_weights=len(info["unexpected_keys"]),
        )
        self.eval()

    def get_downsample_rates(self, key: str) -> int:
        rate = 1
        for stride in self.model.config.conv_stride:
            rate *= stride
        return rate

    def _states(self, wavs: Tensor, attention_mask: Tensor | None = None) -> list[Tensor]:
        output = self.model(wavs, attention_mask=attention_mask, output_hidden_states=True)
        return list(output.hidden_states)

    def forward(self, wavs: list[Tensor]) -> dict[str, list[Tensor] | Tensor]:
        if self.normalize:  # as transformers' Wav2Vec2FeatureExtractor: population variance, eps 1e-7
            wavs = [(w - w.mean()) / torch.sqrt(w.var(unbiased=False) + 1e-7) for w in wavs]
        if self.by_length:
            states = run_by_length(list(wavs), self._states)
        else:
            lengths = torch.tensor([len(w) for w in wavs], device=wavs[0].device)
            padded = pad_sequence(list(wavs), batch_first=True)
            attention_mask = frame_mask(lengths, padded.shape[1]).long()
            frames = self.model._get_feat_extract_output_lengths(lengths)
            mask = frame_mask(frames, int(frames.max()))
            alone = first_layer_alone(self.model.feature_extractor, lengths) if self.group_norm else nullcontext()
            with self.zero_padding.masking(mask), alone:
                states = zero_padded_frames(self._states(padded, attention_mask), mask)
        return {"hidden_states": states, "last_hidden_state": states[-1]}
