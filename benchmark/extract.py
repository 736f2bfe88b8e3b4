"""Filling the feature cache: each upstream's forward once per utterance.

Planning (in the ``bench`` process) finds, per cache unit, the utterances its cells use and which
of them the cache lacks, and cuts those into batches of similar length: sorted by length (then
uid), ``batch_size`` at a time, padded. The cached engine serves only upstreams whose padded batch
gives every utterance what it gets alone (``cached_engine.check_upstream``), so an utterance's
vectors do not depend on its batch mates; they are what it gets alone, to float rounding (tested
to 1e-5 against extraction one utterance at a time). The batches are formed the same way from
any set of missing utterances, so an extraction resumed after a kill redoes exactly the batches
that were lost. Jobs (``executor.py``) each take a share of the batches and write shards as they go.
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

from care_superb.benchmark.cache import (CacheError, FileHashes, Store, Unit, utterance_id, write_atomic_text,
                                         write_shard)
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
    """Batches of ``batch_size`` utterances of similar length, in a canonical order (length, then
    uid): the same missing utterances always give the same batches."""
    ordered = sorted({it.uid: it for it in items}.values(), key=lambda it: (it.samples, it.uid))
    return [ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size)]


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

        from care_superb.benchmark.cached_engine import check_upstream
        from care_superb.upstream import loaded_upstream

        problems = check_upstream(self.unit.name, "feature cache")
        if problems:
            raise CacheError(problems[0])
        entry = getattr(s3prl.hub, self.unit.name)
        told = {"language": self.unit.language} if self.unit.language else {}  # the task's (asr_text)
        self.upstream = entry(ckpt=self.unit.ckpt, model_config=self.unit.model_config, refresh=False,
                              **told).to(self.device)
        self.upstream.eval()
        self.provenance = loaded_upstream(self.unit.name)
        self.featurizer = Featurizer(self.upstream, feature_selection="hidden_states", upstream_device=self.device,
                                     layer_selection=None, normalize=self.unit.normalize)
        self.layers = getattr(self.featurizer, "layer_num", 1)
        self.rate = int(self.featurizer.downsample_rate)
        # s3prl layer-norms only when it takes a weighted sum of several layers.
        self.normalize = bool(self.unit.normalize and self.layers > 1)

    def meta(self) -> dict:
        from care_superb.benchmark.code_key import code_key

        return {"unit": self.unit.__dict__, "layers": self.layers, "dim": int(self.featurizer.output_dim),
                "downsample_rate": self.rate, "normalize_applied": self.normalize, "provenance": self.provenance,
                "code": code_key(self.unit.name)}

    @torch.no_grad()
    def states(self, wavs: list[torch.Tensor]) -> torch.Tensor:
        """The upstream's forward and s3prl's feature selection: L x B x T x D."""
        feature = self.featurizer._select_feature(self.upstream([w.to(self.device) for w in wavs]))
        return torch.stack(list(feature)) if isinstance(feature, (list, tuple)) else feature[None]

    @torch.no_grad()
    def pool(self, stacked: torch.Tensor, lengths: list[int]) -> tuple[torch.Tensor, list[list[int]]]:
        """B x L x D means over the frames s3prl keeps of each utterance alone, and per utterance
        (frames, kept, expected, samples). An utterance's own frames are those up to its last
        frame that is not zero in every state: the upstream gives it alone exactly those, and zeros
        on the padding after them (the contract every upstream served here is tested on)."""
        nonzero = stacked.ne(0).any(dim=3).any(dim=0)  # B x T
        last = nonzero.shape[1] - nonzero.flip(1).long().argmax(dim=1)
        if self.normalize:
            stacked = F.layer_norm(stacked, (stacked.shape[-1],))
        vectors, counts = [], []
        for i, samples in enumerate(lengths):
            frames = int(last[i]) if bool(nonzero[i].any()) else 0
            expected = round(samples / self.rate)
            if abs(frames - expected) >= 5:  # s3prl's Featurizer refuses such an upstream too
                raise RuntimeError(f"{self.unit.name}: {frames} frames for {samples} samples, but its downsample "
                                   f"rate {self.rate} says {expected} (s3prl's Featurizer tolerates a difference "
                                   f"under 5)")
            kept = min(expected, frames)
            vectors.append(stacked[:, i, :kept].mean(dim=1))
            counts.append([frames, kept, expected, samples])
        return torch.stack(vectors).float().cpu(), counts


class Buffer:
    """One unit's pooled vectors waiting for their shard."""

    def __init__(self, store: Store, shard_size: int):
        self.store, self.shard_size, self.tag, self.written = store, shard_size, store.new_tag(), 0
        self.uids, self.pooled, self.counts, self.transcripts = [], [], [], []

    def add(self, uids: list[str], pooled: torch.Tensor, counts: list[list[int]],
            transcripts: list[str] | None = None) -> None:
        self.uids += uids
        self.pooled.append(pooled)
        self.counts += counts
        self.transcripts += transcripts or [None] * len(uids)
        if len(self.uids) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        if self.uids:
            heard = None if None in self.transcripts else self.transcripts
            write_shard(self.store.folder, f"{self.tag}-{self.written:05d}", self.uids, torch.cat(self.pooled),
                        torch.tensor(self.counts), heard)
            self.written += 1
            self.uids, self.pooled, self.counts, self.transcripts = [], [], [], []


