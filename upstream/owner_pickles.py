"""What the owners' released checkpoints pickle besides tensors, read without running any code.

Every checkpoint file is read with ``torch.load(weights_only=True)``: torch's restricted unpickler
builds tensors and plain containers, and any other class only when it is allowed by name. The
allowed classes are exactly those the owners' releases and their trainers are known to write:

* ``argparse.Namespace``: fairseq's ``args`` (before its hydra configs, and next to them as None);
* omegaconf's ``DictConfig`` / ``ListConfig`` with their metadata and value nodes (``typing.Any``,
  builtin types, ``collections.defaultdict`` as their metadata refers to them): a ``cfg`` saved
  as a config object rather than a dict (fairseq's own trainer saves ``OmegaConf.to_container``;
  other hydra-based training code saves the object, as reported for pyannote and WhisperX files);
  a structured config refers to its dataclass and stays refused;
* numpy scalars and arrays of numbers, booleans or strings: losses, metrics and learning-rate
  scheduler state in fairseq's ``extra_state`` / ``optimizer_history`` and funasr's trainer state
  (object arrays stay refused);
* fairseq's ``Dictionary`` (``task_state.dictionaries`` of fairseq's HuBERT checkpoints, e.g.
  hubert_base_ls960.pt), read by name into :class:`FairseqDictionary`, a plain record of its
  attributes: fairseq is not needed and none of its code runs.

Anything else (a whole pickled model, an enum, a dataclass config, a class of an unknown trainer)
stays refused, and the error names the file and every class it refused. The optimizer and trainer
state of a training checkpoint (:data:`TRAINING_STATE`) is dropped after reading: with a memory-
mapped load its tensors were never read.
"""
from __future__ import annotations

import contextlib
import functools
import os
import pickle
import re
from typing import Any, Iterator

from care_superb.upstream.checkpoints import UpstreamCheckpointError

# Top-level entries of training checkpoints that only resuming training reads: fairseq
# (last_optimizer_state, optimizer_history, extra_state), funasr (optimizer, scheduler, scaler_state),
# PyTorch Lightning (optimizer_states, lr_schedulers).
TRAINING_STATE = ("last_optimizer_state", "optimizer_history", "extra_state", "optimizer", "scheduler",
                  "scaler_state", "optimizer_states", "lr_schedulers")
FAIRSEQ_DICTIONARY = "fairseq.data.dictionary.Dictionary"


class FairseqDictionary:
    """fairseq's ``Dictionary`` as pickled: ``symbols``, ``count``, ``indices`` and the special
    symbols' indices, set as attributes (no methods of fairseq's)."""

    symbols: list[str]


class RefusedPickleError(UpstreamCheckpointError):
    """A checkpoint that pickles classes outside :func:`allowed_globals`."""

    def __init__(self, path: str | os.PathLike, refused: list[str]):
        self.path, self.refused = str(path), refused
        super().__init__(
            f"{path}: holds {', '.join(refused)}, which care-superb does not unpickle. It reads tensors, "
            f"plain containers and the classes the owners' released checkpoints hold (argparse.Namespace, "
            f"omegaconf configs, numpy numbers, fairseq's Dictionary), and runs no code from the file. "
            f"A whole pickled model or another trainer's state needs its owners' code to be converted to "
            f"a dict of tensors first.")


@functools.lru_cache(maxsize=1)
def allowed_globals() -> tuple[tuple[Any, str], ...]:
    """(object, the name it is pickled under) for every class allowed besides torch's defaults."""
    import argparse
    import collections
    import typing

    import numpy as np
    from omegaconf import DictConfig, ListConfig, base, nodes

    allowed: list[tuple[Any, str]] = [(argparse.Namespace, "argparse.Namespace"),
                                      (FairseqDictionary, FAIRSEQ_DICTIONARY)]
    for cls in (DictConfig, ListConfig, base.ContainerMetadata, base.Metadata, nodes.AnyNode, nodes.StringNode,
                nodes.IntegerNode, nodes.FloatNode, nodes.BooleanNode):
        allowed.append((cls, f"{cls.__module__}.{cls.__qualname__}"))
    # what the configs' metadata refers to: element, key and object types
    allowed += [(typing.Any, "typing.Any"), (collections.defaultdict, "collections.defaultdict")]
    allowed += [(t, f"builtins.{t.__name__}") for t in (dict, list, int, float, bool, str)]
    # numpy scalars and arrays: pickled as numpy.core.* by numpy 1, numpy._core.* by numpy 2
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed += [(np.core.multiarray.scalar, f"{module}.scalar"),
                    (np.core.multiarray._reconstruct, f"{module}._reconstruct")]
    allowed += [(np.ndarray, "numpy.ndarray"), (np.dtype, "numpy.dtype")]
    for code in "?bBhHiIlLqQefdgFDGSU":  # numbers, booleans, bytes, str; not object ("O")
        dtype_class = type(np.dtype(code))
        allowed.append((dtype_class, f"{dtype_class.__module__}.{dtype_class.__name__}"))
    return tuple(allowed)


@contextlib.contextmanager
def owner_globals() -> Iterator[None]:
    """torch's weights-only unpickler, also for loaders we call (s3prl's, fairseq2's), allowing
    :func:`allowed_globals` and nothing else."""
    import torch

    with torch.serialization.safe_globals(list(allowed_globals())):
        yield


def load(path: str | os.PathLike) -> Any:
    """``torch.load`` of a checkpoint file on the CPU with no code run (memory-mapped when the
    file allows it, so that identifying a 2 GB file reads almost nothing); training state dropped."""
    import torch

    try:
        with owner_globals():
            try:
                payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as error:
                if "mmap" not in str(error):
                    raise
                payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise RefusedPickleError(path, refused_globals(path, error)) from error
    if isinstance(payload, dict):
        for key in TRAINING_STATE:
            payload.pop(key, None)
    return payload


def refused_globals(path: str | os.PathLike, error: Exception) -> list[str]:
    """The classes and functions in ``path`` outside the allow-list (every one, not only the first
    the unpickler met), else what the unpickler's message names."""
    import torch

    allowed = {name for _, name in allowed_globals()}
    try:
        names = [n for n in torch.serialization.get_unsafe_globals_in_checkpoint(path) if n not in allowed]
    except Exception:  # noqa: BLE001 - a legacy (non-zip) file: fall back on the message
        names = []
    message = str(error)
    names += [n for n in re.findall(r"GLOBAL (\S+) was not an allowed global", message) if n not in names]
    names += [n for n in re.findall(r"but got <class '([^']+)'>", message) if n not in names]
    return sorted(set(names)) or [f"something torch's weights-only unpickler refuses ({message.splitlines()[-1][:200]})"]
