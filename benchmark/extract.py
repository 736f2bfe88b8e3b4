"""Filling the feature cache: each upstream's forward once per utterance.

Planning (in the ``bench`` process) finds, per cache unit, the utterances its cells use and which
of them the cache lacks, and cuts those into batches of *equal-length* utterances: no batch has
padding, so what an utterance gets never depends on the others in its batch (s3prl's own
WavLM/HuBERT-base forwards normalise their first convolution over the padding). The batches are
formed the same way from any set of missing utterances, so an extraction resumed after a kill
redoes exactly the batches that were lost. Jobs (``executor.py``) each take a share of the
batches and write shards as they go.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf
import torch
from torch.nn import functional as F
from tqdm import tqdm

from care_superb.benchmark.cache import FileHashes, Store, Unit, utterance_id, write_shard
from care_superb.downstream.audio import load_audio


@dataclass(frozen=True)
class Item:
    uid: str
    path: str
    start: float | None
    end: float | None
    audio: tuple  # (sample_rate, max_seconds, min_seconds)
    samples: int  # length of the waveform the upstream gets

    def audio_settings(self) -> dict:
        return dict(zip(("sample_rate", "max_seconds", "min_seconds"), self.audio))


def audio_tuple(audio: dict) -> tuple:
    return (int(audio.get("sample_rate", 16000)), audio.get("max_seconds", 20.0), audio.get("min_seconds", 1.0))


def expected_samples(path, start, end, audio: tuple) -> int:
    """Length of ``load_audio``'s output, from the file's header (no decoding)."""
    rate_out, max_s, min_s = audio
    info = sf.info(str(path))
    first = int(round((start or 0.0) * info.samplerate))
    last = info.frames if end is None else min(info.frames, int(round(end * info.samplerate)))
    n = max(last - first, 0)
    if info.samplerate != rate_out:  # torchaudio's resample: ceil over the reduced ratio
        g = math.gcd(int(info.samplerate), rate_out)
        n = math.ceil((rate_out // g) * n / (info.samplerate // g))
    if max_s is not None:
        n = min(n, int(max_s * rate_out))
    if min_s is not None:
        n = max(n, int(min_s * rate_out))
    return n


def items_for(utterances, audio: dict, hashes: FileHashes) -> list[Item]:
    settings = audio_tuple(audio)
    return [Item(utterance_id(hashes(u.path), u.start, u.end, audio), str(u.path), u.start, u.end, settings,
                 expected_samples(u.path, u.start, u.end, settings)) for u in utterances]


def batches(items: list[Item], batch_size: int) -> list[list[Item]]:
    """Equal-length groups cut into batches, in a canonical order (length, then uid): the same
    missing utterances always give the same batches."""
    unique = {it.uid: it for it in items}
    ordered = sorted(unique.values(), key=lambda it: (it.samples, it.uid))
    out, group = [], []
    for item in ordered:
        if group and (item.samples != group[0].samples or len(group) == batch_size):
            out.append(group)
            group = []
        group.append(item)
    if group:
        out.append(group)
    return out


# -- in the job ------------------------------------------------------------------------------------
@dataclass
class Extractor:
    """An upstream built as s3prl's runner builds it, with s3prl's own Featurizer choosing the
    features (hidden_states), their count and frame rate."""
    unit: Unit
    device: str = "cpu"
    upstream: torch.nn.Module = field(init=False)

    def __post_init__(self):
        from care_superb.plug import plug

        plug()
        import s3prl.hub
        from s3prl.upstream.interfaces import Featurizer

        from care_superb.upstream import loaded_upstream

        entry = getattr(s3prl.hub, self.unit.name)
        self.upstream = entry(ckpt=self.unit.ckpt, model_config=self.unit.model_config, refresh=False).to(self.device)
        self.upstream.eval()
        self.provenance = loaded_upstream(self.unit.name)
        self.featurizer = Featurizer(self.upstream, feature_selection="hidden_states", upstream_device=self.device,
                                     layer_selection=None, normalize=self.unit.normalize)
        self.layers = getattr(self.featurizer, "layer_num", 1)
        self.rate = int(self.featurizer.downsample_rate)
        # s3prl layer-norms only when it takes a weighted sum of several layers.
        self.normalize = bool(self.unit.normalize and self.layers > 1)

    def meta(self) -> dict:
        return {"unit": self.unit.__dict__, "layers": self.layers, "dim": int(self.featurizer.output_dim),
                "downsample_rate": self.rate, "normalize_applied": self.normalize, "provenance": self.provenance}

    @torch.no_grad()
    def states(self, wavs: list[torch.Tensor]) -> torch.Tensor:
        """The upstream's forward and s3prl's feature selection: L x B x T x D."""
        feature = self.featurizer._select_feature(self.upstream([w.to(self.device) for w in wavs]))
        return torch.stack(list(feature)) if isinstance(feature, (list, tuple)) else feature[None]

    @torch.no_grad()
    def pool(self, stacked: torch.Tensor, samples: int) -> tuple[torch.Tensor, list[int]]:
        """B x L x D means over the frames s3prl keeps of an utterance alone, and the counts."""
        frames = stacked.shape[2]
        expected = round(samples / self.rate)
        if abs(frames - expected) >= 5:  # s3prl's Featurizer refuses such an upstream too
            raise RuntimeError(f"{self.unit.name}: {frames} frames for {samples} samples, but its downsample rate "
                               f"{self.rate} says {expected} (s3prl's Featurizer tolerates a difference under 5)")
        if self.normalize:
            stacked = F.layer_norm(stacked, (stacked.shape[-1],))
        kept = min(expected, frames)
        return stacked[:, :, :kept].mean(dim=2).transpose(0, 1).float().cpu(), [frames, kept, expected, samples]


class Buffer:
    """One unit's pooled vectors waiting for their shard."""

    def __init__(self, store: Store, shard_size: int):
        self.store, self.shard_size, self.tag, self.written = store, shard_size, store.new_tag(), 0
        self.uids, self.pooled, self.counts = [], [], []

    def add(self, uids: list[str], pooled: torch.Tensor, count: list[int]) -> None:
        self.uids += uids
        self.pooled.append(pooled)
        self.counts += [count] * len(uids)
        if len(self.uids) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        if self.uids:
            write_shard(self.store.folder, f"{self.tag}-{self.written:05d}", self.uids, torch.cat(self.pooled),
                        torch.tensor(self.counts))
            self.written += 1
            self.uids, self.pooled, self.counts = [], [], []


