"""The leaderboard as one self-contained HTML page (``index.html``): the tables, per task a score
plot and the layer-weight profiles, per cell its detail; from a jinja2 template, nothing fetched.

Every number, mark and footnote of a table comes from ``render`` (``shown``, ``footnotes``,
``plain_notes``), the same functions the Markdown, LaTeX and CSV are written from. The page reads
without JavaScript (plain tables, ``<details>``); its one inline script sorts the tables and opens
a cell's details from the table. A Content-Security-Policy allows that script (by its hash) and
inline styles and images only, so a browser refuses any request the page could make.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources

import jinja2
import numpy as np

from care_superb.leaderboard import figures, render
from care_superb.leaderboard.aggregate import Cell, variant_name
from care_superb.leaderboard.rows import Row
from care_superb.leaderboard.scoring import task_objective
from care_superb.leaderboard.tables import TABLES, Table


TEMPLATES = "templates"


@dataclass
class CellDetail:
    """One upstream on one task: what the ``<details>`` element shows."""
    anchor: str
    label: str
    task: str
    summary: str
    rows: list[dict]
    metric_titles: list[str]
    per_seed: list[dict]
    confusion: dict | None = None
    scatter: str | None = None
    provenance: list[tuple[str, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def render_page(tables: list[Table], rows: list[Row], figure_notes: list[str]) -> str:
    anchors = Anchors()
    colour = figures.colours(r.label for r in rows)
    tasks = task_sections(tables, anchors, colour)
    context = {
        "n_rows": len(rows), "statistics": render.STATISTICS,
        "synthetic": any(r.synthetic for r in rows), "random": any(r.random_weights is True for r in rows),
        "legend": legend(tables),
        "tables": [table_view(t, anchors) for t in tables],
        "not_made": [render.not_made(spec) for spec in TABLES if spec.name not in {t.spec.name for t in tables}],
        "tasks": tasks, "figure_notes": figure_notes,
        "style": asset("page.css"),
    }
    script = asset("page.js")
    context["script"] = script
    context["script_hash"] = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    environment = jinja2.Environment(loader=jinja2.PackageLoader("care_superb.leaderboard", TEMPLATES),
                                     autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                                     lstrip_blocks=True, keep_trailing_newline=True)
    return environment.get_template("index.html.j2").render(**context)


def asset(name: str) -> str:
    return resources.files("care_superb.leaderboard").joinpath(TEMPLATES, name).read_text()


class Anchors:
    """Element ids from names: readable, unique, the same for the same input."""

    def __init__(self):
        self._made: dict[tuple, str] = {}

    def __call__(self, *names: str) -> str:
        key = tuple(names)
        if key not in self._made:
            base = "-".join(re.sub(r"[^A-Za-z0-9_]+", "_", n).strip("_") or "x" for n in names)
            made, i = base, 1
            while made in self._made.values():
                i += 1
                made = f"{base}-{i}"
            self._made[key] = made
        return self._made[key]


# -- the tables ----------------------------------------------------------------------------------------

def legend(tables: list[Table]) -> list[tuple[str, str]]:
    """Every mark used on the page, with the footnote that explains it (as in the Markdown)."""
    found: dict[str, str] = {}
    for table in tables:
        for mark, text in render.footnotes(table):
            if mark:
                found.setdefault(mark, text)
    return list(found.items())


def data_badge(table: Table, label: str) -> tuple[str, str]:
    """(text, css class): the data and weights behind a row, said in words."""
    rows = [r for r in table.rows if r.label == label]
    synthetic = [r.synthetic for r in rows]
    data = "synthetic data" if all(synthetic) else "real data" if not any(synthetic) else "synthetic data in some cells"
    weights = [r.random_weights for r in rows]
    if all(w is True for w in weights):
        trained = "random weights"
    elif all(w is False for w in weights):
        trained = "trained weights"
    elif any(w is True for w in weights):
        trained = "random weights in some cells"
    else:
        trained = "weights not recorded"
    real = not any(synthetic) and all(w is False for w in weights)
    return f"{data}, {trained}", "real" if real else "caution"


def table_view(table: Table, anchors: Anchors) -> dict:
    best = render.best_means(table)
    notes = dict(render.footnotes(table))
    columns = render.columns(table)
    body = []
    for g, (group, labels) in enumerate(table.groups):
        for label in labels:
            marks = render.label_marks(table, label)
            badge, kind = data_badge(table, label)
            cells = []
            for key, _ in columns:
                cell = table.cell(label, key)
                shown = render.shown(table, label, key, best.get(key))
                task = None if key == "average" or cell is None else cell_task(table, key)
                cells.append({"shown": shown, "missing": render.MISSING["md"],
                              "anchor": anchors("cell", label, task) if shown is not None and task else None,
                              "value": None if shown is None else repr(round(shown.value, 12)),
                              "marker_note": notes.get(shown.marker, "") if shown is not None else "",
                              "flag_notes": {f: notes.get(f, "") for f in (shown.flags if shown is not None else "")},
                              "few_note": notes.get(render.FEW, "")})
            body.append({"group": group, "group_index": g, "label": label, "marks": marks,
                         "marks_note": "; ".join(notes[m] for m in marks), "badge": badge, "badge_kind": kind,
                         "cells": cells})
    return {"id": anchors("table", table.spec.name), "heading": render.heading(table), "columns": columns,
            "body": body, "footnotes": render.footnotes(table), "notes": render.plain_notes(table),
            "facts": [f for f in (render.column_facts(table, key) for key, _ in columns[:-1]) if f is not None],
            "keys": comparability_keys(table)}


def cell_task(table: Table, key: str) -> str:
    return next(c.task for c in table.spec.columns if c.key == key)


def comparability_keys(table: Table) -> list[dict]:
    """Per task of the table: the settings its rows share (``Row.settings()``), hashed."""
    found = []
    for task in figures.task_order({r.task for r in table.rows}):
        rows = sorted((r for r in table.rows if r.task == task), key=lambda r: str(r.path))
        keys = [r.settings() for r in rows]
        found.append({"task": figures.TASK_TITLES.get(task, task), "settings": sorted(keys[0].items()),
                      "sha256": settings_hash(keys[0]), "n_rows": len(rows),
                      "differing": sum(k != keys[0] for k in keys)})
    return found


def settings_hash(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


# -- per task and cell ---------------------------------------------------------------------------------

def task_sections(tables: list[Table], anchors: Anchors, colour: dict[str, str]) -> list[dict]:
    """Per task: its score figure, its layer-weight figure and each upstream's details."""
    tasks = figures.task_order({c.task for t in tables for c in t.spec.columns if any(r.task == c.task for r in t.rows)})
    sections = []
    for task in tasks:
        # the first table holding the task gives its columns; an upstream shown only in a later
        # table (an ablation in Table IV) is added from there
        holders = [t for t in tables if any(r.task == task for r in t.rows)]
        home = holders[0]
        keys = [c.key for c in home.spec.columns if c.task == task]
        labels, where = [], {}
        for table in holders:
            for label in table.labels:
                if label not in where and any(table.cell(label, k) is not None for k in keys):
                    labels.append(label)
                    where[label] = table
        task_rows = [r for t in holders for r in t.rows if r.task == task and r.label in where]
        task_rows = list({str(r.path): r for r in task_rows}.values())
        panels = [(next(c.title for c in home.spec.columns if c.key == k),
                   [entry for label in labels for entry in figures.entries_of(where[label], k, [label])],
                   {name: mark for label in labels
                    for name, mark in figures.marks_of(where[label], k, [label]).items()})
                  for k in keys]
        title = figures.TASK_TITLES.get(task, task)
        prefix = anchors("task", task)
        score = figures.task_scores(panels, home.spec.what, task_rows, colour)
        layers = figures.task_layer_weights(task_rows, colour)
        sections.append({
            "id": prefix, "title": title,
            "scores": figures.svg(score, f"{prefix}-scores", f"{title}: test scores with 95% intervals or per-cluster ranges"),
            "layers": None if layers is None else figures.svg(layers, f"{prefix}-layers",
                                                                 f"{title}: learned layer weights, ratio to uniform"),
            "without_layers": sorted({r.label for r in task_rows if not r.layer_weights}),
            "cells": [cell_detail(where[label], label, keys, anchors, title) for label in labels
                      if any(where[label].cell(label, k) is not None for k in keys)],
        })
    return sections


