"""Figures (matplotlib): the learned layer weights per task and upstream, each table's and each
task's scores with their intervals (PNG and PDF files; SVG inlined in the page), and a regression
cell's predicted-vs-true scatter (page only). Titles say when the data were synthetic or the
weights random.

Layer weights are drawn as lines of their ratio to uniform (weight x number of layers; 1 is an
even sum), not as a colour scale from 0: s3prl's Featurizer starts uniform and a short run moves
it little (0.071-0.082 over 13 layers), which one colour scale from 0 renders flat.

Byte-identical reruns: matplotlib's default style (not the user's rc file), Figure objects without
pyplot's global state, no software or date fields in the files' metadata, and SVG ids from a fixed
salt (``svg.hashsalt``) instead of random ones.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib
import matplotlib.style
import numpy as np
from matplotlib.figure import Figure

from care_superb.leaderboard.rows import Row
from care_superb.leaderboard.tables import CLASSIFICATION, Table

METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
            "svg": {"Creator": None, "Date": None, "Format": None, "Type": None}}
SVG_RC = {"svg.hashsalt": "care-superb leaderboard", "svg.fonttype": "none"}  # text stays text: small, searchable
TASK_ORDER = [task for task, _ in CLASSIFICATION] + ["msp_improv"]
TASK_TITLES = dict(CLASSIFICATION, msp_improv="MSP-IMPROV")
UNIFORM = "ratio to uniform (weight × layers)"


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


def svg(fig: Figure, prefix: str, title: str) -> str:
    """The figure as an ``<svg>`` element to inline in a page: no XML prolog, every id (and every
    reference to one) prefixed, so that several figures in one document never share an id."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(SVG_RC):
        fig.savefig(buffer, format="svg", metadata={**METADATA["svg"], "Title": title})
    text = buffer.getvalue().decode()
    text = text[text.index("<svg"):]
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r'url\(#([^)]+)\)', rf'url(#{prefix}-\1)', text)
    return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text).strip()


def colours(labels) -> dict[str, str]:
    """One colour per upstream, the same in every figure."""
    palette = matplotlib.colormaps["tab10"].colors
    return {label: matplotlib.colors.to_hex(palette[i % len(palette)]) for i, label in enumerate(sorted(set(labels)))}


# -- layer weights -----------------------------------------------------------------------------------

def profiles(rows: list[Row]) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """task -> label -> rows x layers (each row's softmax layer weights); notes on what is left out."""
    found: dict[str, dict[str, list]] = {}
    for row in sorted(rows, key=lambda r: str(r.path)):
        if row.layer_weights:
            found.setdefault(row.task, {}).setdefault(row.label, []).append(row.layer_weights)
    notes = []
    without = sorted({r.label for r in rows} - {label for by_label in found.values() for label in by_label})
    if without:
        notes.append("No learned layer weights in the rows of " + ", ".join(without) + " (rows written before "
                     "layer_weights was recorded, or an upstream with a single layer): not in the layer-weight figure.")
    result: dict[str, dict[str, np.ndarray]] = {}
    for task in task_order(found):
        for label, weights in sorted(found[task].items()):
            lengths = sorted({len(w) for w in weights})
            if len(lengths) != 1:
                notes.append(f"{label}, {TASK_TITLES.get(task, task)}: rows with different numbers of layers "
                             f"({lengths}); its layer weights are not drawn.")
                continue
            result.setdefault(task, {})[label] = np.array(weights, dtype=float)
    return result, notes


def task_order(tasks) -> list[str]:
    return [t for t in TASK_ORDER if t in tasks] + sorted(set(tasks) - set(TASK_ORDER))


