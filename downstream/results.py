"""Result rows: the metrics of one evaluation with everything that produced them.

A row is one JSON file written atomically (a crash never leaves half a row); the benchmark's
results store and the leaderboard read these rows and nothing else.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from care_superb.synth import MARKER

# Every row says which schema it follows; the leaderboard refuses rows of another one.
# Version 3: every prediction names its resampling cluster ("unit"); the row says what they are.
SCHEMA = {"schema": "care-superb/result-row", "schema_version": 3}
PACKAGES = ("care-superb", "s3prl", "torch", "torchaudio", "transformers", "scikit-learn", "speechbrain", "numpy")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_commit() -> str | None:
    """The commit of this checkout (with '+dirty' when it has uncommitted changes), if any."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=here, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def data_provenance(root: str | Path) -> dict:
    marker = Path(root) / MARKER
    synthetic = json.loads(marker.read_text()) if marker.is_file() else None
    return {"root": str(Path(root).resolve()), "synthetic": synthetic is not None, "synth": synthetic}


def keys_hash(keys) -> str:
    """sha256 of a set of utterance keys (order-free): two rows on the same test utterances agree on it."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


def write_json(path: Path, payload: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)
    return path


def layer_weights(ckpt: str | None) -> list[float] | None:
    """The weighted sum's layer weights (softmax of s3prl's Featurizer parameters) saved in a
    downstream checkpoint; None without one, or when the Featurizer picked a single layer."""
    if not ckpt or not Path(ckpt).is_file():
        return None
    import torch

    state = torch.load(ckpt, map_location="cpu", weights_only=True).get("Featurizer") or {}
    weights = state.get("weights")
    return None if weights is None else [float(w) for w in torch.softmax(weights.float(), dim=-1)]


BENCHMARK_RECORD = "benchmark.json"


def benchmark_record(expdir: str | Path) -> dict | None:
    """What `care-superb bench` wrote about the cell it runs in ``expdir`` (label, category, cell,
    file, ...), which its result row copies; None for a run outside a benchmark."""
    path = Path(expdir) / BENCHMARK_RECORD
    return json.loads(path.read_text()) if path.is_file() else None


def read_optional(path: str | Path) -> dict | None:
    """A JSON record written beside a run (``probe.json``, ``lr-search.json``), or None without one."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def command_line() -> str:
    return " ".join(sys.argv)
