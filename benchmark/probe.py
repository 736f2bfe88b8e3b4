"""A linear probe per cell, from the cached pooled features: the reference a head's score is read
against. A head well below the probe of its own features either had not finished learning or
loses what a linear read-out finds; the row carries both, and the leaderboard marks the gap.

scikit-learn's LogisticRegression (classification; Ridge for the CCC regression) on standardised
features (StandardScaler fitted on train), trained on the cell's train split; the layer (each
hidden state, or their plain mean: the Featurizer's weighted sum at its uniform start) and the
regularisation are chosen on dev by the task's own selection metric; the chosen probe scores the
test split once, with the task's own metrics (the same names as the row's ``metrics``).

The features are each utterance's mean over the frames s3prl gives it alone (``Table``), the
same vectors the cached engine's head reads. A probe depends on the features and the split, not
on the head's seed: it is stored once per (cache unit, split) under ``<unit>/probes/``.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

C_GRID = (1e-3, 1e-2, 1e-1, 1.0)  # inverse L2 strength; standardised 64-1280 dims on 100s of utterances
ALPHA_GRID = (1.0, 10.0, 100.0, 1000.0, 10000.0)
VERSION = 1


def features(table, rows: list[int]) -> np.ndarray:
    """N x L x D: each row's pooled vector as s3prl's count gives it alone (a batch of one)."""
    import torch

    return np.stack([table.pooled_for_batch(torch.tensor([r]))[0].numpy() for r in rows]).astype(np.float64)


def key(task: str, objective_options: dict, splits: dict) -> str:
    """What a probe depends on besides the cache unit: the task, its objective, each split's utterances
    and targets."""
    text = json.dumps([VERSION, task, objective_options, {s: [[k, t] for k, t in items] for s, items in splits.items()}],
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def predictions(objective, model, x: np.ndarray) -> list:
    """Outputs in the format the objective scores (class index; (class, probabilities); attributes)."""
    if hasattr(objective, "attributes"):
        return model.predict(x).tolist()
    if hasattr(objective, "decide"):  # segments of an interview: their probabilities are averaged
        classes = list(model.classes_)
        full = np.zeros((len(x), objective.output_dim))
        full[:, classes] = model.predict_proba(x)
        return [(int(p.argmax()), [float(v) for v in p]) for p in full]
    return [int(c) for c in model.predict(x)]


def fit(objective, data: dict[str, tuple[np.ndarray, list, list[str]]]) -> dict:
    """``data``: split -> (N x L x D features, targets, keys). The probe's record for the row."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    regression = hasattr(objective, "attributes")
    n_layers = data["train"][0].shape[1]
    layers: list = (["mean"] if n_layers > 1 else []) + list(range(n_layers))

    def view(split: str, layer) -> np.ndarray:
        x = data[split][0]
        return x.mean(axis=1) if layer == "mean" else x[:, layer, :]

    def model(strength: float):
        if regression:
            return make_pipeline(StandardScaler(), Ridge(alpha=strength))
        return make_pipeline(StandardScaler(), LogisticRegression(C=strength, max_iter=2000))

    y_train = np.array(data["train"][1])
    if not regression and len(set(y_train.tolist())) < 2:
        return {"skipped": "the train split holds one class"}
    grid = ALPHA_GRID if regression else C_GRID
    tried, best = [], None
    for layer in layers:
        for strength in grid:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # lbfgs's ConvergenceWarning at the weakest regularisation
                fitted = model(strength).fit(view("train", layer), y_train)
            _, targets, keys = data["dev"]
            score = objective.metrics(targets, predictions(objective, fitted, view("dev", layer)), keys=keys)[
                objective.selection]
            tried.append(score)
            if best is None or score > best[0]:  # a tie keeps the earlier: the mean, then lower layers, stronger L2
                best = (score, layer, strength, fitted)
    score, layer, strength, fitted = best
    _, targets, keys = data["test"]
    metrics = objective.metrics(targets, predictions(objective, fitted, view("test", layer)), keys=keys)
    metrics.pop("n_classes_present", None)
    return {"metrics": metrics, "model": "Ridge" if regression else "LogisticRegression", "standardised": True,
            "layer": layer, ("alpha" if regression else "C"): strength,
            "dev": {objective.selection: score}, "n_tried": len(tried), "n_layers": n_layers,
            "n_train": len(y_train), "version": VERSION}


def for_cell(expert, table, rows: dict, store_folder: Path) -> dict:
    """The probe of a cell (stored per cache unit and split, computed the first time)."""
    from care_superb.benchmark.cache import write_atomic_text

    splits = {split: [(u.key, expert.objective.target(u.label)) for u in utts] for split, utts in expert.splits.items()}
    options = expert.conf.get("objective") or {}
    path = Path(store_folder) / "probes" / f"{expert.task}-{key(expert.task, options, splits)}.json"
    if path.is_file():
        return json.loads(path.read_text())
    data = {}
    for split, utts in expert.splits.items():
        index = [rows[(u.key, str(u.path), u.start, u.end)] for u in utts]
        data[split] = (features(table, index), [t for _, t in splits[split]], [k for k, _ in splits[split]])
    record = fit(expert.objective, data)
    write_atomic_text(path, json.dumps(record, indent=1))
    return record
