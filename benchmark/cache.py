"""The feature cache: per utterance, an upstream's per-layer vectors pooled over its frames.

Why this is exact for the paper's head. s3prl's Featurizer sums the layers with softmax weights
and the head mean-pools over frames; both are linear, so the mean over frames of the weighted sum
equals the weighted sum of the per-layer means. With ``upstream_feature_normalize`` s3prl
layer-norms every frame before the sum; layer norm does not commute with the mean, so the cache
then stores the mean of the layer-normed frames (and that setting is part of the cache's key).

What s3prl's Featurizer keeps of an utterance in a padded batch is ``round(samples / rate)``
frames, cut from the batch's padded output: a shorter utterance keeps up to two of the (zero)
padded frames, and its mean is divided by that count. So an entry also stores how many frames
it was averaged over (``kept``), how many the upstream gives it alone (``frames``) and s3prl's
count (``expected``); the cached engine rescales each batch exactly as s3prl's count does
(``pooled_for_batch``). An entry never depends on the other utterances of its extraction batch.

Layout: ``<cache>/<unit>/`` per upstream, checkpoint and the code and library versions that make
its features (``code_key.py``; ``unit.json`` says which, with the upstream's provenance), holding
``shard-*.pt`` files written under a temporary name and renamed, each with a checksum, and
``index.json`` (uid -> shard, with each shard's size and time), written by ``Store.scan`` once it
has checked every shard, so that a cell opens only its own shards. Entries are keyed by the audio
file's content hash, the segment's start and end, and the audio settings, so a moved corpus keeps
its cache and a changed file does not.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

SHARD_FORMAT = "care-superb/feature-shard"
SHARD_VERSION = 1
UNIT_FILE = "unit.json"
INDEX_FILE = "index.json"


class CacheError(RuntimeError):
    """A cache that cannot be used as it is; the message says what to do."""


# -- content hashes ----------------------------------------------------------------------------
class FileHashes:
    """sha256 of files, remembered by (path, size, mtime) in ``<cache>/file-hashes.json`` so that
    a corpus is read in full once, not at every run."""

    def __init__(self, root: Path):
        self.path = Path(root) / "file-hashes.json"
        try:
            self.known = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.known = {}
        self.changed = False

    def __call__(self, path: str | Path) -> str:
        path = Path(path).resolve()
        stat = path.stat()
        key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
        if key not in self.known:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            self.known[key] = digest.hexdigest()
            self.changed = True
        return self.known[key]

    def save(self) -> None:
        if self.changed:
            write_atomic_text(self.path, json.dumps(self.known))
            self.changed = False


def tree_hash(path: str | Path | None, hashes: FileHashes) -> str | None:
    """Content hash of a checkpoint file, or of every file in a checkpoint folder."""
    if path is None:
        return None
    path = Path(path)
    if path.is_file():
        return hashes(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path)}:{hashes(file)}\n".encode())
    return digest.hexdigest()


def utterance_id(file_hash: str, start, end, audio: dict) -> str:
    text = json.dumps([file_hash, start, end, audio.get("sample_rate", 16000), audio.get("max_seconds", 20.0),
                       audio.get("min_seconds", 1.0)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Unit:
    """One upstream with one checkpoint and one normalisation setting: one cache folder. For an
    upstream whose features depend on the task's language (asr_text), one per language too."""
    name: str
    ckpt: str | None
    model_config: str | None
    normalize: bool
    language: str | None = None  # the task's, for the upstreams that read it (registry.task_language_readers)

    def key(self, hashes: FileHashes) -> dict:
        from care_superb.benchmark.code_key import code_key

        return {"name": self.name, "ckpt_sha256": tree_hash(self.ckpt, hashes),
                "model_config_sha256": tree_hash(self.model_config, hashes) if self.model_config else None,
                "normalize": self.normalize, "feature_selection": "hidden_states", "code": code_key(self.name),
                **({"language": self.language} if self.language else {})}  # others keep their folders

    def folder(self, root: Path, hashes: FileHashes) -> Path:
        digest = hashlib.sha256(json.dumps(self.key(hashes), sort_keys=True).encode()).hexdigest()[:16]
        return Path(root) / f"{self.name}-{digest}"


