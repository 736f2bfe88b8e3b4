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
              seed=1337, fold=None, split_seed=0, category: str | None = "base", label: str | None = None,
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
    protocol = {"protocol": "test", "split_seed": split_seed, **({"fold": fold} if fold is not None else {})}
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


# -- a whole small leaderboard (the page's tests and the README's screenshot) -----------------------

SAMPLE_UPSTREAMS = (  # label, category, random weights, skill, layers, the layer its weights favour
    ("care", "base", False, 0.78, 13, 9),
    ("hubert", "base", False, 0.66, 13, 6),
    ("wavlm_large", "large", True, 0.50, 25, 3),
    ("fbank", None, False, 0.42, None, None),
    ("care_acoustic", "base", False, 0.70, 13, 4),
)
SAMPLE_UNITS = {"emodb": ("speaker", 60, 2), "cafe": ("speaker", 60, 2), "ravdess_song": ("speaker", 72, 3),
                "meld": ("dialogue", 160, 40), "cmu_mosi": ("video", 124, 31), "iemocap4": ("dialogue", 120, 30),
                "iemocap6": ("dialogue", 120, 30), "msp_improv": ("scene", 90, 30)}


def sample_layer_weights(layers: int, favoured: int, seed: int) -> list[float]:
    """A softmax profile as s3prl's Featurizer learns it on a short run: near uniform (1/13 = 0.077),
    a bump around one layer, 0.07-0.09 in all."""
    rng = np.random.default_rng(seed)
    logits = 0.12 * np.exp(-0.5 * ((np.arange(layers) - favoured) / 2.0) ** 2) + rng.normal(0, 0.01, layers)
    weights = np.exp(logits) / np.exp(logits).sum()
    return [float(w) for w in weights]


def write_sample_rows(root: Path, seeds=(1, 2)) -> list[Path]:
    """Result rows of five upstreams on every task, all on SYNTHETIC data (marked so): the
    classification tasks of Tables II and IV, DAIC-WOZ's interviews, MSP-IMPROV's attributes
    (two folds), two training seeds; made-up numbers, for tests and the page's screenshot only."""
    import zlib

    paths = []
    for label, category, random_weights, skill, layers, favoured in SAMPLE_UPSTREAMS:
        for seed in seeds:
            noise = zlib.crc32(f"{label}/{seed}".encode())
            weights = sample_layer_weights(layers, favoured, noise) if layers else None
            common = dict(seed=seed, category=category, synthetic=True, random_weights=random_weights,
                          layer_weights=weights, label=label)
            for task, (unit, n, clusters) in SAMPLE_UNITS.items():
                folder = root / label / task / f"seed{seed}"
                if task == "msp_improv":
                    for fold in (0, 1):
                        y = np.random.default_rng(fold).normal(size=(n, 3))
                        rng = np.random.default_rng(noise + fold)
                        pred = skill * y + (1 - skill) * rng.normal(size=y.shape)
                        paths.append(write_row(folder / f"fold{fold}", task, label, y.tolist(), pred.tolist(),
                                               fold=fold, units=[f"{unit}{i % clusters:02d}" for i in range(n)],
                                               unit=unit, **common))
                    continue
                k = len(TASKS[task].objective().labels)
                y = labels(n, k, seed=zlib.crc32(task.encode()))
                # each upstream better on some tasks than others, so that sorting by a column reorders
                accuracy = min(0.95, skill + 0.2 / k + (zlib.crc32(f"{label}/{task}".encode()) % 25 - 12) / 100)
                paths.append(write_row(folder, task, label, y, predict(y, accuracy, k, seed=noise),
                                       units=[f"{unit}{i % clusters:02d}" for i in range(n)], unit=unit, **common))
            # DAIC-WOZ: segments of 16 interviews, [class, probabilities] per segment
            keys = [f"{300 + rec}_P/seg{s:02d}" for rec in range(16) for s in range(4)]
            targets = [int(key[:3]) % 2 for key in keys]
            classes = predict(targets, skill, 2, seed=noise)
            outputs = [[c, [0.3, 0.7] if c else [0.7, 0.3]] for c in classes]
            paths.append(write_row(root / label / "daic_woz" / f"seed{seed}", "daic_woz", label, targets, outputs,
                                   keys, units=[key.split("/")[0] for key in keys], unit="interview", **common))
    return paths
