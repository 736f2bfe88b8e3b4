"""Utterances -> (waveform, target, key) batches for s3prl's runner."""
from __future__ import annotations

from torch.utils.data import DataLoader, Dataset

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


def make_loader(dataset: UtteranceDataset, batch_size: int, train: bool, num_workers: int, collate_targets) -> DataLoader:
    def collate(items):
        wavs, targets, keys = zip(*items)
        return list(wavs), collate_targets(list(targets)), list(keys)

    return DataLoader(dataset, batch_size=batch_size, shuffle=train, drop_last=False,
                      num_workers=num_workers, collate_fn=collate)
