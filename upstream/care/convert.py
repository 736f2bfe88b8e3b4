"""The authors' CARE pre-training checkpoints → the CARE checkpoint format.

The authors' pre-training script saves the *whole* model object every few thousand steps
(``torch.save(model)``): a pickle of their ``SpeechTextModel`` (inside a small wrapper, whose
attribute ``joint_model`` holds it) built from transformers submodules. Its attributes:

==========================  ===================================  ==============================
authors' attribute          what it holds                        CARE (this package)
==========================  ===================================  ==============================
audio_feature_extractor.i   WavLM conv layer i (a Sequential)    feature_extractor.conv_layers.i
feature_projection_audio    WavLM feature projection             feature_projection
pos_conv                    WavLM positional conv embedding      pos_conv_embed
wavlm_layer_norm            WavLM encoder LayerNorm              layer_norm
audio_model.i               WavLM layer i (i < 6)                common_encoder.layers.i
dual_model.i                WavLM layer 6 + i                    acoustic_encoder.layers.i
linear                      Linear(768, 256), PASE+ head         acoustic_head
common_model.i              RoBERTa layer 6 + i                  semantic_encoder.layers.i
downblock.i / upblock.i     Conv1d / ConvTranspose1d adapters    semantic_encoder.down.i / up.i
roberta_embeddings,         RoBERTa embeddings and layers 0-5    dropped (they encode text, the
text_model.i                (the text side of pre-training)      teacher; not part of CARE)
==========================  ===================================  ==============================

Reading such a file needs ``torch.load(weights_only=False)``: it is a pickle of Python objects,
not a dict of tensors, and ``weights_only=True`` refuses every class in it. Unpickling can run
code chosen by whoever wrote the file, so convert only files you trust; the converted checkpoint
is plain tensors and loads with ``weights_only=True`` from then on. Classes that cannot be
imported here (the authors' ``SpeechTextModel``, their training script's wrapper) are replaced
by an empty ``nn.Module`` subclass: an ``nn.Module`` pickle carries all its parameters,
buffers and submodules, so the weights are read without the authors' code.
"""
from __future__ import annotations

import hashlib
import pickle
import types
from pathlib import Path
from typing import Any

import torch
from torch import nn

from care_superb.upstream.care.checkpoint import (
    CheckpointError,
    base_metadata,
    load_weights,
    save_checkpoint,
)
from care_superb.upstream.care.config import CareConfig
from care_superb.upstream.care.model import CareModel

# (authors' prefix, CARE prefix); the first match wins. Integer indices are kept.
KEY_MAP = (
    ("audio_feature_extractor.", "feature_extractor.conv_layers."),
    ("feature_projection_audio.", "feature_projection."),
    ("pos_conv.", "pos_conv_embed."),
    ("wavlm_layer_norm.", "layer_norm."),
    ("audio_model.", "common_encoder.layers."),
    ("dual_model.", "acoustic_encoder.layers."),
    ("linear.", "acoustic_head."),
    ("common_model.", "semantic_encoder.layers."),
    ("downblock.", "semantic_encoder.down."),
    ("upblock.", "semantic_encoder.up."),
)
# Parts of the authors' model that are not CARE's speech model (the text side of pre-training,
# an optional attention pooling they did not use for CARE).
DROPPED = ("roberta_embeddings.", "text_model.", "attenpool.")
# Older torch / transformers stored the positional conv's weight norm as weight_g / weight_v.
WEIGHT_NORM_RENAMES = {
    "pos_conv_embed.conv.weight_g": "pos_conv_embed.conv.parametrizations.weight.original0",
    "pos_conv_embed.conv.weight_v": "pos_conv_embed.conv.parametrizations.weight.original1",
}
ANCHOR = "audio_feature_extractor.0.conv.weight"


class MissingClass(nn.Module):
    """Stands in for a pickled ``nn.Module`` subclass whose code is not importable here."""

    def forward(self, *args, **kwargs):  # pragma: no cover - never run
        raise RuntimeError(f"{type(self).__name__} is a stand-in holding weights only")


class _FallbackUnpickler(pickle.Unpickler):
    missing: list[str] = []

    def find_class(self, module: str, name: str):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            self.missing.append(f"{module}.{name}")
            return type(name, (MissingClass,), {"__module__": f"missing:{module}"})


