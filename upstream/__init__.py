"""Upstream models: audio in, layer-wise hidden states out (s3prl's upstream contract).

Each model lives in its own folder ``upstream/<name>/`` with a ``hubconf.py``; the folders are
found by ``registry.py`` (what a hubconf declares is said there). Adding a baseline = one folder;
being found is what adds its names to ``s3prl.hub`` and puts them under the upstream contract
test. s3prl's own loaders of the owners' formats are one such folder too (``s3prl_local/``).

An upstream carries a ``provenance`` dict (``ckpt``, ``random_weights``, ``description``, ...);
the entries registered in ``s3prl.hub`` remember it so that result rows can report it.
"""
from __future__ import annotations

import functools
from typing import Callable

# s3prl's own names that no folder here registers, checked by the contract test as declared: a
# padded batch gives every utterance what it gets alone (to 1e-5). The cached engine serves a name
# only when that holds (``padded_equals_alone``).
S3PRL_OWN_PADDED_EQUALS_ALONE = {"fbank_no_cmvn": True, "fbank": True}

_LOADED: dict[str, dict] = {}


def padded_equals_alone(name: str) -> bool | None:
    """Whether ``-u name`` gives each utterance of a padded batch what it gets alone; None when
    that was never checked. Every registered name does, but those its folder declares
    ``BATCH_DEPENDENT`` (s3prl's ``*_local``)."""
    from care_superb.upstream.registry import batch_dependent, hubconfs

    if any(name in module.__all__ for module in hubconfs().values()):
        return name not in batch_dependent()
    return S3PRL_OWN_PADDED_EQUALS_ALONE.get(name)


def hub_entries() -> dict[str, Callable]:
    """Every upstream name we add to ``s3prl.hub``, mapped to its (recording) entry function."""
    from care_superb.upstream.registry import hubconfs

    entries: dict[str, Callable] = {}
    for folder, module in hubconfs().items():
        for name in module.__all__:
            if name in entries:
                raise ValueError(f"upstream name {name!r} is defined twice (the second in upstream/{folder}/hubconf.py)")
            entries[name] = _recording(name, getattr(module, name))
    return entries


def _recording(name: str, entry: Callable) -> Callable:
    @functools.wraps(entry)
    def build(*args, **kwargs):
        model = entry(*args, **kwargs)
        # The model's own dict, not a copy: what it learns later (asr_text's language, its count of
        # empty transcripts) reaches the row written at the end.
        recorded = getattr(model, "provenance", None)
        _LOADED[name] = recorded if isinstance(recorded, dict) else {"ckpt": kwargs.get("ckpt")}
        return model

    return build


def loaded_upstream(name: str | None) -> dict | None:
    """Provenance of the upstream ``name`` as last built in this process (None for s3prl's own)."""
    return _LOADED.get(name) if name else None
