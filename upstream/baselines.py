"""Random-weight checkpoints of every registered upstream, built from its owners' config.

Each upstream folder's ``hubconf.py`` lists, in ``RANDOM_CHECKPOINTS``, how to write a checkpoint
of its model with random weights at a size (``tiny`` for tests, ``base`` for the paper's size) in
the format its ``-u`` names read, and what hidden states those names give at its smallest size. This
is what ``care-superb baseline-init`` runs, what the benchmark runner calls
(:func:`baseline_init`), and what puts every registered name under the upstream contract test
(tests/test_upstream_contract.py): registering a name without a way to build its checkpoint fails
that test.

Everything written says ``random_weights: true`` in its provenance record, and so does every
result row computed from it.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path, PurePath
from typing import Callable

SIZES = ("tiny", "base")


@dataclasses.dataclass(frozen=True)
class RandomCheckpoint:
    """How to build one family's random checkpoint, and who reads it.

    build: ``(out, size, seed) -> path written``. ``out`` is the path the user gave
    (``baseline-init --out``; a test's ``tmp/<family>``, no suffix), not yet existing: the builder
    writes there the file or the folder its readers take, whatever the suffix, and returns what it
    wrote (a single-file builder may instead write its usual file name inside ``out`` when that is
    an existing folder; SONAR's does so for any ``out`` without a ``.pt`` suffix, as fairseq2 needs
    one). What it writes carries ``make_metadata(True, ...)``: under ``MARKER_KEY`` inside a
    single-file checkpoint, as ``care_superb.json`` (``write_marker_file``) in a folder.
    readers: ``-u`` name -> (hidden-state count, width) at its first size, ``tiny`` where it has
    one (for a name in ``released_readers``: of the weights it reads). The first that is neither a default nor a
    released reader is the one scripts read the built checkpoint with (:attr:`reader`).
    default_readers: names that, without ``-k``, read ``default_path()``: ``default_file``, a
    relative path under ``$CARE_SUPERB_HOME`` (tests point it at a temporary folder), where the
    user (and the contract test) may put a checkpoint. Never a path inside an installed package.
    released_readers: names that, without ``-k``, read weights their owners ship inside an
    installed package: never written to; the contract test runs them on those weights.
    not_in_hidden_states: name prefixes of parameters that feed no hidden state (pre-training
    heads, poolers), for the parameter counts of ``tools/baseline_speed.py``.
    """

    family: str
    description: str
    build: Callable[[Path, str, int], Path]
    readers: dict[str, tuple[int, int]]
    default_readers: tuple[str, ...] = ()
    default_file: str | None = None
    sizes: tuple[str, ...] = SIZES
    released_readers: tuple[str, ...] = ()
    not_in_hidden_states: tuple[str, ...] = ()

    def __post_init__(self):
        if bool(self.default_readers) != bool(self.default_file):
            raise ValueError(f"{self.family}: default_readers and default_file go together")
        if self.default_file and (PurePath(self.default_file).is_absolute() or ".." in PurePath(self.default_file).parts):
            raise ValueError(f"{self.family}: default_file {self.default_file!r} must be a relative path under "
                             "$CARE_SUPERB_HOME (what it reads is written there); weights that an installed "
                             "package ships are read by released_readers, never written")
        unknown = (set(self.default_readers) | set(self.released_readers)) - set(self.readers)
        if unknown:
            raise ValueError(f"{self.family}: {sorted(unknown)} are not among its readers")

    def default_path(self) -> Path:
        """Where the default readers look: ``$CARE_SUPERB_HOME/<default_file>``."""
        from care_superb.upstream.checkpoints import care_home

        if not self.default_file:
            raise ValueError(f"{self.family} has no default readers")
        return care_home() / self.default_file

    @property
    def reader(self) -> str:
        """The ``-u`` name that reads what :attr:`build` writes, given with ``-k``."""
        return next(n for n in self.readers if n not in self.default_readers + self.released_readers)


def random_checkpoints() -> dict[str, RandomCheckpoint]:
    """Every family of every upstream folder (``registry.py``), by family name."""
    from care_superb.upstream.registry import hubconfs

    families: dict[str, RandomCheckpoint] = {}
    for folder, module in hubconfs().items():
        for spec in getattr(module, "RANDOM_CHECKPOINTS", ()):
            if spec.family in families:
                raise ValueError(f"random-checkpoint family {spec.family!r} is defined twice "
                                 f"(the second in upstream/{folder}/hubconf.py)")
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
