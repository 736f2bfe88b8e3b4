"""From rows to cells: one cell per upstream label and table column, averaged as the paper does.

Order of averaging, everywhere: first the test sets (IEMOCAP's sessions, MSP-IMPROV's speakers;
or several split seeds: each a (fold, split seed) of the task) within one training seed, then mean ±
sample std (ddof 1) across seeds. A seed that lacks a test set which the task's other rows have
is left out of the cell (and said so): averaging different test sets would compare different things.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from care_superb.leaderboard.rows import LeaderboardError, Row


@dataclass(frozen=True)
class Column:
    key: str  # unique: the task, or "<task>/<metric>"
    task: str
    title: str
    metric: str | None = None  # None: the task's primary metric, from its rows


@dataclass
class Cell:
    """A number in a table with everything needed to test it. ``parts`` (for an average column)
    are the cells it averages; ``rows`` (for a task column) are the rows it averages."""
    label: str
    key: str
    metric: str | None
    by_seed: dict = field(default_factory=dict)  # seed -> rows (folds) used
    parts: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # filled by ``tables.describe_cell``, the same in every table showing the cell
    estimate: object = None  # stats.Estimate: mean, variance over seeds and clusters, df
    linear: object = None  # stats.Linear: what a comparison subtracts
    ci: tuple[float, float] | None = None  # 95% interval, where the cell is testable
    range: tuple[float, float] | None = None  # per-cluster range, where it is not (too few clusters)
    clusters: list[int] = field(default_factory=list)  # clusters in each of its test sets

    @property
    def few_clusters(self) -> bool:
        """Too few clusters for an interval or a test: the per-cluster range is shown instead."""
        return self.estimate is not None and not self.estimate.testable

    @property
    def resampling_units(self) -> list[str]:
        return sorted({r.resampling_unit for r, _, _ in self.weights()}) if self.present else []

    @property
    def rows(self) -> list[Row]:
        return [r for rows in self.by_seed.values() for r in rows]

    @property
    def seed_values(self) -> dict:
        """Per seed: the mean over its folds (task cell), or over the averaged cells (average cell)."""
        if self.parts:
            seeds = [set(p.seed_values) for p in self.parts]
            if any(s != seeds[0] for s in seeds):
                return {}
            return {s: statistics.fmean(p.seed_values[s] for p in self.parts) for s in sort_seeds(seeds[0])}
        return {seed: statistics.fmean(r.data["metrics"][self.metric] for r in rows)
                for seed, rows in self.by_seed.items()}

    @property
    def present(self) -> bool:
        return bool(self.by_seed) or (bool(self.parts) and all(p.present for p in self.parts))

    @property
    def mean(self) -> float | None:
        if not self.present:
            return None
        if self.parts:
            return statistics.fmean(p.mean for p in self.parts)
        return statistics.fmean(self.seed_values.values())

    @property
    def std(self) -> float | None:
        values = list(self.seed_values.values())
        return statistics.stdev(values) if len(values) > 1 else None

    @property
    def n_seeds(self) -> int:
        return len(self.seed_values) if self.present else 0

    @property
    def unconverged(self) -> list[Row]:
        """Its rows whose head had not finished learning when training stopped."""
        return [r for r, _, _ in self.weights() if r.converged is False] if self.present else []

    @property
    def probe_mean(self) -> float | None:
        """The linear probes' mean, averaged as the cell's mean is; None unless every row has one."""
        if not self.present:
            return None
        found = [(r.probe(m), w) for r, m, w in self.weights()]
        if any(v is None for v, _ in found):
            return None
        return sum(v * w for v, w in found) / sum(w for _, w in found)

    def weights(self) -> list[tuple[Row, str, float]]:
        """(row, metric, weight) such that the cell's mean is the weighted sum of row metrics."""
        if self.parts:
            return [(r, m, w / len(self.parts)) for p in self.parts for r, m, w in p.weights()]
        return [(r, self.metric, 1 / len(self.by_seed) / len(rows)) for rows in self.by_seed.values() for r in rows]


