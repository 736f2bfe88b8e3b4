"""The paper's tables as data, and how each is filled from cells.

- Table II: the eight classification tasks in the paper's column order, each in its rows'
  primary metric (weighted F1), and their average; upstreams grouped by ``benchmark.category``
  (base / large; rows without one are "uncategorised"). CARE's ablations belong to Table IV.
- Table III: MSP-IMPROV, CCC of valence, arousal, dominance (folds averaged) and their mean.
- Table IV: CARE against its two ablations (acoustic + common, semantic + common), Table II's columns.

Each upstream is tested against the best other upstream of its table in the same column.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from care_superb.leaderboard import stats
from care_superb.leaderboard.aggregate import Cell, Column, average_cell, check_comparable
from care_superb.leaderboard.rows import LeaderboardError, Row

CLASSIFICATION = (("iemocap4", "IEMOCAP-4"), ("iemocap6", "IEMOCAP-6"), ("meld", "MELD"), ("cmu_mosi", "CMU-MOSI"),
                  ("daic_woz", "DAIC-WOZ"), ("ravdess_song", "RAVDESS-Song"), ("cafe", "CaFE"), ("emodb", "EmoDB"))
CLASSIFICATION_COLUMNS = tuple(Column(task, task, title) for task, title in CLASSIFICATION)
MSP_COLUMNS = tuple(Column(f"msp_improv/{a}_ccc", "msp_improv", a.capitalize(), f"{a}_ccc")
                    for a in ("valence", "arousal", "dominance"))
CATEGORIES = ("base", "large")
UNCATEGORISED = "uncategorised"
VARIANTS = ("CARE", "acoustic + common", "semantic + common")

BEST, WORSE = "*", "†"  # significance markers


def care_variant(upstream_name: str) -> str | None:
    if upstream_name.startswith("care_acoustic"):
        return VARIANTS[1]
    if upstream_name.startswith("care_semantic"):
        return VARIANTS[2]
    if upstream_name == "care" or upstream_name.startswith("care_"):
        return VARIANTS[0]
    return None


def by_category(row: Row) -> str | None:
    if care_variant(row.upstream_name) in VARIANTS[1:]:
        return None
    return row.category or UNCATEGORISED


def by_variant(row: Row) -> str | None:
    return care_variant(row.upstream_name)


@dataclass(frozen=True)
class TableSpec:
    name: str  # file stem
    title: str
    columns: tuple[Column, ...]
    group_of: Callable[[Row], str | None]  # None: the row is not in this table
    group_order: tuple[str, ...]
    scale: float  # 100: shown in %
    digits: int
    what: str  # what a number is
    min_groups: int = 1  # Table IV compares: CARE alone is not a table


TABLES = (
    TableSpec("table2", "Table II: classification", CLASSIFICATION_COLUMNS, by_category, (*CATEGORIES, UNCATEGORISED),
              100, 1, "weighted F1 (%)"),
    TableSpec("table3", "Table III: MSP-IMPROV emotional attributes", MSP_COLUMNS, by_category,
              (*CATEGORIES, UNCATEGORISED), 1, 3, "CCC"),
    TableSpec("table4", "Table IV: CARE and its encoders", CLASSIFICATION_COLUMNS, by_variant, VARIANTS,
              100, 1, "weighted F1 (%)", min_groups=2),
)


@dataclass(frozen=True)
class Comparison:
    """A cell against the best other upstream of its table and column."""
    compared_with: str
    p_value: float | None  # None: no rows of the two on the same test utterances
    marker: str = ""


@dataclass
class Table:
    spec: TableSpec
    groups: list[tuple[str, list[str]]]  # (group, labels in it)
    cells: dict[tuple[str, str], Cell]  # (label, column key); the average under "average"
    rows: list[Row]
    metrics: dict[str, str] = field(default_factory=dict)  # column key -> metric shown
    notes: list[str] = field(default_factory=list)
    comparisons: dict[tuple[str, str], Comparison] = field(default_factory=dict)  # per table: the best other differs

    @property
    def labels(self) -> list[str]:
        return [label for _, labels in self.groups for label in labels]

    def cell(self, label: str, key: str) -> Cell | None:
        return self.cells.get((label, key))

    def flags(self, label: str) -> dict[str, bool]:
        rows = [r for r in self.rows if r.label == label]
        return {"synthetic": any(r.synthetic for r in rows),
                "random_weights": any(r.random_weights is True for r in rows),
                "unknown_weights": any(r.random_weights is None for r in rows)}


def build_table(spec: TableSpec, rows: list[Row], cells: dict, allow_mixed_heads: bool) -> Table | None:
    mine = [r for r in rows if spec.group_of(r) is not None and r.task in {c.task for c in spec.columns}]
    if len({spec.group_of(r) for r in mine}) < spec.min_groups:
        return None
    problems = check_comparable(mine)
    if problems and not allow_mixed_heads:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise LeaderboardError(f"{spec.title}: rows that differ in head, training, data protocol or test utterances "
                               "cannot be compared in one table (pass --allow-mixed-heads to tabulate them "
                               "anyway):\n- " + "\n- ".join(shown))
    groups: dict[str, set[str]] = {}
    group_of_label: dict[str, tuple[str, Row]] = {}
    for row in mine:
        group = spec.group_of(row)
        seen = group_of_label.setdefault(row.label, (group, row))
        if seen[0] != group:
            raise LeaderboardError(f"upstream {row.label!r} is {seen[0]!r} in {seen[1].path} but {group!r} in {row.path}")
        groups.setdefault(group, set()).add(row.label)
    order = [g for g in spec.group_order if g in groups] + sorted(set(groups) - set(spec.group_order))
    table = Table(spec, [(g, sorted(groups[g])) for g in order], {}, mine)
    if problems:
        table.notes.append(f"Rows that are not comparable tabulated anyway (--allow-mixed-heads): {len(problems)} "
                           "difference(s), e.g. " + problems[0])
    for label in table.labels:
        for column in spec.columns:
            cell = cells.get((label, column.key))
            if cell is not None:
                table.cells[(label, column.key)] = cell
                table.metrics[column.key] = cell.metric
                table.notes += cell.notes
        # Keyed by its columns, so that the same average in two tables draws the same resamples.
        table.cells[(label, "average")] = average_cell(
            label, "average:" + "+".join(c.key for c in spec.columns), [table.cell(label, c.key) for c in spec.columns])
    return table


def compute_intervals(table: Table, scorers: stats.Scorers, n_resamples: int, seed: int, progress=None) -> None:
    for cell in (c for c in table.cells.values() if c.present and c.ci is None):
        # Seeded by the cell's names, not the table's: a cell shown in two tables has one interval.
        terms = stats.cell_terms(cell.weights(), scorers)
        cell.clusters = stats.clusters_per_test_set(terms)
        cell.ci = stats.bootstrap_interval(terms, n_resamples, stats.rng_for(seed, "bootstrap", cell.label, cell.key))
        if progress is not None:
            progress.update()


def compute_tests(table: Table, scorers: stats.Scorers, n_resamples: int, seed: int, progress=None) -> None:
    """Each upstream against the best other upstream of the table in each column, average included."""
    done: dict[tuple, tuple[float, float]] = {}
    for key in [c.key for c in table.spec.columns] + ["average"]:
        present = [table.cell(label, key) for label in table.labels]
        present = [c for c in present if c is not None and c.present]
        ranked = sorted(present, key=lambda c: (-c.mean, c.label))
        for cell in ranked:
            others = [c for c in ranked if c is not cell]
            if not others:
                continue
            best_other = others[0]
            pair = tuple(sorted((cell.label, best_other.label)))
            if (key, pair) not in done:  # one test per column and pair (each column has its own test sets)
                terms, notes = paired_terms(*(table.cell(label, key) for label in pair), scorers)
                table.notes += [f"{pair[0]} vs {pair[1]}, {column_title(table, key)}: {note}" for note in notes]
                done[key, pair] = (stats.paired_test(terms, n_resamples, stats.rng_for(seed, "test", key, *pair))
                                   if terms else (None, None))
            p_value = done[key, pair][0]
            marker = ""
            if p_value is not None and p_value < stats.ALPHA:
                marker = BEST if cell is ranked[0] and cell.mean > best_other.mean else WORSE
            table.comparisons[(cell.label, key)] = Comparison(best_other.label, p_value, marker)
            if progress is not None:
                progress.update()


def column_title(table: Table, key: str) -> str:
    return next((c.title for c in table.spec.columns if c.key == key), "Average")


def paired_terms(a: Cell, b: Cell, scorers: stats.Scorers) -> tuple[list[stats.Term], list[str]]:
    """Terms of A - B over the rows both have (same task, fold, split seed, seed), reweighted as a cell,
    each in the block of its test set (so that a cluster's swap is the same in every seed); and a
    note for every row left unpaired. No terms (and a note why) when a column has no pair."""
    parts = list(zip(a.parts, b.parts)) if a.parts else [(a, b)]
    terms, notes = [], []
    for part_a, part_b in parts:
        theirs = {(r.task, r.fold, r.split_seed, r.seed): r for r in part_b.rows}
        mine = {(r.task, r.fold, r.split_seed, r.seed) for r in part_a.rows}
        by_seed: dict = {}
        for row in part_a.rows:
            other = theirs.get((row.task, row.fold, row.split_seed, row.seed))
            if other is None:
                notes.append(f"{row.describe()} has no counterpart in {part_b.label}: left out of the test")
            elif set(other.keys) != set(row.keys):
                notes.append(f"{row.path} and {other.path} are not on the same test utterances: not paired")
            else:
                by_seed.setdefault(row.seed, []).append((row, other))
        notes += [f"{r.describe()} has no counterpart in {part_a.label}: left out of the test"
                  for r in part_b.rows if (r.task, r.fold, r.split_seed, r.seed) not in mine]
        if not by_seed:
            return [], notes + [f"no pair of rows on the same test utterances in {part_a.key}: not tested"]
        for pairs in by_seed.values():
            for row, other in pairs:
                w = 1 / len(parts) / len(by_seed) / len(pairs)
                terms.append((scorers((row, other), part_a.metric), w, stats.test_set(row)))
    return terms, notes
