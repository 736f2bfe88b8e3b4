"""DistillMOS from its owners' package (``-u distillmos``) or a file (``-u distillmos_local -k FILE``).

=================  ===========================================================  ================
name               reads                                                        hidden states
=================  ===========================================================  ================
distillmos         the weights the ``distillmos`` package ships                 8 × 200, 50 Hz
                   (``distillmos/weights/distill_mos_v7.pt``), or ``-k FILE``
distillmos_local   ``-k FILE``: a file in that layout                           the same
=================  ===========================================================  ================

Needs distillmos (``pip install 'care-superb[distillmos]'``; ``scripts/setup.sh`` installs it),
imported only when this upstream is built. Nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

from care_superb.upstream.baselines import RandomCheckpoint
from care_superb.upstream.checkpoints import Found, state_keys

__all__ = ["distillmos", "distillmos_local"]


def distillmos_local(ckpt=None, model_config=None, refresh=False, **kwargs):
    """DistillMOS from a local file in the owners' layout (``-k FILE``)."""
    from care_superb.upstream.distillmos.expert import EXPECTED, UpstreamExpert

    if not ckpt:
        raise ValueError(f"distillmos_local needs -k FILE: {EXPECTED}; `-u distillmos` reads the package's weights")
    if model_config is not None:
        raise ValueError("distillmos_local takes no -g/model_config: the architecture is the owners' class")
    return UpstreamExpert(ckpt, upstream="distillmos_local", **kwargs)


def distillmos(ckpt=None, model_config=None, refresh=False, **kwargs):
    """DistillMOS with the weights its package ships (or ``ckpt`` when given)."""
    from care_superb.upstream.distillmos.expert import UpstreamExpert

    if model_config is not None:
        raise ValueError("distillmos takes no -g/model_config: the architecture is the owners' class")
    return UpstreamExpert(ckpt or packaged_weights(), upstream="distillmos", **kwargs)


def packaged_weights() -> Path:
    """The owners' file inside the installed package: read, never written."""
    from distillmos.sqa import DEFAULT_WEIGHTS_CHKPT

    return Path(DEFAULT_WEIGHTS_CHKPT)


def _build(out: Path, size: str, seed: int) -> Path:
    """The owners' class with torch's random initialisation, saved in the owners' layout plus our record."""
    import torch

    from care_superb.upstream.checkpoints import MARKER_KEY, make_metadata
    from care_superb.upstream.distillmos.expert import owners_model

    torch.manual_seed(seed)
    model = owners_model()
    out = out / "distill_mos.random.pt" if out.is_dir() else out
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), MARKER_KEY: make_metadata(
        True, f"care-superb baseline-init distillmos --size {size} --seed {seed}", family="distillmos",
        size=size, seed=seed, description="random DistillMOS: torch's initialisation of the owners' class")}, out)
    return out


def _recognise(path, payload):
    keys = state_keys(payload) if payload is not None else ()
    if any(k.startswith("cnn.cnn.") for k in keys) and any(k.startswith("transformer_pool_attn.") for k in keys):
        return Found("a DistillMOS checkpoint", ("distillmos_local", "distillmos"))
    return None


RANDOM_CHECKPOINTS = [
    RandomCheckpoint("distillmos", "DistillMOS (its one size, 4.2M parameters) as the owners' .pt file", _build,
                     {"distillmos_local": (8, 200), "distillmos": (8, 200)}, released_readers=("distillmos",),
                     sizes=("base",), not_in_hidden_states=("model.transformer_pool_attn.norm_trans.",
                                                            "model.transformer_pool_attn.pool.")),
]
RECOGNISERS = [_recognise]
EXTRA = "distillmos"
LISTING = [
    ("`distillmos` / `distillmos_local`", "the weights the `distillmos` package ships (`distill_mos_v7.pt`; "
     "`-k FILE` for another file of that layout)",
     "DistillMOS (Stahl & Gamper 2025), a speech-quality model distilled from an XLS-R one, through the owners' "
     "class: a CNN on the compressed complex spectrogram, then a 7-layer transformer over 7.68 s windows",
     "8 × 200 at 50 Hz: the transformer's input, then each layer's output"),
]
