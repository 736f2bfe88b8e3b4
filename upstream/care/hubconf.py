"""CARE's names in ``s3prl.hub`` (``-u NAME``), in s3prl's hubconf style.

==========================  ============================================  =================
name                        hidden states                                 checkpoint
==========================  ============================================  =================
care                        13 × 2·width: [x0;x0], [c_k;c_k], [s_i;a_i]   the default one
care_local                  same                                          ``-k PATH``
care_acoustic               13 × width: x0, c1..c6, a1..a6 (Table IV)     the default one
care_acoustic_local         same                                          ``-k PATH``
care_semantic               13 × width: x0, c1..c6, s1..s6 (Table IV)     the default one
care_semantic_local         same                                          ``-k PATH``
==========================  ============================================  =================

The default checkpoint is ``$CARE_SUPERB_HOME/checkpoints/care.pt`` (``CARE_SUPERB_HOME``
defaults to ``~/.cache/care-superb``); ``care-superb care-init`` makes one. ``model_config``
(``-g``) is refused: a CARE checkpoint carries its own config. ``refresh`` (``-r``) does nothing:
nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

from care_superb.upstream.baselines import RandomCheckpoint
from care_superb.upstream.care.checkpoint import (
    DEFAULT_FILE,
    FORMAT,
    CheckpointNotFoundError,
    default_checkpoint_path,
    missing_checkpoint_message,
)
from care_superb.upstream.checkpoints import Found
from care_superb.upstream.care.expert import UpstreamExpert as _UpstreamExpert

__all__ = [
    "care",
    "care_local",
    "care_acoustic",
    "care_acoustic_local",
    "care_semantic",
    "care_semantic_local",
]


def _expert(ckpt, model_config, branches: str, **kwargs) -> _UpstreamExpert:
    if model_config is not None:
        raise ValueError("CARE takes no -g/model_config: its config is inside the checkpoint")
    return _UpstreamExpert(ckpt, branches=branches, **kwargs)


def _default(ckpt):
    if ckpt:
        return ckpt
    path = default_checkpoint_path()
    if not path.is_file():
        raise CheckpointNotFoundError(missing_checkpoint_message(path))
    return path


def care_local(ckpt, model_config=None, refresh=False, **kwargs):
    """CARE from a local CARE checkpoint (``-k PATH``)."""
    if not ckpt:
        raise ValueError("care_local needs -k PATH (a CARE checkpoint); `-u care` uses the default one")
    return _expert(ckpt, model_config, "both", **kwargs)


def care(ckpt=None, model_config=None, refresh=False, **kwargs):
    """CARE from the default checkpoint (or ``ckpt`` when given)."""
    return care_local(_default(ckpt), model_config, refresh, **kwargs)


def care_acoustic_local(ckpt, model_config=None, refresh=False, **kwargs):
    """The acoustic + common encoders of a local CARE checkpoint."""
    if not ckpt:
        raise ValueError("care_acoustic_local needs -k PATH (a CARE checkpoint)")
    return _expert(ckpt, model_config, "acoustic", **kwargs)


def care_acoustic(ckpt=None, model_config=None, refresh=False, **kwargs):
    """The acoustic + common encoders of the default checkpoint."""
    return care_acoustic_local(_default(ckpt), model_config, refresh, **kwargs)


def care_semantic_local(ckpt, model_config=None, refresh=False, **kwargs):
    """The semantic + common encoders of a local CARE checkpoint."""
    if not ckpt:
        raise ValueError("care_semantic_local needs -k PATH (a CARE checkpoint)")
    return _expert(ckpt, model_config, "semantic", **kwargs)


def care_semantic(ckpt=None, model_config=None, refresh=False, **kwargs):
    """The semantic + common encoders of the default checkpoint."""
    return care_semantic_local(_default(ckpt), model_config, refresh, **kwargs)


def _build(out, size, seed):
    from care_superb.upstream.care.checkpoint import save_checkpoint
    from care_superb.upstream.care.config import SIZES
    from care_superb.upstream.care.initialise import initialise

    model, metadata = initialise(*SIZES[size], seed=seed)
    metadata["created_by"] = f"care-superb baseline-init care --size {size} --seed {seed}"
    out = Path(out)
    return save_checkpoint(out / "care.pt" if out.is_dir() else out, model, metadata)


RANDOM_CHECKPOINTS = [
    RandomCheckpoint(
        "care", "CARE (base: the paper's sizes) as a CARE checkpoint (= care-init without --speech/--text)",
        _build,
        {"care_local": (13, 64), "care_acoustic_local": (13, 32), "care_semantic_local": (13, 32),
         "care": (13, 64), "care_acoustic": (13, 32), "care_semantic": (13, 32)},
        default_readers=("care", "care_acoustic", "care_semantic"),
        default_file=DEFAULT_FILE,
        sizes=("tiny", "small", "base"),
        not_in_hidden_states=("model.acoustic_head.",),
    ),
]


def _recognise(path, payload):
    if payload is not None and payload.get("format") == FORMAT:
        return Found("a CARE checkpoint", ("care_local", "care_acoustic_local", "care_semantic_local"))
    return None


RECOGNISERS = [_recognise]
LISTING = [
    ("`care` / `care_local`", "a CARE checkpoint (default: `$CARE_SUPERB_HOME/checkpoints/care.pt`)",
     "CARE (Dutta & Ganapathy 2024): WavLM conv front end, common encoder (WavLM layers 0–5), acoustic encoder "
     "(WavLM layers 6–11), semantic encoder (the last six layers of a BERT-family text encoder wrapped by "
     "Conv1d / ConvTranspose1d adapters, k 5, stride 3)",
     "13 × 1536 at 50 Hz: `[x0;x0]`, `[c1;c1]`…`[c6;c6]`, `[s1;a1]`…`[s6;a6]`"),
    ("`care_acoustic` / `care_acoustic_local`", "the same", "Table IV ablation: common + acoustic",
     "13 × 768: `x0, c1…c6, a1…a6`"),
    ("`care_semantic` / `care_semantic_local`", "the same", "Table IV ablation: common + semantic",
     "13 × 768: `x0, c1…c6, s1…s6`"),
]
