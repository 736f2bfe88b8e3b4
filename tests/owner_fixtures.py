"""Checkpoint files built the way the owners' trainers save them (``from owner_fixtures import ...``).

Our readers must take what the owners release, not only what our own writers write. Where the
owners' library is installed (funasr, fairseq2) the tests call it; fairseq (1) is not installable
here, so its objects are built by hand below, field for field as its trainer writes them
(``fairseq/trainer.py`` ``Trainer.state_dict`` and ``checkpoint_utils.save_checkpoint``).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import types
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf


def adam_state(state: dict[str, torch.Tensor]) -> dict:
    """A real ``torch.optim.Adam`` state after one step over the floating-point tensors of ``state``
    (fairseq's ``FairseqAdam`` and funasr's trainers save this structure)."""
    params = [torch.nn.Parameter(t.detach().clone().float()) for t in state.values()
              if isinstance(t, torch.Tensor) and t.is_floating_point()]
    optimizer = torch.optim.Adam(params, lr=5e-4, betas=(0.9, 0.98), eps=1e-6)
    sum(p.sum() for p in params).backward()
    optimizer.step()
    return optimizer.state_dict()


def fairseq_training_checkpoint(model: dict, cfg: dict, arch: str, task_state: dict | None = None) -> dict:
    """The entries fairseq's trainer writes, with ``cfg`` as an omegaconf ``DictConfig`` (fairseq's
    own trainer saves ``OmegaConf.to_container(cfg)``, a plain dict; the object is the harder case),
    the legacy ``args`` as an ``argparse.Namespace`` (older fairseq; None since), numpy
    scalars where its meters and its best-checkpoint tracking put them, a numpy array (reported in
    fairseq checkpoints: fairseq issue #5603), and Adam's state. Built by hand: fairseq is not
    installed."""
    return {
        "args": argparse.Namespace(arch=arch, lr=[0.0005], seed=1),
        "cfg": OmegaConf.create(cfg),
        "model": model,
        "criterion": None,
        "optimizer_history": [{"criterion_name": "ModelCriterion", "optimizer_name": "FairseqAdam",
                               "lr_scheduler_state": {"best": np.float64(2.375)}, "num_updates": 400000}],
        "task_state": task_state or {},
        "extra_state": {
            "metrics": {"train": [(0, "loss", "AverageMeter", {"val": np.float64(2.1), "sum": np.float64(21.0),
                                                               "count": 10, "round": 3})]},
            "previous_training_time": 123456.7,
            "train_iterator": {"version": 2, "epoch": 45, "iterations_in_epoch": 0, "shuffle": True},
            "val_loss": np.float64(2.4), "best": np.float32(2.375), "val_losses": np.array([2.6, 2.5, 2.4]),
        },
        "last_optimizer_state": adam_state(model),
    }


@contextlib.contextmanager
def fairseq_dictionary_class():
    """fairseq's ``Dictionary`` under its own module path (``fairseq.data.dictionary``), while a
    checkpoint holding one is saved: the attributes its ``__init__`` sets, pickled as fairseq
    pickles it (no ``__getstate__``). Built by hand: fairseq is not installed."""
    names = ("fairseq", "fairseq.data", "fairseq.data.dictionary")
    before = {name: sys.modules.get(name) for name in names}

    class Dictionary:
        def __init__(self, labels: list[str]):
            self.bos_word, self.unk_word, self.pad_word, self.eos_word = "<s>", "<unk>", "<pad>", "</s>"
            self.symbols, self.count, self.indices = [], [], {}
            for symbol in ["<s>", "<pad>", "</s>", "<unk>", *labels]:
                self.indices[symbol] = len(self.symbols)
                self.symbols.append(symbol)
                self.count.append(1)
            self.bos_index, self.pad_index, self.eos_index, self.unk_index = 0, 1, 2, 3
            self.nspecial = 4

    Dictionary.__module__, Dictionary.__qualname__ = "fairseq.data.dictionary", "Dictionary"
    for name in names:
        sys.modules[name] = types.ModuleType(name)
    sys.modules["fairseq.data.dictionary"].Dictionary = Dictionary
    try:
        yield Dictionary
    finally:
        for name, module in before.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def save(payload: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path
