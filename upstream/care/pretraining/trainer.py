"""The pre-training loop: 5 s crops, AdamW, validation, best and last checkpoints, exact resume.

Every random choice is a pure function of (seed, step): the data order of epoch e is a
permutation drawn from (seed, e), the crop of the j-th utterance of step s from (seed, s, j), and
dropout draws from a generator re-seeded with (seed, s) before each step. So a run killed at any
point and resumed from its last ``state.pt`` (model, optimizer, scheduler, scaler, step, best
loss, RNG states) makes exactly the updates an uninterrupted run makes, and ends with the same
weights (tested).

Since a step's batch depends on nothing but (seed, step), ``--workers`` DataLoader processes build
the next batches (``Batches``: crops read by memory map from the decoded-audio cache, targets
aligned to them) while the model trains on this one, with the same result as building them in
the loop (tested). The time the loop waits for a batch is measured (``data_wait`` in report.json
and TensorBoard's ``perf/data_wait_fraction``).

Output folder::

    best.pt        CARE checkpoint with the lowest validation loss (what `-u care_local -k` loads)
    last.pt        CARE checkpoint after the last step
    step<N>.pt     with --keep-checkpoints: the checkpoint of every validation point
    state.pt       everything needed to resume (written atomically every --save-every steps)
    tensorboard/   loss curves (train and validation, per loss)
    report.json    the split, the utterances left out and why, the validation history
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from care_superb.upstream.care.checkpoint import save_checkpoint
from care_superb.upstream.care.model import CareModel
from care_superb.upstream.care.pretraining import inputs, recipe
from care_superb.upstream.care.pretraining.cache import Prepared, read_crop


@dataclasses.dataclass
class Settings:
    """The recipe's numbers (defaults: the paper's) and the loop's bookkeeping."""

    steps: int = 100_000
    batch_size: int = 8
    lr: float = 1e-5
    betas: tuple[float, float] = (0.9, 0.99)
    eps: float = 1e-6
    weight_decay: float = 0.0
    warmup_steps: int = 0  # linear warm-up, then constant (the paper names no schedule)
    crop_seconds: float = 5.0
    valid_fraction: float = 0.1
    valid_every: int = 5000
    save_every: int = 500
    log_every: int = 10
    seed: int = 0
    losses: str = "both"  # both | semantic | acoustic
    front_end: str = "frozen"  # frozen (the recipe) | trained (by the semantic loss; random speech sides)
    semantic_weight: float = 1.0
    acoustic_weight: float = 1.0
    shuffle_targets: bool = False  # a control: each utterance trains on another's teacher vector
    device: str = "auto"  # auto | cpu | cuda
    amp: str = "auto"  # auto (bf16/fp16 on CUDA, off on the CPU) | off
    workers: int = 2  # DataLoader processes building batches (0: in the loop); the result is the same
    keep_checkpoints: bool = False  # also keep step<N>.pt at every validation point (to choose on dev)

    def run_identity(self) -> dict:
        """What must not change between a run and its resumption (``steps`` may grow)."""
        out = dataclasses.asdict(self)
        for key in ("steps", "log_every", "save_every", "device", "amp", "workers", "keep_checkpoints"):
            out.pop(key)
        out["betas"] = list(out["betas"])
        if not out["shuffle_targets"]:  # runs from before the control existed resume as they were
            out.pop("shuffle_targets")
        return out


class ResumeError(ValueError):
    """``state.pt`` belongs to a different run."""


def _seed_from(*parts: int) -> int:
    return int(np.random.default_rng(list(parts)).integers(2**62))


def split(items: list[Prepared], fraction: float, seed: int) -> tuple[list[Prepared], list[Prepared]]:
    """(train, valid): a seeded draw that depends on each key only, not on the other files."""
    if len(items) < 2:
        raise ValueError(f"pre-training needs at least 2 usable utterances (one for validation), got {len(items)}")
    ranked = sorted(items, key=lambda p: hashlib.sha256(f"{seed}:{p.key}".encode()).hexdigest())
    n_valid = min(len(items) - 1, max(1, round(fraction * len(items))))
    valid = sorted(ranked[:n_valid], key=lambda p: p.key)
    train = sorted(ranked[n_valid:], key=lambda p: p.key)
    return train, valid


