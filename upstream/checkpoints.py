"""What a checkpoint path holds, errors that say so, and how our own files say how they were made.

Every baseline loader checks its ``-k`` path first and, when the path is not what it reads, stops
with an :class:`UpstreamCheckpointError` naming the path, what was expected, what was found and
which ``-u`` reads what was found (:func:`identify` tells checkpoint kinds apart by their layout,
without building any model).

Files and folders written by care-superb (random builders, converters) carry their provenance:
``care_superb.json`` inside a folder, a ``"care_superb"`` entry inside a single-file checkpoint
(owners' loaders ignore both). ``random_weights`` is true for weights that were never trained.
A checkpoint without this record that an upstream reads in its owners' released format is taken
as the owners' release: ``weights: released``, ``random_weights: false``, and the name, size and
sha256 of each weight file, so that a result row can be traced to the owners' published file.
Hashing reads the whole file (about 1 GB/s here), once per process and file version.

Checkpoint files are read without running code (``owner_pickles.py``).
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

MARKER_FILE = "care_superb.json"
MARKER_KEY = "care_superb"


class UpstreamCheckpointError(ValueError):
    """A ``-k`` path that is not what the upstream reads."""


class UpstreamCheckpointNotFoundError(UpstreamCheckpointError, FileNotFoundError):
    """A ``-k`` path that does not exist."""


@dataclasses.dataclass(frozen=True)
class Found:
    """What :func:`identify` found at a path: in words, which ``-u`` names read it, and which
    ``-u`` name reads it once ``care-superb baseline-convert`` has converted it."""

    kind: str
    readers: tuple[str, ...] = ()
    read_after_convert: str | None = None


def mismatch(path: str | os.PathLike, upstream: str, expected: str) -> UpstreamCheckpointError:
    """The error for ``-u upstream -k path`` when the path does not hold ``expected``."""
    found = identify(path)
    message = f"-u {upstream} -k {path}: expected {expected}; found {found.kind}."
    others = [name for name in found.readers if name != upstream]
    if others:
        message += f" That is read by -u {' or -u '.join(others)}."
    if found.read_after_convert:
        converted = Path(path).with_suffix(".converted.pt")
        message += (f" Convert it once (no fairseq needed): care-superb baseline-convert {path} {converted}, "
                    f"then -u {found.read_after_convert} -k {converted}.")
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


_SHA256: dict[tuple[str, int, int], str] = {}
WEIGHTS = {True: "random", False: "trained", None: "unknown"}  # what a record's random_weights says


def sha256_of(path: str | os.PathLike) -> str:
    """sha256 of a file, computed once per process for each (path, size, mtime)."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                digest.update(block)
        _SHA256[key] = digest.hexdigest()
    return _SHA256[key]


def weights_fields(metadata: dict | None, weight_files: Iterable[str | os.PathLike] = ()) -> dict[str, Any]:
    """``random_weights``, ``weights`` (random / trained / released / unknown) and, for released
    weights, ``released_files``: from our record when there is one, else, for weight files read in
    their owners' released format, released."""
    if metadata:
        fields = {"random_weights": metadata.get("random_weights"),
                  "weights": metadata.get("weights") or WEIGHTS[metadata.get("random_weights")]}
        if metadata.get("released_files"):
            fields["released_files"] = metadata["released_files"]
        return fields
    files = [Path(f) for f in weight_files]
    if not files:
        return {"random_weights": None, "weights": "unknown"}
    return {"random_weights": False, "weights": "released",
            "released_files": [{"name": f.name, "bytes": f.stat().st_size, "sha256": sha256_of(f)} for f in files]}


def provenance(ckpt: str | os.PathLike, description: str, metadata: dict | None,
               weight_files: Iterable[str | os.PathLike] = (), **extra: Any) -> dict:
    """An upstream's ``provenance``: ``ckpt``, ``random_weights`` (null = unknown), ``weights``,
    ``description``; ``weight_files``: the files read in their owners' released format (they are
    hashed only when there is no record of ours)."""
    metadata = metadata or {}
    return {
        "ckpt": str(ckpt),
        **weights_fields(metadata, weight_files),
        "description": description,
        "created_by": metadata.get("created_by"),
        **extra,
    }


# ---- telling checkpoints apart -----------------------------------------------------------------
def load_payload(path: str | os.PathLike) -> Any:
    """A checkpoint file's contents, tensors on the CPU, memory-mapped where possible, no code run,
    training state dropped (see ``owner_pickles.py``)."""
    from care_superb.upstream.owner_pickles import load

    return load(path)


def identify(path: str | os.PathLike) -> Found:
    """What ``path`` holds, judged by its layout only."""
    path = Path(path)
    if not path.exists():
        return Found("nothing: no such file or folder")
    if path.is_dir():
        return _identify_folder(path)
    from care_superb.upstream.owner_pickles import RefusedPickleError

    try:
        payload = load_payload(path)
    except RefusedPickleError as error:
        return Found(f"a pickled checkpoint holding {', '.join(error.refused)}, which care-superb does not "
                     "unpickle (e.g. a whole pickled model)")
    except Exception as error:  # noqa: BLE001 - anything torch cannot read is described, not raised
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
    fairseq = fairseq_model_name(payload)
    if fairseq in FAIRSEQ_FAMILIES:
        family, reader = FAIRSEQ_FAMILIES[fairseq]
        return Found(f"fairseq's own {family} training checkpoint (cfg.model._name {fairseq}), which s3prl "
                     f"reads only in its converted layout", read_after_convert=reader)
    if {"cfg", "model"} <= set(payload):
        return Found(f"a fairseq-style checkpoint (cfg + model) of an unrecognised model ({fairseq or 'no model name'})")
    return Found(f"a checkpoint dict with keys {sorted(map(str, payload))[:8]}")


# fairseq's cfg.model._name -> (family, s3prl's reader of the converted layout)
FAIRSEQ_FAMILIES = {"hubert": ("HuBERT", "hubert_local"), "data2vec_audio": ("data2vec", "data2vec_local")}


def fairseq_model_name(payload: dict) -> str | None:
    """``cfg.model._name`` of a fairseq checkpoint (``cfg`` a dict or an omegaconf config)."""
    from collections.abc import Mapping

    cfg = payload.get("cfg")
    model = cfg.get("model") if isinstance(cfg, Mapping) else None
    return model.get("_name") if isinstance(model, Mapping) else None
