"""Random-weight checkpoints of every registered upstream, built from its owners' config.

Each upstream folder's ``hubconf.py`` lists, in ``RANDOM_CHECKPOINTS``, how to write a checkpoint
of its model with random weights at a size (``tiny`` for tests, ``base`` for the paper's size) in
the format its ``-u`` names read, and what hidden states those names give at the tiny size. This
is what ``care-superb baseline-init`` runs, what the benchmark runner calls
(:func:`baseline_init`), and what puts every registered name under the upstream contract test
(tests/test_upstream_contract.py): registering a name without a way to build its checkpoint fails
that test.

Everything written says ``random_weights: true`` in its provenance record, and so does every
result row computed from it.
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Callable

SIZES = ("tiny", "base")


@dataclasses.dataclass(frozen=True)
class RandomCheckpoint:
    """How to build one family's random checkpoint, and who reads it.

    build: ``(out, size, seed) -> path written`` (a file or a folder, the owners' layout).
    readers: ``-u`` name -> (hidden-state count, width) at the tiny size.
    default_readers: names that read ``default_path()`` instead of ``-k``.
    """

    family: str
    description: str
    build: Callable[[Path, str, int], Path]
    readers: dict[str, tuple[int, int]]
    default_readers: tuple[str, ...] = ()
    default_path: Callable[[], Path] | None = None
    sizes: tuple[str, ...] = SIZES


def random_checkpoints() -> dict[str, RandomCheckpoint]:
    """Every family of every registered upstream folder (``HUBCONFS``), by family name."""
    from care_superb.upstream import HUBCONFS

    families: dict[str, RandomCheckpoint] = {}
    for module_name in HUBCONFS:
        for spec in getattr(importlib.import_module(module_name), "RANDOM_CHECKPOINTS", ()):
            if spec.family in families:
                raise ValueError(f"random-checkpoint family {spec.family!r} is defined twice ({module_name})")
            families[spec.family] = spec
    return families


def baseline_init(family: str, size: str, out: str | Path, seed: int = 0) -> Path:
    """Write ``family``'s checkpoint with random weights at ``size`` to ``out``; returns its path."""
    families = random_checkpoints()
    if family not in families:
        raise ValueError(f"unknown family {family!r}; choose from {', '.join(sorted(families))}")
    spec = families[family]
    if size not in spec.sizes:
        raise ValueError(f"{family} has sizes {', '.join(spec.sizes)}, not {size!r}")
    return spec.build(Path(out).expanduser(), size, seed)
