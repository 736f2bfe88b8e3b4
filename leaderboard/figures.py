"""Figures (matplotlib, PNG and PDF): the learned layer weights per upstream and task, and each
table's scores with their intervals. Titles say when the data were synthetic or the weights random.

Byte-identical reruns: matplotlib's default style (not the user's rc file), Figure objects without
pyplot's global state, and no software or date fields in the files' metadata.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.style
import numpy as np
from matplotlib.figure import Figure

from care_superb.leaderboard.rows import Row
from care_superb.leaderboard.tables import CLASSIFICATION, Table

METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}
TASK_ORDER = [task for task, _ in CLASSIFICATION] + ["msp_improv"]
TASK_TITLES = dict(CLASSIFICATION, msp_improv="MSP-IMPROV")


def provenance_warning(rows: list[Row], short: bool = False) -> str:
    """What a figure from these rows must say about them ("" when nothing)."""
    parts = []
    if any(r.synthetic for r in rows):
        parts.append("SYNTHETIC DATA")
    if any(r.random_weights is True for r in rows):
        parts.append("RANDOM UPSTREAM WEIGHTS")
    if not parts:
        return ""
    return f" ({', '.join(parts).lower()})" if short else f"\n{' + '.join(parts)}: shows that the pipeline works, not emotion recognition"


def save(fig: Figure, out: Path, stem: str) -> list[Path]:
    paths = []
    for fmt in ("png", "pdf"):
        path = out / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, metadata=METADATA[fmt], dpi=150)
        paths.append(path)
    return paths


def layer_weights(rows: list[Row]) -> tuple[Figure | None, list[str]]:
    """One heatmap per upstream (tasks x layers, mean over folds and seeds); notes on what is absent."""
    by_label: dict[str, dict[str, list]] = {}
    notes = []
    for row in rows:
        if row.layer_weights:
            by_label.setdefault(row.label, {}).setdefault(row.task, []).append(row.layer_weights)
    without = sorted({r.label for r in rows} - set(by_label))
    if without:
        notes.append("No learned layer weights in the rows of " + ", ".join(without) + " (rows written before "
                     "layer_weights was recorded, or an upstream with a single layer): not in the heatmap.")
    if not by_label:
        return None, notes
    with matplotlib.style.context("default"):
        fig = Figure(figsize=(8, 1.2 + 0.45 * sum(len(t) for t in by_label.values()) + 0.8 * len(by_label)),
                     layout="constrained")
        axes = fig.subplots(len(by_label), 1, squeeze=False)[:, 0]
        for ax, (label, tasks) in zip(axes, sorted(by_label.items())):
            names = [t for t in TASK_ORDER if t in tasks] + sorted(set(tasks) - set(TASK_ORDER))
            lengths = {len(w) for t in names for w in tasks[t]}
            if len(lengths) != 1:
                notes.append(f"{label}: rows with different numbers of layers ({sorted(lengths)}); heatmap skipped.")
                ax.set_axis_off()
                continue
            matrix = np.array([np.mean(tasks[t], axis=0) for t in names])
            image = ax.imshow(matrix, aspect="auto", cmap="viridis", vmin=0)
            ax.set_yticks(range(len(names)), [TASK_TITLES.get(t, t) for t in names])
            ax.set_xticks(range(matrix.shape[1]))
            ax.set_xlabel("layer")
            label_rows = [r for r in rows if r.label == label]
            ax.set_title(label + provenance_warning(label_rows, short=True), fontsize=9)
            fig.colorbar(image, ax=ax, label="softmax weight")
        fig.suptitle("Learned layer weights (s3prl Featurizer), mean over folds and seeds" + provenance_warning(rows),
                     fontsize=9)
        return fig, notes


def scores(table: Table) -> Figure | None:
    """Per column with results: each upstream's mean with its 95% interval (missing cells say so)."""
    from care_superb.leaderboard.render import columns

    labels = table.labels
    keys = [(key, title) for key, title in columns(table)
            if any(c is not None and c.present for c in (table.cell(label, key) for label in labels))]
    if not keys:
        return None
    with matplotlib.style.context("default"):
        ncols = 4 if len(keys) == 4 else min(3, len(keys))
        nrows = -(-len(keys) // ncols)
        fig = Figure(figsize=(4 * ncols, 0.6 + (0.35 * len(labels) + 0.9) * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, (key, title) in zip(axes, keys):
            y = np.arange(len(labels))
            for i, label in enumerate(labels):
                cell = table.cell(label, key)
                if cell is None or not cell.present:
                    ax.text(0.02, i, "missing", transform=ax.get_yaxis_transform(), va="center", fontsize=7, color="grey")
                    continue
                mean = cell.mean * table.spec.scale
                if cell.ci is not None:
                    low, high = (v * table.spec.scale for v in cell.ci)
                    ax.errorbar(mean, i, xerr=[[mean - low], [high - mean]], fmt="o", color="C0", capsize=3)
                else:
                    ax.plot(mean, i, "o", color="C0")
            ax.set_yticks(y, labels if ax in axes[::ncols] else [""] * len(labels))
            ax.set_ylim(len(labels) - 0.5, -0.5)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel(table.spec.what, fontsize=8)
            ax.grid(axis="x", alpha=0.3)
        for ax in axes[len(keys):]:
            ax.set_axis_off()
        fig.suptitle(f"{table.spec.title}: test scores with 95% bootstrap intervals" + provenance_warning(table.rows),
                     fontsize=9)
        return fig
