"""The upstreams. Every folder ``upstream/<name>/`` with a ``hubconf.py`` is one, found from the
folders on first use (as tasks are from ``downstream/<task>/task.py``): nothing else lists them.

What a ``hubconf.py`` declares, at module level:

- ``__all__``: the names it adds to ``s3prl.hub`` (s3prl's convention:
  ``name(ckpt=None, model_config=None, refresh=False, **kwargs)``);
- ``RANDOM_CHECKPOINTS``: ``baselines.RandomCheckpoint``s, how to write each family's checkpoint
  with random weights and which of its names read it (every name must be read by one: that is
  what puts it under the upstream contract test);
- ``RECOGNISERS`` (optional): functions ``(path, payload) -> checkpoints.Found | None`` telling its
  checkpoints apart by their layout; ``payload`` is a file's contents (a dict) or None for a
  folder. ``checkpoints.identify`` asks every folder's; ``FOLDER_LAYOUTS`` (optional) names what
  its recognisers look for in a folder, said when a folder matches none;
- ``EXTRA`` (optional): the setup.cfg extra its owners' code comes from, imported only when an
  upstream is built;
- ``TASK_LANGUAGE`` (optional): its names whose features depend on the task's language (asr_text
  transcribes in it): built with ``language=`` the task's, and cached per language by the benchmark;
- ``LISTING``: its rows of the upstream table in docs/upstreams.md, ``(-u, reads, what, hidden states)``
  (``python -m care_superb.upstream.registry`` prints the table; a test compares it with docs/upstreams.md).
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Callable

FOLDER = Path(__file__).resolve().parent
TABLE_HEAD = ("`-u`", "reads (`-k`)", "what", "hidden states")
TABLE_TAIL = ("s3prl's other names (`hubert`, `wavlm_base`, `fbank_no_cmvn`, …)", "as in s3prl", "unchanged",
              "as in s3prl")


@functools.cache
def hubconfs() -> dict[str, ModuleType]:
    """Folder name -> its ``hubconf`` module, for every ``upstream/<name>/hubconf.py``, by name."""
    modules = {}
    for info in sorted(pkgutil.iter_modules([str(FOLDER)]), key=lambda i: i.name):
        if info.ispkg and (FOLDER / info.name / "hubconf.py").is_file():
            modules[info.name] = _checked(importlib.import_module(f"care_superb.upstream.{info.name}.hubconf"))
    return modules


def _checked(module: ModuleType) -> ModuleType:
    from care_superb.upstream.baselines import RandomCheckpoint

    where = module.__file__
    names = getattr(module, "__all__", None)
    if not names or not all(isinstance(n, str) and callable(getattr(module, n, None)) for n in names):
        raise TypeError(f"{where} must list its s3prl.hub entry functions in __all__ (got {names!r})")
    specs = getattr(module, "RANDOM_CHECKPOINTS", None)
    if not specs or not all(isinstance(s, RandomCheckpoint) for s in specs):
        raise TypeError(f"{where}: RANDOM_CHECKPOINTS must list how to build its checkpoints with random weights "
                        f"(RandomCheckpoint(...)s; got {specs!r})")
    if not all(callable(r) for r in getattr(module, "RECOGNISERS", ())):
        raise TypeError(f"{where}: RECOGNISERS must hold functions (path, payload) -> Found | None")
    if not all(isinstance(row, tuple) and len(row) == len(TABLE_HEAD) for row in getattr(module, "LISTING", ())):
        raise TypeError(f"{where}: LISTING must hold rows {TABLE_HEAD} of the upstream table in docs/upstreams.md")
    return module


def recognisers() -> list[Callable]:
    """Every folder's ``RECOGNISERS``, folders in name order."""
    return [r for module in hubconfs().values() for r in getattr(module, "RECOGNISERS", ())]


def folder_layouts() -> list[str]:
    """Every folder's ``FOLDER_LAYOUTS``: what a checkpoint folder holds for some upstream to read it."""
    return [layout for module in hubconfs().values() for layout in getattr(module, "FOLDER_LAYOUTS", ())]


def batch_dependent() -> set[str]:
    """Names whose folder declares ``BATCH_DEPENDENT``: a padded batch does not give each utterance
    what it gets alone (the contract test holds every other name to that, and these to this)."""
    return {name for module in hubconfs().values() for name in getattr(module, "BATCH_DEPENDENT", ())}


def task_language_readers() -> set[str]:
    """Names whose folder declares ``TASK_LANGUAGE``: their features depend on the task's language."""
    return {name for module in hubconfs().values() for name in getattr(module, "TASK_LANGUAGE", ())}


def extras() -> dict[str, str]:
    """Folder name -> the setup.cfg extra its owners' code comes from (folders that need one)."""
    return {name: module.EXTRA for name, module in hubconfs().items() if getattr(module, "EXTRA", None)}


def table() -> str:
    """The upstream table of docs/upstreams.md: every folder's ``LISTING``, then s3prl's own names."""
    rows = [TABLE_HEAD, *(row for module in hubconfs().values() for row in getattr(module, "LISTING", ())), TABLE_TAIL]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([lines[0], "|" + "---|" * len(TABLE_HEAD), *lines[1:]])


if __name__ == "__main__":
    print(table())
