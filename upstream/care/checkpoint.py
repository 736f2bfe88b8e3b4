"""The CARE checkpoint format, and where ``-u care`` looks for one.

A CARE checkpoint is one file written by ``torch.save`` holding a dict of plain values::

    {
      "format": "care-superb/care",
      "format_version": 1,
      "config": CareConfig.to_dict(),      # everything that sizes the model
      "state_dict": {name: tensor},        # CareModel's parameters and buffers
      "metadata": {                        # how these weights were made
        "speech_init": {"kind": ..., "detail": "..."},  # kind: random | pretrained | converted
        "text_init": "...",                # "random: transformers' roberta initialisation, ..."
        "adapters_init": "...",            # "random: ..." or "converted: ..."
        "pretrained_on": None | "...",     # None: never trained as CARE (initialisation only)
        "random_weights": bool | None,     # written by save_checkpoint from the two above
        "created_by": "...", "created_at": "...", ...
      },
    }

``speech_init.kind`` says how the speech side (which every hidden state passes through) began:
``random`` (care-init's presets), ``pretrained`` (care-init --speech DIR: a WavLM, HuBERT or
data2vec-audio), ``converted`` (the authors' CARE checkpoint). ``pretrain`` keeps it (it says
where training started; ``pretraining`` says what trained it). ``speech_init_kind`` is its one
reader: ``pretrain --front-end auto`` and ``random_weights`` both ask it. Checkpoints written
before the field existed hold free text ("random: ..."); they are read by its first word with a
FutureWarning naming the fix (``care-superb care-info CKPT --upgrade`` rewrites the file).

It loads with ``torch.load(weights_only=True)``: no code runs while reading it. A checkpoint
whose tensors do not fit its config stops with the full list of mismatches.

Default location: ``$CARE_SUPERB_HOME/checkpoints/care.pt``; ``CARE_SUPERB_HOME`` defaults to
``~/.cache/care-superb``.
"""
from __future__ import annotations

import datetime
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from care_superb.upstream.care.config import CareConfig
from care_superb.upstream.care.model import CareModel
from care_superb.upstream.checkpoints import care_home

FORMAT = "care-superb/care"
FORMAT_VERSION = 1
INIT_COMMAND = "care-superb care-init --size tiny --out {path}"


DEFAULT_FILE = "checkpoints/care.pt"  # under CARE_SUPERB_HOME


def default_checkpoint_path() -> Path:
    """Where ``-u care`` (no ``-k``) looks: ``$CARE_SUPERB_HOME/checkpoints/care.pt``."""
    return care_home() / DEFAULT_FILE


class CheckpointError(ValueError):
    """A file that is not a usable CARE checkpoint."""


class CheckpointNotFoundError(FileNotFoundError):
    """No checkpoint where one was expected; the message says how to make one."""


class CheckpointMismatchError(CheckpointError):
    """Tensors that do not fit the model the config builds; ``mismatches`` lists every one."""

    def __init__(self, source: str, mismatches: list[str]):
        self.mismatches = mismatches
        lines = "\n".join(f"  - {m}" for m in mismatches)
        super().__init__(
            f"{source}: {len(mismatches)} tensor(s) do not match the CARE model its config "
            f"builds:\n{lines}"
        )


def missing_checkpoint_message(path: Path | str) -> str:
    return (
        f"no CARE checkpoint at {path}. CARE's authors released no weights; make a checkpoint "
        f"with\n    {INIT_COMMAND.format(path=path)}\n(random weights, for trying the pipeline; "
        "--speech DIR / --text DIR initialise from local Hugging Face WavLM-base / RoBERTa-base "
        "folders as in the paper, --size base gives the paper's sizes), or convert the authors' "
        "pre-training checkpoint with `care-superb care-convert --in OLD --out NEW`; "
        "or pass a checkpoint with -k (upstream `care_local`)."
    )


def state_dict_mismatches(model: torch.nn.Module, state_dict: dict[str, Any]) -> list[str]:
    """Every key missing from / unexpected in ``state_dict``, and every shape that differs."""
    expected = model.state_dict()
    problems = []
    for key in expected:
        if key not in state_dict:
            problems.append(f"missing: {key} {tuple(expected[key].shape)}")
    for key, value in state_dict.items():
        if key not in expected:
            problems.append(f"unexpected: {key} {tuple(getattr(value, 'shape', ()))}")
        elif tuple(value.shape) != tuple(expected[key].shape):
            problems.append(
                f"shape: {key} is {tuple(value.shape)} in the checkpoint, "
                f"{tuple(expected[key].shape)} in the model"
            )
    return problems


def load_weights(model: CareModel, state_dict: dict[str, Any], source: str = "checkpoint") -> None:
    """``load_state_dict`` that refuses any mismatch, listing all of them at once."""
    problems = state_dict_mismatches(model, state_dict)
    if problems:
        raise CheckpointMismatchError(source, problems)
    model.load_state_dict(state_dict, strict=True)


def base_metadata(**fields: Any) -> dict[str, Any]:
    import importlib.metadata

    import transformers

    try:
        package_version = importlib.metadata.version("care-superb")
    except importlib.metadata.PackageNotFoundError:
        package_version = None
    meta = {
        "speech_init": None,
        "text_init": None,
        "adapters_init": None,
        "pretrained_on": None,
        "created_by": None,
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch_version": str(torch.__version__),
        "transformers_version": transformers.__version__,
        "care_superb_version": package_version,
    }
    meta.update(fields)
    meta["random_weights"] = random_weights(meta)
    return meta