class Report:
    """A job's utterances done so far (counted once per unit that lacked them), in a file of its
    own that the parent's progress bar reads (``reported``): shards are written every
    ``shard_size`` utterances, too seldom to follow. Written atomically, at most every ``every_s``
    seconds, and at the end."""

    def __init__(self, path: Path, every_s: float = 0.5):
        self.path, self.every_s, self.done, self.last = Path(path), every_s, 0, -math.inf

    def add(self, n: int) -> None:
        self.done += n
        if time.monotonic() - self.last >= self.every_s:
            self.write()

    def write(self) -> None:
        write_atomic_text(self.path, str(self.done))
        self.last = time.monotonic()


def reported(folder: Path) -> int:
    """The utterances done by every job reporting into ``folder``."""
    total = 0
    for path in Path(folder).glob("*.txt"):
        try:
            total += int(path.read_text())
        except (FileNotFoundError, ValueError):  # replaced meanwhile: read at the next poll
            pass
    return total


def extract(work: list[tuple[list[Item], list[tuple[Unit, str, list[int]]]]], shard_size: int,
            device: str = "cpu", progress: bool = True, built: dict | None = None,
            report: Report | None = None) -> list[dict]:
    """One job's share: each batch's audio is read once and given to every unit that lacks some of
    it (``(unit, cache folder, indices into the batch)``), one padded forward per unit and batch;
    shards are written every ``shard_size`` utterances per unit. Returns per unit: utterances,
    forwards, audio seconds, seconds in the unit's forward, and the job's wall seconds.
    ``built``: upstreams already built (a speed benchmark); ``report``: the count for the parent's bar."""
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
                stats[unit] = {"unit": unit.name, "utterances": 0, "forwards": 0, "audio_seconds": 0.0,
                               "forward_seconds": 0.0}
            group = [wavs[i] for i in indices]
            t0 = time.perf_counter()
            stacked = extractors[unit].states(group)
            stats[unit]["forward_seconds"] += time.perf_counter() - t0
            if not stats[unit]["forwards"]:  # after a forward: the provenance then says how it ran (asr_text's decoding)
                buffers[unit].store.write_meta(extractors[unit].meta())
            vectors, counts = extractors[unit].pool(stacked, [len(w) for w in group])
            # What an upstream that reads words heard (asr_text's last_transcripts), kept beside the vectors.
            heard = getattr(extractors[unit].upstream, "last_transcripts", None)
            buffers[unit].add([batch[i].uid for i in indices], vectors, counts, heard)
            stats[unit]["utterances"] += len(indices)
            stats[unit]["forwards"] += 1
            stats[unit]["audio_seconds"] += sum(len(w) for w in group) / batch[0].audio[0]
            if report is not None:
                report.add(len(indices))
        bar.update(len(batch))
    for buffer in buffers.values():
        buffer.flush()
    if report is not None:
        report.write()
    bar.close()
    wall = time.perf_counter() - start
    return [{**entry, "wall_seconds": wall} for entry in stats.values()]
