"""What a checkpoint path holds, errors that say so, and how our own files say how they were made.

Every baseline loader checks its ``-k`` path first and, when the path is not what it reads, stops
with an :class:`UpstreamCheckpointError` naming the path, what was expected, what was found and
which ``-u`` reads what was found (:func:`identify` tells checkpoint kinds apart by their layout,
without building any model: each upstream folder's hubconf contributes its ``RECOGNISERS``).

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


def care_home() -> Path:
    """``$CARE_SUPERB_HOME`` (default ``~/.cache/care-superb``): where defaults read without ``-k`` live."""
    return Path(os.environ.get("CARE_SUPERB_HOME") or "~/.cache/care-superb").expanduser()


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
    """What ``path`` holds, judged by its layout only: every upstream folder's ``RECOGNISERS``
    (``registry.py``) are asked; what none recognises is described."""
    path = Path(path)
    if not path.exists():
        return Found("nothing: no such file or folder")
    if path.is_dir():
        from care_superb.upstream.registry import folder_layouts

        return _recognised(path, None) or Found(f"a folder holding neither {' nor '.join(sorted(folder_layouts()))}: "
                                                f"{sorted(p.name for p in path.iterdir())[:8]}")
    from care_superb.upstream.owner_pickles import RefusedPickleError

    try:
        payload = load_payload(path)
    except RefusedPickleError as error:
        return Found(f"a pickled checkpoint holding {', '.join(error.refused)}, which care-superb does not "
                     "unpickle (e.g. a whole pickled model)")
    except Exception as error:  # noqa: BLE001 - anything torch cannot read is described, not raised
        return Found(f"a file torch cannot read ({type(error).__name__})")
    if not isinstance(payload, dict):
        return Found(f"a {type(payload).__name__}, not a checkpoint dict")
    found = _recognised(path, payload)
    if found:
        return found
    if {"cfg", "model"} <= set(payload):
        name = fairseq_model_name(payload)
        return Found(f"a fairseq-style checkpoint (cfg + model) of an unrecognised model ({name or 'no model name'})")
    return Found(f"a checkpoint dict with keys {sorted(map(str, payload))[:8]}")


def _recognised(path: Path, payload: dict | None) -> Found | None:
    """What the upstream folders' recognisers say; several claims are joined, none lost."""
    from care_superb.upstream.registry import recognisers

    claims = [found for recognise in recognisers() if (found := recognise(path, payload))]
    # A folder's "not mine" (hf_speech on a text encoder's config.json) yields to a reader's claim.
    claims = [f for f in claims if f.readers or f.read_after_convert] or claims
    if len(claims) <= 1:
        return claims[0] if claims else None
    readers = tuple(dict.fromkeys(name for found in claims for name in found.readers))
    return Found(" or ".join(found.kind for found in claims), readers,
                 next((f.read_after_convert for f in claims if f.read_after_convert), None))


def state_keys(payload: Any) -> list[str]:
    """The tensor names of a checkpoint dict: under ``model``, ``state_dict`` or ``model_weight``
    when one of them is a dict, else at the top."""
    state = payload
    for key in ("model", "state_dict", "model_weight"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    return [k for k in state if isinstance(k, str)] if isinstance(state, dict) else []


def fairseq_model_name(payload: dict) -> str | None:
    """``cfg.model._name`` of a fairseq checkpoint (``cfg`` a dict or an omegaconf config)."""
    from collections.abc import Mapping

    cfg = payload.get("cfg")
    model = cfg.get("model") if isinstance(cfg, Mapping) else None
    return model.get("_name") if isinstance(model, Mapping) else None