def _pickle_module() -> types.ModuleType:
    """A ``pickle`` look-alike for ``torch.load`` whose unpickler tolerates missing classes."""
    module = types.ModuleType("care_superb_fallback_pickle")
    module.Unpickler = _FallbackUnpickler

    def load(file, **kwargs):
        return _FallbackUnpickler(file, **kwargs).load()

    module.load = load
    module.__dict__.update({k: getattr(pickle, k) for k in ("Pickler", "dump", "dumps", "loads")})
    return module


def read_authors_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The state dict inside an authors' file, and the class names that had to be stood in for.

    Accepts the whole pickled model (what their pre-training script writes), a dict with a
    ``model_state_dict`` / ``state_dict`` entry, or a bare state dict.
    """
    _FallbackUnpickler.missing = []
    # weights_only=False: see the module docstring (a pickled nn.Module, not a dict of tensors).
    obj = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_pickle_module())
    missing = sorted(set(_FallbackUnpickler.missing))
    if isinstance(obj, nn.Module):
        return obj.state_dict(), missing
    if isinstance(obj, dict):
        for key in ("model_state_dict", "state_dict", "model"):
            if isinstance(obj.get(key), dict):
                return obj[key], missing
            if isinstance(obj.get(key), nn.Module):
                return obj[key].state_dict(), missing
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj, missing
    raise CheckpointError(f"{path}: found a {type(obj).__name__}, not a model or a state dict")


def _prefix(state_dict: dict[str, torch.Tensor]) -> str:
    """What comes before the authors' attribute names: "joint_model." inside their training
    wrapper, "" for the bare model, "module." more for DataParallel."""
    anchors = [k for k in state_dict if k.endswith(ANCHOR)]
    if len(anchors) != 1:
        raise CheckpointError(
            f"not an authors' CARE checkpoint: expected one '...{ANCHOR}' key, found {len(anchors)}"
        )
    return anchors[0][: -len(ANCHOR)]


def map_authors_state_dict(
    state_dict: dict[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The authors' keys renamed to CARE's, and the keys left out (listed for the report)."""
    prefix = _prefix(state_dict)
    mapped, dropped = {}, []
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            dropped.append(key)
            continue
        rest = key[len(prefix):]
        for old, new in KEY_MAP:
            if rest.startswith(old):
                name = new + rest[len(old):]
                mapped[WEIGHT_NORM_RENAMES.get(name, name)] = value
                break
        else:
            if not rest.startswith(DROPPED):
                # Unknown tensors are kept under their own name: the strict load lists them.
                mapped[rest] = value
            else:
                dropped.append(key)
    return mapped, dropped


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert(
    source: str | Path,
    out: str | Path,
    config: CareConfig,
    pretrained_on: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Read an authors' checkpoint, check every tensor against ``config``, write ours."""
    source = Path(source).expanduser()
    state_dict, stood_in = read_authors_checkpoint(source)
    mapped, dropped = map_authors_state_dict(state_dict)
    model = CareModel(config)
    load_weights(model, mapped, source=f"{source} (converted)")
    prefix = _prefix(state_dict)
    dropped_prefixes = sorted(
        {
            prefix + k[len(prefix):].split(".")[0] if k.startswith(prefix) else k.split(".")[0]
            for k in dropped
        }
    )
    metadata = base_metadata(
        speech_init={"kind": "converted", "detail": "speech side of the authors' CARE checkpoint"},
        text_init="converted: semantic encoder (text layers) of the authors' CARE checkpoint",
        adapters_init="converted: adapters of the authors' CARE checkpoint",
        acoustic_head_init="converted: acoustic head of the authors' CARE checkpoint",
        pretrained_on=pretrained_on
        or "CARE pre-training by the authors' script (data not recorded in the file)",
        created_by=f"care-superb care-convert --in {source}",
        source_file=str(source),
        source_sha256=_sha256(source),
        source_classes_stood_in=stood_in,
        dropped_tensor_groups=dropped_prefixes,
        description="converted from the authors' pickled pre-training checkpoint",
    )
    return save_checkpoint(out, model, metadata), metadata