def cell_detail(table: Table, label: str, keys: list[str], anchors: Anchors, task_title: str) -> CellDetail:
    cells = [table.cell(label, k) for k in keys]
    first: Cell = next(c for c in cells if c is not None)
    task = cell_task(table, first.key)
    titles = [next(c.title for c in table.spec.columns if c.key == k) for k in keys]
    # the marks * and † are against a table's best other upstream: the tables say them, not the summary
    shown = [render.shown(table, label, k, None) for k in keys]
    shown = [None if s is None else dataclasses.replace(s, marker="") for s in shown]
    summary = "; ".join((f"{t} {s.text()}" if len(keys) > 1 else s.text())
                        + (f" (linear probe {s.probe})" if s.probe else "") for t, s in zip(titles, shown) if s)
    used = first.rows
    metrics = [c.metric for c in cells]
    detail = CellDetail(
        anchor=anchors("cell", label, task), label=label, task=task, summary=summary or "no result",
        metric_titles=[f"{t} ({m})" for t, m in zip(titles, metrics)],
        rows=[row_view(r, metrics, table) for r in sorted(used, key=lambda r: (str(r.seed), str(r.fold), str(r.split_seed)))],
        per_seed=[{"seed": s, "values": [render.number(table, c.seed_values[s]) if c is not None and s in c.seed_values
                                         else render.MISSING["md"] for c in cells]}
                  for s in first.seed_values],
        provenance=provenance(used), notes=sorted({n for c in cells if c is not None for n in c.notes}))
    objective = task_objective(used[0].registry_task, used[0].objective_options) if used else None
    if objective is not None and hasattr(objective, "labels"):
        detail.confusion = confusion(used, list(objective.labels))
    elif objective is not None and hasattr(objective, "attributes"):
        true = np.array([t for r in used for t in r.targets], dtype=float)
        pred = np.array([o for r in used for o in r.outputs], dtype=float)
        fig = figures.scatter(true, pred, list(objective.attributes),
                              f"{label}, {task_title}: predicted against true, {len(true)} utterances "
                              f"({len(used)} rows pooled)" + figures.provenance_warning(used, short=True))
        detail.scatter = figures.svg(fig, f"{detail.anchor}-scatter", f"{label}, {task_title}: predicted against true")
    return detail