# -- shards ------------------------------------------------------------------------------------
def _checksum(pooled: torch.Tensor, ints: torch.Tensor, uids: list[str], transcripts: list[str] | None = None) -> str:
    digest = hashlib.sha256()
    digest.update(pooled.contiguous().numpy().tobytes())
    digest.update(ints.contiguous().numpy().tobytes())
    digest.update("\n".join(uids).encode())
    if transcripts is not None:
        digest.update(json.dumps(transcripts).encode())
    return digest.hexdigest()


def write_shard(folder: Path, tag: str, uids: list[str], pooled: torch.Tensor, counts: torch.Tensor,
                transcripts: list[str] | None = None) -> Path:
    """``pooled``: N x L x D float32; ``counts``: N x 4 int64 (frames, kept, expected, samples);
    ``transcripts``: what an upstream that reads words heard in each utterance (asr_text), so that
    a cell's row can count its empty ones."""
    payload = {"format": SHARD_FORMAT, "version": SHARD_VERSION, "uids": list(uids),
               "pooled": pooled.contiguous(), "counts": counts.contiguous(),
               "checksum": _checksum(pooled, counts, uids, transcripts)}
    if transcripts is not None:
        payload["transcripts"] = list(transcripts)
    final = folder / f"shard-{tag}-n{len(uids)}.pt"
    tmp = folder / f".{final.name}.{os.getpid()}.tmp"
    torch.save(payload, tmp)
    os.replace(tmp, final)
    return final