def draw_profiles(ax, by_label: dict[str, np.ndarray], colour: dict[str, str], warnings: dict[str, str]) -> None:
    """Per upstream the mean ratio to uniform over its rows (folds, seeds), and their range as a band."""
    for label, weights in by_label.items():
        ratio = weights * weights.shape[1]
        layers = np.arange(weights.shape[1])
        ax.plot(layers, ratio.mean(0), marker="o", markersize=3, color=colour[label],
                label=label + warnings.get(label, ""))
        if len(ratio) > 1:
            ax.fill_between(layers, ratio.min(0), ratio.max(0), color=colour[label], alpha=0.15, linewidth=0)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("layer (index into the upstream's hidden_states)", fontsize=8)
    ax.set_ylabel(UNIFORM, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


def layer_weights(rows: list[Row]) -> tuple[Figure | None, list[str]]:
    """One panel per task: each upstream's learned layer weights as a line (mean over folds and seeds,
    their range shaded); notes on what is absent."""
    by_task, notes = profiles(rows)
    if not by_task:
        return None, notes
    labels = sorted({label for by_label in by_task.values() for label in by_label})
    colour = colours(labels)
    warnings = {label: provenance_warning([r for r in rows if r.label == label], short=True) for label in labels}
    with matplotlib.style.context("default"):
        ncols = min(3, len(by_task))
        nrows = -(-len(by_task) // ncols)
        fig = Figure(figsize=(4.2 * ncols, 1.2 + 2.8 * nrows + 0.25 * len(labels)), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, (task, by_label) in zip(axes, by_task.items()):
            draw_profiles(ax, by_label, colour, warnings)
            ax.set_title(TASK_TITLES.get(task, task), fontsize=9)
        for ax in axes[len(by_task):]:
            ax.set_axis_off()
        handles = {h.get_label(): h for ax in axes for h in ax.get_lines() if not h.get_label().startswith("_")}
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=min(3, len(handles)),
                   fontsize=8)
        fig.suptitle("Learned layer weights (s3prl Featurizer) as a ratio to uniform (dashed: an even sum), "
                     "mean over folds and seeds, range shaded" + provenance_warning(rows), fontsize=9)
        return fig, notes


def task_layer_weights(rows: list[Row], colour: dict[str, str]) -> Figure | None:
    """One task's layer-weight profiles (the page's figure)."""
    by_task, _ = profiles(rows)
    if not by_task:
        return None
    (by_label,) = by_task.values()
    warnings = {label: provenance_warning([r for r in rows if r.label == label], short=True) for label in by_label}
    with matplotlib.style.context("default"):
        fig = Figure(figsize=(6, 3.2), layout="constrained")
        ax = fig.subplots()
        draw_profiles(ax, by_label, colour, warnings)
        ax.legend(fontsize=7, loc="best")
        ax.set_title("Learned layer weights, ratio to uniform (mean over folds and seeds, range shaded)", fontsize=8)
        return fig


# -- scores ------------------------------------------------------------------------------------------

def score_panel(ax, entries: list[tuple[str, float | None, tuple[float, float] | None, bool]], title: str, what: str,
                colour: dict[str, str] | None = None, tick_labels: bool = True, marks: dict | None = None) -> None:
    """(label, mean, bounds, is_range) per upstream, top to bottom; a missing mean says "missing". Bounds
    are a 95% interval (solid, capped) or, where the cell is not testable, the per-cluster range
    (dotted, hollow mean, no caps): never drawn alike. ``marks`` (``marks_of``): a head that had not
    converged is drawn hollow, its label marked; its linear probe is an x."""
    from care_superb.leaderboard.render import NOT_CONVERGED

    marks = marks or {}
    for i, (label, mean, bounds, is_range) in enumerate(entries):
        if mean is None:
            ax.text(0.02, i, "missing", transform=ax.get_yaxis_transform(), va="center", fontsize=7, color="grey")
            continue
        c = (colour or {}).get(label, "C0")
        unconverged, probe = marks.get(label, (False, None))
        face = "white" if unconverged or (bounds is not None and is_range) else c
        if bounds is not None and is_range:
            ax.plot(bounds, [i, i], linestyle=":", color=c)
            ax.plot(mean, i, "o", markerfacecolor=face, color=c)
        elif bounds is not None:
            ax.errorbar(mean, i, xerr=[[mean - bounds[0]], [bounds[1] - mean]], fmt="o", color=c, capsize=3,
                        markerfacecolor=face)
        else:
            ax.plot(mean, i, "o", color=c, markerfacecolor=face)
        if probe is not None:
            ax.plot(probe, i, "x", color="grey", markersize=6)
    names = [e[0] + (f" {NOT_CONVERGED}" if marks.get(e[0], (False, None))[0] else "") for e in entries]
    ax.set_yticks(range(len(entries)), names if tick_labels else [""] * len(entries))
    ax.set_ylim(len(entries) - 0.5, -0.5)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(what, fontsize=8)
    ax.grid(axis="x", alpha=0.3)


def entries_of(table: Table, key: str, labels: list[str]) -> list[tuple[str, float | None, tuple | None, bool]]:
    scale = table.spec.scale
    entries = []
    for label in labels:
        cell = table.cell(label, key)
        if cell is None or not cell.present:
            entries.append((label, None, None, False))
        else:
            bounds = cell.range if cell.few_clusters else cell.ci
            entries.append((label, cell.mean * scale, None if bounds is None else tuple(v * scale for v in bounds),
                            cell.few_clusters))
    return entries


def marks_of(table: Table, key: str, labels: list[str]) -> dict[str, tuple[bool, float | None]]:
    """label -> (had a head not converged, the linear probes' mean, scaled) for ``score_panel``."""
    marks = {}
    for label in labels:
        cell = table.cell(label, key)
        if cell is not None and cell.present:
            probe = cell.probe_mean
            marks[label] = (bool(cell.unconverged), None if probe is None else probe * table.spec.scale)
    return marks


def marks_note(marks: list[dict]) -> str:
    """What a score figure's title says about its marks ("" when none)."""
    from care_superb.leaderboard.render import NOT_CONVERGED

    parts = []
    if any(m[0] for found in marks for m in found.values()):
        parts.append(f"hollow, {NOT_CONVERGED}: head not converged")
    if any(m[1] is not None for found in marks for m in found.values()):
        parts.append("x: linear probe")
    return f" ({'; '.join(parts)})" if parts else ""


RANGE_NOTE = "dotted, hollow: too few clusters to test, range of the per-cluster scores"


def scores(table: Table) -> Figure | None:
    """Per column with results: each upstream's mean with its 95% interval, or its per-cluster range
    where the column cannot be tested (missing cells say so)."""
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
        marks = [marks_of(table, key, labels) for key, _ in keys]
        for i, (ax, (key, title)) in enumerate(zip(axes, keys)):
            score_panel(ax, entries_of(table, key, labels), title, table.spec.what, tick_labels=i % ncols == 0,
                        marks=marks[i])
        for ax in axes[len(keys):]:
            ax.set_axis_off()
        ranges = any(e[3] for key, _ in keys for e in entries_of(table, key, labels))
        fig.suptitle(f"{table.spec.title}: test scores with 95% intervals over seeds and clusters" + marks_note(marks)
                     + (f"\n({RANGE_NOTE})" if ranges else "") + provenance_warning(table.rows), fontsize=9)
        return fig


def task_scores(panels: list[tuple[str, list, dict]], what: str, rows: list[Row], colour: dict[str, str]) -> Figure:
    """One task's columns (title, entries, marks) side by side: the page's score figure."""
    n_labels = max(len(entries) for _, entries, _ in panels)
    with matplotlib.style.context("default"):
        fig = Figure(figsize=(min(3.2 * len(panels), 10) + 1.2, 0.9 + 0.32 * n_labels), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for i, (ax, (title, entries, marks)) in enumerate(zip(axes, panels)):
            score_panel(ax, entries, title, what, colour, tick_labels=i == 0, marks=marks)
        warning = provenance_warning(rows, short=True)
        ranges = any(e[3] for _, entries, _ in panels for e in entries)
        fig.suptitle("test score: mean over seeds, 95% interval over seeds and clusters"
                     + marks_note([m for _, _, m in panels])
                     + (f"\n({RANGE_NOTE})" if ranges else "") + (f"\n{warning.strip()}" if warning else ""),
                     fontsize=8)
        return fig


def scatter(true: np.ndarray, pred: np.ndarray, attributes: list[str], title: str) -> Figure:
    """Predicted against true per attribute (a regression cell's utterances, rows pooled)."""
    with matplotlib.style.context("default"):
        fig = Figure(figsize=(2.6 * len(attributes), 2.8), layout="constrained")
        axes = fig.subplots(1, len(attributes), squeeze=False)[0]
        for i, (ax, name) in enumerate(zip(axes, attributes)):
            t, p = true[:, i], pred[:, i]
            low, high = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
            ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=0.8)
            # rasterized: thousands of points stay one small image inside the vector figure
            ax.scatter(t, p, s=4, alpha=0.4, color="C0", linewidths=0, rasterized=True)
            ax.set_xlim(low, high)
            ax.set_ylim(low, high)
            ax.set_aspect("equal")
            ax.set_title(name, fontsize=8)
            ax.set_xlabel("true", fontsize=7)
            ax.set_ylabel("predicted" if i == 0 else "", fontsize=7)
            ax.tick_params(labelsize=6)
        fig.suptitle(title, fontsize=8)
        return fig