def row_view(row: Row, metrics: list[str], table: Table) -> dict:
    exclusions = row.data.get("exclusions")
    return {"seed": row.seed, "test_set": variant_name(row.variant), "n": len(row.keys),
            "clusters": len(set(row.units)), "unit": row.resampling_unit,
            "values": [render.number(table, row.data["metrics"][m]) if m in row.data["metrics"] else render.MISSING["md"]
                       for m in metrics],
            "probes": [render.number(table, row.probe(m)) if row.probe(m) is not None else render.MISSING["md"]
                       for m in metrics],
            "converged": converged_text(row), "schedule": schedule_text(row),
            "exclusions": "not recorded" if exclusions is None else
            ("none" if not exclusions else "; ".join(f"{reason}: {n}" for reason, n in sorted(exclusions.items()))),
            "path": str(row.path)}


def converged_text(row: Row) -> str:
    record = row.data.get("convergence") or {}
    if record.get("converged") is None:
        return "not recorded"
    where = f"dev-best at step {record['dev_best_step']} of {record['steps_trained']}"
    return f"yes ({where})" if record["converged"] else f"NO {render.NOT_CONVERGED}: {record['reason']}"


def schedule_text(row: Row) -> str:
    training = row.data.get("training") or {}
    if not training:
        return "not recorded"
    text = f"{training.get('name')}, lr {training.get('lr'):g}" if training.get("lr") else str(training.get("name"))
    search = training.get("lr_search")
    if search:
        text += f" (chosen on {search['metric']} from " + ", ".join(f"{r['lr']:g}" for r in search["runs"]) + ")"
    return text + f", {training.get('steps_trained')} steps ({training.get('stopped')})"