SPEECH_INIT_KINDS = ("random", "pretrained", "converted")


def speech_init_kind(metadata: dict[str, Any]) -> str | None:
    """How the speech side began: ``metadata["speech_init"]["kind"]`` (None: not recorded). The
    one reader of it, for ``pretrain --front-end auto`` and for ``random_weights``."""
    value = metadata.get("speech_init")
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind is not None and kind not in SPEECH_INIT_KINDS:
        raise CheckpointError(f"speech_init.kind {kind!r} is not one of {', '.join(SPEECH_INIT_KINDS)}")
    return kind


def random_weights(metadata: dict[str, Any]) -> bool | None:
    """Whether a checkpoint's speech side was never trained: it began random and was never
    pre-trained as CARE; None when the checkpoint does not say how it began."""
    if metadata.get("pretrained_on"):
        return False
    kind = speech_init_kind(metadata)
    return None if kind is None else kind == "random"


def upgrade_metadata(metadata: dict[str, Any], source: str) -> dict[str, Any]:
    """Metadata of a checkpoint written before ``speech_init.kind``: its free-text speech_init
    ("random: ...", "pretrained: ...", "converted: ...") read by its first word, with a warning
    that names the fix. Text that starts otherwise gives ``kind: None`` (not known)."""
    value = metadata.get("speech_init")
    if not isinstance(value, str):
        return metadata
    first, _, rest = value.partition(":")
    kind = first.strip() if first.strip() in SPEECH_INIT_KINDS else None
    warnings.warn(
        f"{source}: its metadata's speech_init is free text, as written before speech_init.kind existed; "
        + (f"read as kind {kind!r} from its first word" if kind else "its first word names no kind, so how "
           "its speech side began is not known")
        + f". Free text is deprecated and will not be read in a later version; rewrite the file with: "
        f"care-superb care-info {source} --upgrade", FutureWarning, stacklevel=3)
    return {**metadata, "speech_init": {"kind": kind, "detail": rest.strip() if kind else value,
                                        "upgraded_from": "free text"}}


def plain(value: Any, strict: bool = False) -> Any:
    """``value`` made of builtin types only (what ``torch.load(weights_only=True)`` accepts).

    str subclasses (``torch.__version__``) become str; other objects become their str, or raise
    when ``strict``."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, dict):
        return {plain(k, strict): plain(v, strict) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v, strict) for v in value)
    for kind in (bool, int, float, str):  # subclasses: numpy scalars, TorchVersion ...
        if isinstance(value, kind):
            return kind(value)
    if strict:
        raise TypeError(f"{type(value).__name__} cannot go into a CARE checkpoint: {value!r}")
    return str(value)


def save_checkpoint(path: str | os.PathLike, model: CareModel, metadata: dict[str, Any]) -> Path:
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {**metadata, "random_weights": random_weights(metadata)}  # from speech_init, never apart
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": plain(model.config.to_dict(), strict=True),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        "metadata": plain(metadata),
    }
    _write(payload, path)
    return path


def _write(payload: dict[str, Any], path: Path) -> None:
    tmp = path.with_name(path.name + ".partial")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def upgrade_checkpoint(path: str | os.PathLike) -> bool:
    """Rewrite a checkpoint's free-text speech_init as ``{kind, detail}`` (weights untouched);
    False when there was nothing to do."""
    path = Path(path).expanduser()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        payload = read_checkpoint(path, upgrade=False)
        if not isinstance(payload["metadata"].get("speech_init"), str):
            return False
        metadata = upgrade_metadata(payload["metadata"], str(path))
    payload["metadata"] = plain({**metadata, "random_weights": random_weights(metadata)})
    _write(payload, path)
    return True


def read_checkpoint(path: str | os.PathLike, upgrade: bool = True) -> dict[str, Any]:
    """The checkpoint's dict, checked for format and version (tensors on the CPU); the metadata
    of an older checkpoint read as today's (``upgrade_metadata``) unless ``upgrade`` is False."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointNotFoundError(missing_checkpoint_message(path))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - report what the file is not
        raise CheckpointError(
            f"{path} is not a CARE checkpoint ({type(error).__name__}: {error}). A pickled model "
            "from the authors' pre-training script is converted with "
            f"`care-superb care-convert --in {path} --out NEW.pt`."
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a CARE checkpoint (no 'format': {FORMAT!r}); the authors' "
            f"checkpoints are converted with `care-superb care-convert --in {path} --out NEW.pt`"
        )
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has CARE checkpoint format version {version}; this care-superb reads "
            f"version {FORMAT_VERSION}"
        )
    if upgrade:
        payload["metadata"] = upgrade_metadata(payload.get("metadata") or {}, str(path))
    return payload


def load_checkpoint(path: str | os.PathLike) -> tuple[CareModel, dict[str, Any]]:
    """The model (eval mode, on the CPU) and the checkpoint's metadata."""
    payload = read_checkpoint(path)
    model = CareModel(CareConfig.from_dict(payload["config"]))
    load_weights(model, payload["state_dict"], source=str(path))
    model.eval()
    return model, payload["metadata"]
