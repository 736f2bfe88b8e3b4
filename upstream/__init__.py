"""Upstream models: audio in, layer-wise hidden states out (s3prl's upstream contract).

Each model lives in its own folder with a ``hubconf.py`` whose ``__all__`` lists the names it
adds to ``s3prl.hub`` and whose ``RANDOM_CHECKPOINTS`` says how to build its checkpoint with random
weights (``baselines.py``). Adding a baseline = one folder + one line in ``HUBCONFS``; being listed
here is what puts its names under the upstream contract test.

An upstream carries a ``provenance`` dict (``ckpt``, ``random_weights``, ``description``, ...);
the entries registered in ``s3prl.hub`` remember it so that result rows can report it. s3prl's own
loaders of the owners' formats (``wavlm_local``, ``hubert_local``, ``data2vec_local``) are wrapped
only to check the file first and to record the same provenance (``S3PRL_LOCAL``).
"""
from __future__ import annotations

import functools
import importlib
from typing import Callable

HUBCONFS = (
    "care_superb.upstream.care.hubconf",
    "care_superb.upstream.hf_speech.hubconf",
    "care_superb.upstream.emotion2vec.hubconf",
    "care_superb.upstream.sonar.hubconf",
    "care_superb.upstream.whisper.hubconf",
    "care_superb.upstream.asr_text.hubconf",
)
# s3prl's name -> (its hubconf module, the family whose owners' format it reads)
S3PRL_LOCAL = {
    "wavlm_local": ("s3prl.upstream.wavlm.hubconf", "wavlm"),
    "hubert_local": ("s3prl.upstream.hubert.hubconf", "hubert"),
    "data2vec_local": ("s3prl.upstream.data2vec.hubconf", "data2vec"),
}

_LOADED: dict[str, dict] = {}


def hub_entries() -> dict[str, Callable]:
    """Every upstream name we add to ``s3prl.hub``, mapped to its (recording) entry function."""
    entries: dict[str, Callable] = {}
    for module_name in HUBCONFS:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name in entries:
                raise ValueError(f"upstream name {name!r} is defined twice ({module_name})")
            entries[name] = _recording(name, getattr(module, name))
    return entries


def s3prl_local_entries() -> dict[str, Callable]:
    """s3prl's own ``*_local`` loaders of the owners' formats, checking and recording."""
    entries = {}
    for name, (module_name, family) in S3PRL_LOCAL.items():
        original = getattr(importlib.import_module(module_name), name)
        entries[name] = _recording(name, functools.partial(_s3prl_local, name, family, original))
    return entries


def _s3prl_local(name: str, family: str, original: Callable, ckpt=None, *args, **kwargs):
    from care_superb.upstream.checkpoints import identify, load_payload, mismatch, provenance
    from care_superb.upstream.hf_speech.families import FAMILIES

    if not ckpt or name not in identify(ckpt).readers:
        raise mismatch(ckpt, name, FAMILIES[family].owner_format)
    model = original(ckpt, *args, **kwargs)
    record = load_payload(ckpt).get("care_superb")
    model.provenance = provenance(ckpt, f"{FAMILIES[family].title} through s3prl's own {name}", record)
    return model


def _recording(name: str, entry: Callable) -> Callable:
    @functools.wraps(entry)
    def build(*args, **kwargs):
        model = entry(*args, **kwargs)
        _LOADED[name] = dict(getattr(model, "provenance", None) or {"ckpt": kwargs.get("ckpt")})
        return model

    return build


def loaded_upstream(name: str | None) -> dict | None:
    """Provenance of the upstream ``name`` as last built in this process (None for s3prl's own)."""
    return _LOADED.get(name) if name else None
