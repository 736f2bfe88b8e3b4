"""Utterances -> (waveform, target, key) batches for s3prl's runner."""
from __future__ import annotations

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from care_superb.downstream.audio import load_audio
from care_superb.downstream.corpus import Utterance


class UtteranceDataset(Dataset):
    def __init__(self, utterances: list[Utterance], targets: list, audio: dict):
        self.utterances, self.targets, self.audio = utterances, targets, audio

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, i: int):
        utt = self.utterances[i]
        wav = load_audio(utt.path, start=utt.start, end=utt.end, **self.audio)
        return wav, self.targets[i], utt.key


class MinimumBatchSampler(BatchSampler):
    """Batches of ``batch_size``, except that a last batch smaller than ``min_batch`` joins the one
    before it: no utterance is dropped, and an objective that needs several samples per batch
    (CCC needs two) never gets fewer."""

    def __init__(self, sampler, batch_size: int, min_batch: int):
        super().__init__(sampler, batch_size, drop_last=False)
        self.min_batch = min_batch

    def __iter__(self):
        # Lazy: the order is drawn at the first batch, once. (Drawn eagerly, it was drawn twice with
        # num_workers >= 1, since torch's worker iterator calls iter() twice: the same --seed gave
        # other batches with 0 and 1 workers, and the cached engine could not follow.)
        batches = super().__iter__()
        previous = next(batches, None)
        for batch in batches:
            if len(batch) < self.min_batch:  # only the last batch can be short
                previous = previous + batch
                continue
            yield previous
            previous = batch
        if previous is not None:
            yield previous

    def __len__(self) -> int:
        n = super().__len__()
        tail = len(self.sampler) % self.batch_size
        return n - 1 if n > 1 and 0 < tail < self.min_batch else n


def make_loader(dataset: UtteranceDataset, batch_size: int, train: bool, num_workers: int, collate_targets,
                min_batch: int = 1, generator: torch.Generator | None = None) -> DataLoader:
    """``generator``: the train order's own generator (None: torch's global one)."""
    def collate(items):
        wavs, targets, keys = zip(*items)
        return list(wavs), collate_targets(list(targets)), list(keys)

    sampler = RandomSampler(dataset, generator=generator) if train else SequentialSampler(dataset)
    return DataLoader(dataset, batch_sampler=MinimumBatchSampler(sampler, batch_size, min_batch),
                      num_workers=num_workers, collate_fn=collate)