def read_shard(path: Path, verify: bool = True) -> dict:
    """A shard's content; CacheError naming the file when it is corrupt or not a shard."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=not verify)
    except Exception as err:  # torch's own message says what is wrong with the archive
        raise CacheError(f"{path}: unreadable cache shard ({type(err).__name__}: {err})") from err
    if not isinstance(payload, dict) or payload.get("format") != SHARD_FORMAT:
        raise CacheError(f"{path}: not a care-superb feature shard")
    if payload.get("version") != SHARD_VERSION:
        raise CacheError(f"{path}: shard version {payload.get('version')}, this care-superb reads {SHARD_VERSION}")
    if verify and _checksum(payload["pooled"], payload["counts"], payload["uids"],
                            payload.get("transcripts")) != payload["checksum"]:
        raise CacheError(f"{path}: cache shard fails its checksum (corrupted on disk)")
    return payload


class Store:
    """One unit's cache folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def meta(self) -> dict:
        path = self.folder / UNIT_FILE
        return json.loads(path.read_text()) if path.is_file() else {}

    def write_meta(self, meta: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic_text(self.folder / UNIT_FILE, json.dumps(meta, indent=1, default=str))

    def shards(self) -> list[Path]:
        return sorted(self.folder.glob("shard-*.pt"))

    def scan(self, verified: set[str] = frozenset(), quiet: bool = False) -> dict[str, Path]:
        """uid -> shard for every readable shard, each checked against its checksum (but those
        named in ``verified``: checked earlier in this process); then writes ``index.json``, which
        the cells read instead of every shard. A corrupt shard, or one left half-written by a
        killed run, is removed with a message: its utterances count as missing and are redone."""
        present: dict[str, Path] = {}
        index: dict[str, dict] = {}
        for leftover in self.folder.glob(".shard-*.tmp"):
            if not quiet:
                tqdm.write(f"[cache] removing {leftover.name}, a shard a killed extraction left half-written")
            leftover.unlink(missing_ok=True)
        for shard in self.shards():
            try:
                payload = read_shard(shard, verify=shard.name not in verified)
            except CacheError as err:
                tqdm.write(f"[cache] {err}; removing it, its utterances will be extracted again")
                shard.unlink(missing_ok=True)
                continue
            for uid in payload["uids"]:
                present[uid] = shard
            index[shard.name] = {**_stamp(shard), "uids": list(payload["uids"])}
        if index or (self.folder / INDEX_FILE).exists():
            write_atomic_text(self.folder / INDEX_FILE, json.dumps({"shards": index}))
        return present

    def load(self, uids: list[str]) -> "Table":
        """The entries of ``uids`` as one table; CacheError when some are missing or a shard is bad.
        Only the shards holding some of them are read. With the index the last ``scan`` wrote,
        nothing else is opened and no checksum is computed again (a shard changed since, in size
        or time, is an error); without it, every shard's list is read and the shards used are
        checked."""
        wanted = set(uids)
        rows: dict[str, tuple[torch.Tensor, torch.Tensor, str | None]] = {}
        index = self._index()
        if index is not None and wanted <= {uid for entry in index.values() for uid in entry["uids"]}:
            holding = [(self.folder / name, entry) for name, entry in index.items() if not wanted.isdisjoint(entry["uids"])]
        else:
            holding = [(shard, None) for shard in self.shards()]
        for shard, entry in holding:
            try:
                if entry is not None:
                    if not shard.is_file() or _stamp(shard) != {k: entry[k] for k in ("bytes", "mtime_ns")}:
                        raise CacheError(f"{shard}: cache shard changed or went missing since the cache was checked")
                    payload = read_shard(shard, verify=False)
                else:
                    if wanted.isdisjoint(read_shard(shard, verify=False)["uids"]):
                        continue
                    payload = read_shard(shard)
            except CacheError as err:
                raise CacheError(f"{err}. Run `care-superb bench` again: it detects the bad shard and "
                                 f"extracts its utterances again") from err
            transcripts = payload.get("transcripts") or [None] * len(payload["uids"])
            for i, uid in enumerate(payload["uids"]):
                if uid in wanted and uid not in rows:
                    rows[uid] = (payload["pooled"][i], payload["counts"][i], transcripts[i])
        missing = [u for u in uids if u not in rows]
        if missing:
            raise CacheError(f"{self.folder}: {len(missing)} of {len(set(uids))} utterances are not in the cache; "
                             f"run `care-superb bench` on the benchmark file to extract them (the corpus changed?)")
        order = list(dict.fromkeys(uids))
        return Table(order, torch.stack([rows[u][0] for u in order]), torch.stack([rows[u][1] for u in order]),
                     [rows[u][2] for u in order])

    def _index(self) -> dict | None:
        try:
            return json.loads((self.folder / INDEX_FILE).read_text())["shards"]
        except (OSError, ValueError, KeyError):
            return None

    def size(self) -> tuple[int, int]:
        """(bytes on disk, utterances) of the whole folder."""
        total = sum(p.stat().st_size for p in self.shards())
        count = sum(int(p.stem.rsplit("-n", 1)[1]) for p in self.shards())
        return total, count

    def new_tag(self) -> str:
        return uuid.uuid4().hex[:12]


@dataclass
class Table:
    """Cached entries in memory: ``pooled`` N x L x D; ``counts`` N x 4 (frames, kept, expected, samples);
    ``transcripts``: each one's, where the upstream heard words (else None)."""
    uids: list[str]
    pooled: torch.Tensor
    counts: torch.Tensor
    transcripts: list[str | None] | None = None

    def __post_init__(self):
        self.row = {uid: i for i, uid in enumerate(self.uids)}

    def pooled_for_batch(self, rows: torch.Tensor) -> torch.Tensor:
        """B x L x D: each utterance's mean over the frames s3prl's Featurizer keeps of it in this
        batch. The padded output is as long as the batch's longest utterance (``frames``), and s3prl
        keeps ``min(expected, that)`` frames, the ones past ``frames`` being zeros."""
        frames, kept, expected = self.counts[rows, 0], self.counts[rows, 1], self.counts[rows, 2]
        count = torch.minimum(expected, frames.max())
        return self.pooled[rows] * (kept.to(self.pooled.dtype) / count.to(self.pooled.dtype))[:, None, None]


def _stamp(path: Path) -> dict:
    stat = path.stat()
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def write_atomic_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
