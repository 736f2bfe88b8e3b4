"""What a checkpoint path holds, errors that say so, and how our own files say how they were made.

Every baseline loader checks its ``-k`` path first and, when the path is not what it reads, stops
with an :class:`UpstreamCheckpointError` naming the path, what was expected, what was found and
which ``-u`` reads what was found (:func:`identify` tells checkpoint kinds apart by their layout,
without building any model).

Files and folders written by care-superb (random builders, converters) carry their provenance:
``care_superb.json`` inside a folder, a ``"care_superb"`` entry inside a single-file checkpoint
(owners' loaders ignore both). ``random_weights`` is true for weights that were never trained;
a checkpoint without this record has ``random_weights: null`` (unknown) in result rows.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
from pathlib import Path
from typing import Any

MARKER_FILE = "care_superb.json"
MARKER_KEY = "care_superb"


class UpstreamCheckpointError(ValueError):
    """A ``-k`` path that is not what the upstream reads."""


class UpstreamCheckpointNotFoundError(UpstreamCheckpointError, FileNotFoundError):
    """A ``-k`` path that does not exist."""


@dataclasses.dataclass(frozen=True)
class Found:
    """What :func:`identify` found at a path: in words, and which ``-u`` names read it."""

    kind: str
    readers: tuple[str, ...] = ()


def mismatch(path: str | os.PathLike, upstream: str, expected: str) -> UpstreamCheckpointError:
    """The error for ``-u upstream -k path`` when the path does not hold ``expected``."""
    found = identify(path)
    message = f"-u {upstream} -k {path}: expected {expected}; found {found.kind}."
    others = [name for name in found.readers if name != upstream]
    if others:
        message += f" That is read by -u {' or -u '.join(others)}."
    error = UpstreamCheckpointNotFoundError if not os.path.exists(path) else UpstreamCheckpointError
    return error(message)


# ---- provenance records ------------------------------------------------------------------------
def make_metadata(random_weights: bool | None, created_by: str, **fields: Any) -> dict[str, Any]:
    """The record our builders and converters write next to (or into) what they make
    (``random_weights``: None when unknown, e.g. converted from a file that did not say)."""
    import importlib.metadata

    import torch

    try:
        version = importlib.metadata.version("care-superb")
    except importlib.metadata.PackageNotFoundError:
        version = None
    return {
        "random_weights": None if random_weights is None else bool(random_weights),
        "created_by": created_by,
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch_version": str(torch.__version__),
        "care_superb_version": version,
        **fields,
    }


def write_marker_file(folder: str | os.PathLike, metadata: dict[str, Any]) -> Path:
    path = Path(folder) / MARKER_FILE
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n")
    return path


def read_marker_file(folder: str | os.PathLike) -> dict[str, Any] | None:
    path = Path(folder) / MARKER_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def provenance(ckpt: str | os.PathLike, description: str, metadata: dict | None, **extra: Any) -> dict:
    """An upstream's ``provenance``: ``ckpt``, ``random_weights`` (null = unknown), ``description``."""
    metadata = metadata or {}
    return {
        "ckpt": str(ckpt),
        "random_weights": metadata.get("random_weights"),
        "description": description,
        "created_by": metadata.get("created_by"),
        **extra,
    }


# ---- telling checkpoints apart -----------------------------------------------------------------
def load_payload(path: str | os.PathLike) -> Any:
    """``torch.load`` of a checkpoint file, tensors on the CPU, no code run (memory-mapped when
    the file allows it, so that identifying a 2 GB file reads almost nothing)."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as error:
        if "mmap" not in str(error):
            raise
        return torch.load(path, map_location="cpu", weights_only=True)


def identify(path: str | os.PathLike) -> Found:
    """What ``path`` holds, judged by its layout only."""
    path = Path(path)
    if not path.exists():
        return Found("nothing: no such file or folder")
    if path.is_dir():
        return _identify_folder(path)
    try:
        payload = load_payload(path)
    except Exception as error:  # noqa: BLE001 - anything torch cannot read is described, not raised
        if "weights_only" in str(error) or "Unsupported global" in str(error):
            return Found("a pickled checkpoint that needs code to load (e.g. a fairseq training "
                         "checkpoint or a whole pickled model)")
        return Found(f"a file torch cannot read ({type(error).__name__})")
    return _identify_payload(payload)


def _identify_folder(path: Path) -> Found:
    config_json = path / "config.json"
    if config_json.is_file():
        try:
            config = json.loads(config_json.read_text())
        except ValueError:
            return Found("a folder whose config.json is not JSON")
        model_type = config.get("model_type", "unknown")
        if "conv_stride" in config:
            family = {"wavlm": "hf_wavlm", "hubert": "hf_hubert", "data2vec-audio": "hf_data2vec"}
            readers = ("hf_speech",) + ((family[model_type],) if model_type in family else ())
            return Found(f"a Hugging Face {model_type} speech encoder folder", readers)
        return Found(f"a Hugging Face {model_type} folder, not a speech encoder with a "
                     "convolutional waveform front end")
    if (path / "config.yaml").is_file() and (path / "configuration.json").is_file():
        return Found("a funasr release folder (config.yaml + configuration.json)", ("emotion2vec_local",))
    names = sorted(p.name for p in path.iterdir())[:8]
    return Found(f"a folder holding neither config.json (Hugging Face) nor config.yaml + "
                 f"configuration.json (funasr release): {names}")


def _state_keys(payload: Any) -> list[str]:
    state = payload
    for key in ("model", "state_dict", "model_weight"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    return [k for k in state if isinstance(k, str)] if isinstance(state, dict) else []


def _identify_payload(payload: Any) -> Found:
    if not isinstance(payload, dict):
        return Found(f"a {type(payload).__name__}, not a checkpoint dict")
    if payload.get("format") == "care-superb/care":
        return Found("a CARE checkpoint", ("care_local", "care_acoustic_local", "care_semantic_local"))
    keys = _state_keys(payload)
    if any(k.startswith(("encoder.w2v_model.", "encoder_frontend.")) for k in keys) and any(
        k.startswith(("decoder.layers.", "encoder_pooler.")) for k in keys
    ):
        return Found("a SONAR speech encoder checkpoint (spenc.*.pt)", ("sonar_local",))
    if any(k.startswith("modality_encoders.AUDIO.") for k in keys):
        return Found("emotion2vec weights alone (give the release folder holding them, their "
                     "config.yaml and configuration.json)", ("emotion2vec_local",))
    if {"task_cfg", "model_cfg", "model_weight", "dictionaries_symbols"} <= set(payload):
        return Found("a HuBERT checkpoint in s3prl's converted layout", ("hubert_local",))
    if {"task_cfg", "model_cfg", "model_weight"} <= set(payload):
        return Found("a data2vec checkpoint in s3prl's converted layout", ("data2vec_local",))
    if {"cfg", "model"} <= set(payload) and any("relative_attention_bias" in k or "grep_linear" in k for k in keys):
        return Found("a WavLM checkpoint in Microsoft's layout (cfg + model)", ("wavlm_local",))
    if {"cfg", "model"} <= set(payload):
        return Found("a fairseq-style checkpoint (cfg + model) of an unrecognised model")
    return Found(f"a checkpoint dict with keys {sorted(map(str, payload))[:8]}")