def extract(work: list[tuple[list[Item], list[tuple[Unit, str, list[int]]]]], shard_size: int,
            device: str = "cpu", progress: bool = True, built: dict | None = None) -> list[dict]:
    """One job's share: each batch's audio is read once and given to every unit that lacks some of
    it (``(unit, cache folder, indices into the batch)``); shards are written every
    ``shard_size`` utterances per unit. Returns per unit: audio seconds, seconds in the unit's
    forward, and the job's wall seconds. ``built``: upstreams already built (a speed benchmark)."""
    start = time.perf_counter()
    extractors: dict[Unit, Extractor] = dict(built or {})
    buffers: dict[Unit, Buffer] = {}
    stats: dict[Unit, dict] = {}
    bar = tqdm(total=sum(len(b) for b, _ in work), desc="features", unit="utt", disable=not progress, mininterval=5)
    for batch, needs in work:
        wavs = [torch.from_numpy(load_audio(Path(it.path), start=it.start, end=it.end, **it.audio_settings()))
                for it in batch]
        for unit, folder, indices in needs:
            if unit not in buffers:
                if unit not in extractors:
                    extractors[unit] = Extractor(unit, device)
                buffers[unit] = Buffer(Store(Path(folder)), shard_size)
                buffers[unit].store.write_meta(extractors[unit].meta())
                stats[unit] = {"unit": unit.name, "utterances": 0, "audio_seconds": 0.0, "forward_seconds": 0.0}
            # A length the header did not predict (a rare resampling edge): each such utterance alone.
            group = [wavs[i] for i in indices]
            parts = [indices] if all(len(w) == len(group[0]) for w in group) else [[i] for i in indices]
            for part in parts:
                t0 = time.perf_counter()
                stacked = extractors[unit].states([wavs[i] for i in part])
                stats[unit]["forward_seconds"] += time.perf_counter() - t0
                vectors, count = extractors[unit].pool(stacked, len(wavs[part[0]]))
                buffers[unit].add([batch[i].uid for i in part], vectors, count)
                stats[unit]["utterances"] += len(part)
                stats[unit]["audio_seconds"] += sum(len(wavs[i]) for i in part) / batch[0].audio[0]
        bar.update(len(batch))
    for buffer in buffers.values():
        buffer.flush()
    bar.close()
    wall = time.perf_counter() - start
    return [{**entry, "wall_seconds": wall} for entry in stats.values()]