def confusion(rows: list[Row], classes: list[str]) -> dict:
    """Counts of (target, output) over the rows (folds and seeds pooled), each target's row shaded by
    its share, from the predictions files: what the scores were recomputed from."""
    from sklearn.metrics import confusion_matrix

    true = [int(t) for r in rows for t in r.targets]
    # an output is a class index, or (class index, probabilities) for segment objectives
    pred = [int(o[0]) if isinstance(o, (list, tuple)) else int(o) for r in rows for o in r.outputs]
    counts = confusion_matrix(true, pred, labels=list(range(len(classes))))
    body = []
    for name, line in zip(classes, counts):
        total = int(line.sum())
        body.append({"target": name, "total": total,
                     "cells": [{"n": int(n), "share": n / total if total else 0.0,
                                "alpha": f"{0.85 * n / total:.3f}" if total else "0"} for n in line]})
    return {"classes": classes, "body": body, "n": len(true), "n_rows": len(rows)}


def provenance(rows: list[Row]) -> list[tuple[str, list[str]]]:
    """What made the cell's rows, each field's distinct values (with how many rows where they differ)."""
    fields = {
        "upstream": lambda r: r.upstream_name,
        "upstream checkpoint": lambda r: str(r.data["upstream"].get("ckpt")),
        "its weights": lambda r: weights_text(r),
        "corpus root": lambda r: str((r.data.get("data") or {}).get("root")),
        "corpus": lambda r: corpus_text(r),
        "protocol": lambda r: str((r.data.get("protocol") or {}).get("protocol", "not recorded")),
        "engine": lambda r: str(r.data.get("engine") or "s3prl"),
        "config sha256 (comparability key)": lambda r: settings_hash(r.settings()),
        "benchmark": lambda r: benchmark_text(r),
        "versions": lambda r: ", ".join(f"{k} {v}" for k, v in (r.data.get("versions") or {}).items()) or "not recorded",
        "commit": lambda r: str(r.data.get("git_commit") or "not recorded"),
    }
    found = []
    for name, value in fields.items():
        counts = Counter(value(r) for r in rows)
        if len(counts) == 1:
            found.append((name, list(counts)))
        else:
            found.append((name, [f"{v} ({n} rows)" for v, n in sorted(counts.items())]))
    return found


def weights_text(row: Row) -> str:
    record = row.data["upstream"].get("provenance") or {}
    state = {True: "RANDOM (never trained)", False: "trained", None: "not recorded"}[record.get("random_weights")]
    made = "; ".join(str(record[k]) for k in ("description", "created_by") if record.get(k))
    return state + (f": {made}" if made else "")


def corpus_text(row: Row) -> str:
    data = row.data.get("data") or {}
    if not data.get("synthetic"):
        return "real (no synthetic-corpus marker)"
    synth = data.get("synth") or {}
    made = ", ".join(f"{k} {synth[k]}" for k in ("generator", "layout", "size", "seed") if synth.get(k) is not None)
    return "SYNTHETIC" + (f" ({made})" if made else "")


def benchmark_text(row: Row) -> str:
    record = row.data.get("benchmark") or {}
    if not record.get("file"):
        return "not run by care-superb bench"
    return f"{record.get('name') or ''} ({record['file']})".strip()
