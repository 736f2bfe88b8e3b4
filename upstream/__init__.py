"""Upstream models: audio in, layer-wise hidden states out (s3prl's upstream contract).

Each model lives in its own folder with a ``hubconf.py`` whose ``__all__`` lists the names it
adds to ``s3prl.hub``. Adding a baseline = one folder + one line in ``HUBCONFS``.

An upstream may carry a ``provenance`` attribute (a dict: which checkpoint, how it was made);
the entries registered in ``s3prl.hub`` remember it so that result rows can report it.
"""
from __future__ import annotations

import functools
import importlib
from typing import Callable

HUBCONFS = (
    "care_superb.upstream.care.hubconf",
)

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