def shuffled_targets(items: list[Prepared], seed: list[int]) -> list[Prepared]:
    """The control of ``--shuffle-targets``: the same utterances, each with the teacher vector of
    another (a seeded derangement), so that the semantic target says nothing about its audio
    while keeping the targets' distribution."""
    if len(items) < 2:
        return items
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(items))
    given = np.roll(order, 1)  # each utterance in the cycle gets its predecessor's: no fixed point
    semantic = [items[i].semantic for i in range(len(items))]
    out = list(items)
    for i, j in zip(order, given):
        out[i] = dataclasses.replace(items[i], semantic=semantic[j])
    return out


class Batches(torch.utils.data.Dataset):
    """Step -> that step's batch, a pure function of (seed, step): which utterances (an epoch's
    seeded permutation), where each is cropped (whole frames, so the acoustic targets stay
    aligned), the audio and the targets. Item ``i`` is step ``first + i``; picklable, so that
    DataLoader workers build batches ahead of the loop."""

    def __init__(self, items: list[Prepared], settings: Settings, hop: int, semantic_transform=None,
                 first: int = 0, last: int = 0):
        self.items, self.seed, self.size = items, settings.seed, settings.batch_size
        self.crop = int(round(settings.crop_seconds * inputs.SAMPLE_RATE))
        self.hop, self.semantic_transform = hop, semantic_transform
        self.first, self.last = first, last
        self._orders: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return max(self.last - self.first, 0)

    def __getitem__(self, i: int) -> dict:
        step = self.first + i
        items = self.pick(step)
        return self.make(items, self.starts(items, step))

    def order(self, epoch: int) -> np.ndarray:
        if epoch not in self._orders:
            self._orders = {epoch: np.random.default_rng([self.seed, 1, epoch]).permutation(len(self.items))}
        return self._orders[epoch]

    def pick(self, step: int) -> list[Prepared]:
        picked = []
        for i in range(step * self.size, (step + 1) * self.size):
            epoch, position = divmod(i, len(self.items))
            picked.append(self.items[int(self.order(epoch)[position])])
        return picked

    def starts(self, items: list[Prepared], step: int) -> list[int]:
        """A random crop per utterance, in whole frames."""
        starts = []
        for j, item in enumerate(items):
            room = max(item.samples - self.crop, 0) // self.hop
            starts.append(int(np.random.default_rng([self.seed, 2, step, j]).integers(room + 1)))
        return starts

    def make(self, items: list[Prepared], starts: list[int]) -> dict:
        """Audio from frame ``starts[j]`` on, at most ``crop`` samples; targets aligned to it."""
        waves, semantic, acoustic = [], [], []
        for item, start in zip(items, starts):
            waves.append(torch.from_numpy(read_crop(item, start * self.hop, self.crop)))
            if item.semantic is not None:
                vector = np.load(item.semantic)
                semantic.append(torch.from_numpy(self.semantic_transform(vector) if self.semantic_transform else vector))
            if item.acoustic is not None:
                frames = np.load(item.acoustic, mmap_mode="r")
                acoustic.append(torch.from_numpy(np.array(frames[start: start + self.crop // self.hop + 1])))
        lengths = torch.tensor([len(w) for w in waves], dtype=torch.long)
        batch = {"waves": torch.nn.utils.rnn.pad_sequence(waves, batch_first=True), "lengths": lengths}
        if semantic:
            batch["semantic"] = torch.stack(semantic).float()
        if acoustic:
            batch["acoustic"] = torch.nn.utils.rnn.pad_sequence(acoustic, batch_first=True).float()
            batch["acoustic_frames"] = torch.tensor([len(a) for a in acoustic], dtype=torch.long)
        return batch


class Trainer:
    def __init__(self, model: CareModel, metadata: dict, items: list[Prepared], out: str | Path,
                 settings: Settings, identity: dict, semantic_transform=None):
        """model: the initial CARE; metadata: its checkpoint metadata plus ``pretraining`` facts;
        identity: what the targets and inputs were (part of the resume check);
        semantic_transform: a function on teacher vectors (a PCA projection) or None."""
        self.settings = s = settings
        self.out = Path(out).expanduser()
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if s.device == "auto" else s.device)
        self.model = model.to(self.device)
        self.metadata = metadata
        self.semantic_transform = semantic_transform
        self.train_items, self.valid_items = split(items, s.valid_fraction, s.seed)
        if s.shuffle_targets:
            self.train_items = shuffled_targets(self.train_items, [s.seed, 4, 0])
            self.valid_items = shuffled_targets(self.valid_items, [s.seed, 4, 1])
        self.trained = recipe.configure(self.model, s.losses, s.front_end)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=s.lr, betas=tuple(s.betas), eps=s.eps,
                                           weight_decay=s.weight_decay)
        warmup = max(s.warmup_steps, 0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: min(1.0, (step + 1) / warmup) if warmup else 1.0)
        self.amp_dtype = None
        if self.device.type == "cuda" and s.amp == "auto":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.hop = model.config.downsample_rate
        self.batches = Batches(self.train_items, s, self.hop, semantic_transform)
        self.identity = {"settings": s.run_identity(), **identity,
                         "train": [(p.key, p.audio_hash) for p in self.train_items],
                         "valid": [(p.key, p.audio_hash) for p in self.valid_items]}
        self.step = 0
        self.best = {"loss": math.inf, "step": None}
        self.history: list[dict] = []
        self.data_wait = {"seconds": 0.0, "step_seconds": 0.0, "steps": 0}

    # ---- data ----------------------------------------------------------------------------------
    def make_batch(self, items: list[Prepared], starts: list[int]) -> dict:
        return self.to_device(self.batches.make(items, starts))

    def to_device(self, batch: dict) -> dict:
        return {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    def loader(self):
        """This run's remaining batches, in step order, built by ``workers`` processes ahead."""
        batches = Batches(self.train_items, self.settings, self.hop, self.semantic_transform,
                          first=self.step, last=self.settings.steps)
        workers = self.settings.workers
        return torch.utils.data.DataLoader(
            batches, batch_size=None, shuffle=False, num_workers=workers, pin_memory=self.device.type == "cuda",
            prefetch_factor=4 if workers else None, persistent_workers=False)

    # ---- one step, validation ------------------------------------------------------------------
    def _losses(self, batch: dict) -> dict[str, torch.Tensor]:
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            return recipe.losses_of(self.model, batch, self.settings.losses)

    def total(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        s = self.settings
        weights = {"semantic": s.semantic_weight, "acoustic": s.acoustic_weight}
        return sum(weights[name] * value for name, value in losses.items())

    def train_step(self, batch: dict | None = None) -> dict[str, float]:
        """One update on ``batch`` (default: this step's, built here)."""
        if batch is None:
            batch = self.batches[self.step]
        batch = self.to_device(batch)
        torch.manual_seed(_seed_from(self.settings.seed, 3, self.step))  # dropout of this step
        recipe.train_mode(self.model, self.settings.front_end)
        self.optimizer.zero_grad(set_to_none=True)
        losses = self._losses(batch)
        self.scaler.scale(self.total(losses)).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.step += 1
        return {name: float(value.detach()) for name, value in losses.items()}

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean losses over the validation utterances (their first 5 s), in eval mode."""
        self.model.eval()
        sums: dict[str, float] = {}
        size = self.settings.batch_size
        for first in range(0, len(self.valid_items), size):
            items = self.valid_items[first: first + size]
            losses = self._losses(self.make_batch(items, [0] * len(items)))
            losses["total"] = self.total(losses)
            for name, value in losses.items():
                sums[name] = sums.get(name, 0.0) + float(value) * len(items)
        return {name: value / len(self.valid_items) for name, value in sums.items()}

    # ---- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "best": self.best,
            "history": self.history,
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                    "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
        }

    def save_state(self) -> None:
        tmp = self.out / ".state.pt.partial"
        torch.save(self.state(), tmp)
        os.replace(tmp, self.out / "state.pt")

    def resume(self) -> bool:
        """Load ``state.pt`` when there is one; ResumeError when it is another run's."""
        path = self.out / "state.pt"
        if not path.is_file():
            return False
        state = torch.load(path, map_location=self.device, weights_only=False)  # our own file
        if state["identity"] != self.identity:
            differs = sorted(k for k in set(state["identity"]) | set(self.identity)
                             if state["identity"].get(k) != self.identity.get(k))
            raise ResumeError(
                f"{path} belongs to a different pre-training run (differs in: {', '.join(differs)}); "
                "resume with the same inputs and settings (only --steps may grow), choose another "
                "--out, or pass --restart to start over in this folder"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.step, self.best, self.history = state["step"], state["best"], state["history"]
        torch.set_rng_state(state["rng"]["torch"].cpu())
        np.random.set_state(state["rng"]["numpy"])
        random.setstate(state["rng"]["python"])
        if state["rng"]["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        return True

    def checkpoint_metadata(self, kind: str) -> dict:
        meta = dict(self.metadata)
        facts = dict(meta.get("pretraining") or {})
        facts.update(steps=self.step, checkpoint=kind, best_valid_loss=self.best["loss"],
                     best_step=self.best["step"], valid_history=self.history[-20:])
        meta["pretraining"] = facts
        meta["created_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return meta

    # ---- the loop ------------------------------------------------------------------------------
    def fit(self, progress: bool = True) -> dict:
        from tensorboardX import SummaryWriter

        s = self.settings
        resumed_from = self.step
        writer = SummaryWriter(str(self.out / "tensorboard"), purge_step=self.step or None)
        bar = tqdm(total=s.steps, initial=self.step, desc="pretrain", unit="step", disable=not progress)
        start = time.perf_counter()
        running: dict[str, float] = {}
        wait = {"seconds": 0.0, "step_seconds": 0.0, "steps": 0}  # since the last log line
        batches = iter(self.loader())
        while self.step < s.steps:
            asked = time.perf_counter()
            batch = next(batches)
            got = time.perf_counter()
            losses = self.train_step(batch)
            done = time.perf_counter()
            for totals in (wait, self.data_wait):
                totals["seconds"] += got - asked
                totals["step_seconds"] += done - asked
                totals["steps"] += 1
            for name, value in losses.items():
                running[name] = running.get(name, 0.0) + value
            if self.step % s.log_every == 0 or self.step == s.steps:
                n = s.log_every if self.step % s.log_every == 0 else self.step % s.log_every
                for name, value in running.items():
                    writer.add_scalar(f"train/{name}", value / n, self.step)
                writer.add_scalar("train/lr", self.scheduler.get_last_lr()[0], self.step)
                writer.add_scalar("perf/data_wait_fraction", wait["seconds"] / max(wait["step_seconds"], 1e-9), self.step)
                writer.add_scalar("perf/steps_per_second", wait["steps"] / max(wait["step_seconds"], 1e-9), self.step)
                bar.set_postfix({k: f"{v / n:.4f}" for k, v in running.items()})
                running, wait = {}, {"seconds": 0.0, "step_seconds": 0.0, "steps": 0}
            bar.update(1)
            if self.step % s.valid_every == 0 or self.step == s.steps:
                self._validation_point(writer)
            if self.step % s.save_every == 0 or self.step == s.steps:
                self.save_state()
        bar.close()
        writer.close()
        if not (self.out / "best.pt").is_file():  # resumed after the last step: validate once
            self._validation_point(None)
        save_checkpoint(self.out / "last.pt", self.model, self.checkpoint_metadata("last"))
        return {"steps": self.step, "resumed_from": resumed_from, "best": self.best,
                "seconds": time.perf_counter() - start, "data_wait": self.data_wait_summary()}

    def data_wait_summary(self) -> dict:
        """Steps per second and the share of step time spent waiting for a batch, this session."""
        w = self.data_wait
        return {"steps": w["steps"], "steps_per_second": w["steps"] / max(w["step_seconds"], 1e-9),
                "wait_fraction": w["seconds"] / max(w["step_seconds"], 1e-9), "workers": self.settings.workers}

    def _validation_point(self, writer) -> None:
        losses = self.validate()
        self.history.append({"step": self.step, **losses})
        if self.settings.keep_checkpoints:
            save_checkpoint(self.out / f"step{self.step}.pt", self.model, self.checkpoint_metadata(f"step{self.step}"))
        if writer is not None:
            for name, value in losses.items():
                writer.add_scalar(f"valid/{name}", value, self.step)
        if losses["total"] < self.best["loss"]:
            self.best = {"loss": losses["total"], "step": self.step}
            save_checkpoint(self.out / "best.pt", self.model, self.checkpoint_metadata("best"))
        tqdm.write(f"step {self.step}: validation " + ", ".join(f"{k} {v:.4f}" for k, v in losses.items())
                   + f" (best {self.best['loss']:.4f} at step {self.best['step']})")
