"""Result rows and prediction files in the contracts' format (schema_version 3), for the leaderboard's
tests. Metrics are computed by the task's own objective, as ``-m evaluate`` does."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from care_superb.downstream.registry import TASKS

HEAD = {"modelrc": {"pooling": "mean", "hidden_dim": 256}, "optimizer": {"name": "TorchOptim", "torch_optim_name": "AdamW", "lr": 1e-4},
        "total_steps": 500, "batch_size": 32, "normalize": False}


def write_row(folder: Path, task: str, upstream: str, targets: list, outputs: list, keys: list[str] | None = None, *,
              seed=1337, fold=None, split=0, category: str | None = "base", label: str | None = None,
              synthetic=False, random_weights=False, layer_weights=None, objective: dict | None = None,
              head: dict | None = None, units: list[str] | None = None, unit: str = "utterance", **extra) -> Path:
    """Write ``result-test-dev-best.json`` + ``predictions-test-dev-best.json`` under ``folder``.
    ``units``: each utterance's resampling cluster (default: its own key), ``unit`` what they are."""
    from care_superb.downstream.results import keys_hash

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    keys = keys or [f"utt{i:04d}" for i in range(len(targets))]
    units = units or list(keys)
    head = {**HEAD, **(head or {})}
    objective_options = objective or {}
    metrics = TASKS[task].objective(**objective_options).metrics(true=targets, pred=outputs, keys=keys)
    selection = objective_options.get("selection", "mean_ccc" if task == "msp_improv" else "weighted_f1")
    protocol = {"protocol": "test", "split": split, **({"fold": fold} if fold is not None else {})}
    row = {
        "schema": "care-superb/result-row", "schema_version": 3,
        "task": task, "split": "test", "metrics": metrics, "primary_metric": selection,
        "n_utterances": len(keys), "protocol": protocol,
        "resampling": {"unit": unit, "n_units": len(set(units)), "test_keys_sha256": keys_hash(keys)},
        "upstream": {"name": upstream, "ckpt": f"/ckpt/{upstream}.pt", "normalize": head["normalize"],
                     "provenance": {"ckpt": f"/ckpt/{upstream}.pt", "random_weights": random_weights}},
        "predictions": "predictions-test-dev-best.json",
        "downstream_checkpoint": str(folder / "dev-best.ckpt"),
        "data": {"root": "/data", "synthetic": synthetic, "synth": {} if synthetic else None},
        "config": {"downstream_expert": {"modelrc": head["modelrc"], "objective": objective_options,
                                         "datarc": {"batch_size": head["batch_size"]}},
                   "runner": {"total_steps": head["total_steps"]}, "optimizer": head["optimizer"]},
        "seed": seed, "engine": "s3prl", "layer_weights": layer_weights,
        **({"benchmark": {"label": label or upstream, "category": category}} if category or label else {}),
        **extra,
    }
    (folder / "predictions-test-dev-best.json").write_text(json.dumps({"predictions": [
        {"key": k, "unit": u, "true": str(t), "pred": str(o), "target": t, "output": o}
        for k, u, t, o in zip(keys, units, targets, outputs)]}))
    path = folder / "result-test-dev-best.json"
    path.write_text(json.dumps(row))
    return path


def labels(n: int, n_classes: int, seed: int = 0) -> list[int]:
    return np.random.default_rng(seed).integers(0, n_classes, n).tolist()


def predict(targets: list[int], accuracy: float, n_classes: int, seed: int = 0) -> list[int]:
    """Right on a fraction ``accuracy`` of the utterances (chosen at random), a wrong class elsewhere."""
    rng = np.random.default_rng(seed)
    right = rng.permutation(len(targets)) < round(accuracy * len(targets))
    wrong = [(t + 1 + int(rng.integers(0, n_classes - 1))) % n_classes for t in targets]
    return [t if r else w for t, r, w in zip(targets, right, wrong)]