def sort_seeds(seeds):
    return sorted(seeds, key=lambda s: (s is None, not isinstance(s, (int, float)), s if isinstance(s, (int, float)) else 0, str(s)))


def variant_name(variant: tuple) -> str:
    fold, split_seed = variant
    return ", ".join(([f"fold {fold}"] if fold is not None else []) +
                     ([f"split seed {split_seed}"] if split_seed is not None else [])) or "its test set"


def task_metric(rows: list[Row], task: str) -> str:
    """The task's primary metric: all its rows must agree on it."""
    metrics = {}
    for row in rows:
        metrics.setdefault(row.primary_metric, row)
    if len(metrics) > 1:
        (m1, r1), (m2, r2) = list(metrics.items())[:2]
        raise LeaderboardError(f"{task} rows disagree on the primary metric: {r1.path} ({m1}) and {r2.path} ({m2}); "
                               f"tabulate them separately")
    return next(iter(metrics))


def build_cells(rows: list[Row], columns: list[Column]) -> dict[tuple[str, str], Cell]:
    """Every (label, column key) cell that has rows; the expected test sets (fold, split seed) of a task
    are those that any of its rows (any upstream) has."""
    cells = {}
    for column in columns:
        task_rows = [r for r in rows if r.task == column.task]
        if not task_rows:
            continue
        metric = column.metric or task_metric(task_rows, column.task)
        variants = {r.variant for r in task_rows}
        by_label: dict[str, list[Row]] = {}
        for row in task_rows:
            by_label.setdefault(row.label, []).append(row)
        for label, label_rows in sorted(by_label.items()):
            cell = Cell(label=label, key=column.key, metric=metric)
            by_seed: dict = {}
            for row in sorted(label_rows, key=lambda r: str(r.path)):
                by_seed.setdefault(row.seed, []).append(row)
            for seed in sort_seeds(by_seed):
                have = {r.variant for r in by_seed[seed]}
                if have != variants:
                    lacking = "; ".join(variant_name(v) for v in sorted(variants - have, key=str))
                    cell.notes.append(f"{label}, {column.title}: seed {seed} left out, it lacks {lacking}")
                    continue
                cell.by_seed[seed] = sorted(by_seed[seed], key=lambda r: (str(r.fold), str(r.split_seed), str(r.path)))
            cells[(label, column.key)] = cell
    return cells


def average_cell(label: str, key: str, parts: list[Cell | None]) -> Cell:
    """The mean of a row's cells; missing unless every one of them is present."""
    cell = Cell(label=label, key=key, metric=None)
    if parts and all(p is not None and p.present for p in parts):
        cell.parts = list(parts)
    return cell


def check_comparable(rows: list[Row]) -> list[str]:
    """Within each task, every row must share the first row's comparability key (head, training and
    data protocol: ``downstream/comparability.py``), and every row of one test set (task, fold,
    split seed) the same test utterances. The differences found, each naming its files."""
    from care_superb.downstream.comparability import differences

    problems = []
    first_of_task: dict[str, tuple[Row, dict]] = {}
    first_of_set: dict[tuple, Row] = {}
    for row in sorted(rows, key=lambda r: str(r.path)):
        first, key = first_of_task.setdefault(row.task, (row, row.settings()))
        differing = differences(key, row.settings()) if first is not row else []
        if differing:
            problems.append(f"{first.path} and {row.path} ({row.task}) differ in head, training or data protocol: "
                            + "; ".join(differing))
        same_set = first_of_set.setdefault((row.task, *row.variant), row)
        if set(same_set.keys) != set(row.keys):
            only = sorted(set(same_set.keys) ^ set(row.keys))
            problems.append(f"{same_set.path} and {row.path} ({row.task}, {variant_name(row.variant)}) are not on the "
                            f"same test utterances ({len(same_set.keys)} vs {len(row.keys)}; {len(only)} in one only, "
                            f"e.g. {only[0]}): a different corpus copy, exclusions or split settings")
    return problems
