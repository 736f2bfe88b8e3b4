"""The paper's tables as data, and how each is filled from cells.

- Table II: the eight classification tasks in the paper's column order, each in its rows'
  primary metric (weighted F1), and their average; upstreams grouped by ``benchmark.category``
  (base / large; rows without one are "uncategorised"). CARE's ablations belong to Table IV.
- Table III: MSP-IMPROV, CCC of valence, arousal, dominance (folds averaged) and their mean.
- Table IV: CARE against its two ablations (acoustic + common, semantic + common), Table II's columns.

The comparisons are declared before looking at any number (``family``): in each column (the Average
included), CARE against each other upstream of the table when CARE is in it (the paper's claim:
Tables II, III and IV), else every pair of upstreams; their family-wise error is held at ALPHA by
Holm's step-down correction within the column (valid under any dependence between the comparisons;
the columns are separate families, said under each table). A mark's direction is the sign of the
paired difference that was tested, on the same seeds and test sets, never of the displayed means.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from care_superb.downstream import metrics
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
FAMILY_PAIRS = "every pair of upstreams"
CORRECTION = "Holm's step-down correction within each column"


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


def is_care(row: Row) -> bool:
    return care_variant(row.upstream_name) == VARIANTS[0]


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
    reference: Callable[[Row], bool] | None = is_care  # the family: the reference against each other upstream


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
    """One comparison of a column's family: upstream ``a`` against ``b``, on their paired difference."""
    key: str
    a: str
    b: str
    difference: float | None = None  # mean of a - b over the same seeds and test sets
    se: float | None = None
    df: float | None = None
    p_value: float | None = None  # None: not tested, ``reason`` says why
    p_adjusted: float | None = None  # Holm, within the column's family
    reason: str = ""

    @property
    def significant(self) -> bool:
        return self.p_adjusted is not None and self.p_adjusted < stats.ALPHA

    @property
    def winner(self) -> str | None:
        if not self.significant:
            return None
        return self.a if self.difference > 0 else self.b


@dataclass
class Table:
    spec: TableSpec
    groups: list[tuple[str, list[str]]]  # (group, labels in it)
    cells: dict[tuple[str, str], Cell]  # (label, column key); the average under "average"
    rows: list[Row]
    metrics: dict[str, str] = field(default_factory=dict)  # column key -> metric shown
    notes: list[str] = field(default_factory=list)
    comparisons: dict[str, list[Comparison]] = field(default_factory=dict)  # column key -> its family
    families: dict[str, str] = field(default_factory=dict)  # column key -> the family in words

    @property
    def labels(self) -> list[str]:
        return [label for _, labels in self.groups for label in labels]

    def cell(self, label: str, key: str) -> Cell | None:
        return self.cells.get((label, key))

    def marker(self, label: str, key: str) -> str:
        """WORSE: significantly worse than an upstream it was compared with; BEST: significantly better
        than every upstream it was compared with (all of its comparisons tested)."""
        mine = [c for c in self.comparisons.get(key, []) if label in (c.a, c.b)]
        if any(c.winner not in (None, label) for c in mine):
            return WORSE
        if mine and all(c.winner == label for c in mine):
            return BEST
        return ""

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


def compute_statistics(table: Table, scorers: stats.Scorers, progress=None) -> None:
    """Every cell's estimate and interval (or per-cluster range), then each column's family."""
    for cell in (c for c in table.cells.values() if c.present and c.estimate is None):
        describe_cell(cell, scorers)  # a cell shown in two tables is computed once
        if progress is not None:
            progress.update()
    for key in [c.key for c in table.spec.columns] + ["average"]:
        cells = [c for c in (table.cell(label, key) for label in table.labels) if c is not None and c.present]
        if not cells:
            continue
        reference = {c.label for c in cells
                     if table.spec.reference and any(table.spec.reference(r) for r, _, _ in c.weights())}
        table.families[key] = (f"{' and '.join(sorted(reference))} against each other upstream"
                               if reference and len(reference) < len(cells) else FAMILY_PAIRS)
        table.comparisons[key] = compare_family(cells, reference)
        if progress is not None:
            progress.update()


def describe_cell(cell: Cell, scorers: stats.Scorers) -> None:
    weights = cell.weights()
    cell.linear = stats.linearise(weights, scorers)
    cell.estimate = cell.linear.estimate()
    by_set: dict = {}
    for row, _, _ in weights:
        by_set[stats.test_set(row)] = len(set(row.units))
    cell.clusters = sorted(by_set.values())
    if cell.estimate.testable:
        # A t interval on few degrees of freedom (two seeds) can reach past what the metric can be:
        # cut to the cell's range (the weighted sum of its metrics' bounds), which only drops
        # values the cell cannot take, so the coverage stays at least 95%.
        low, high = cell.estimate.interval()
        floor = sum(w * metrics.bounds(m)[0] for _, m, w in weights)
        ceiling = sum(w * metrics.bounds(m)[1] for _, m, w in weights)
        cell.ci = max(low, floor), min(high, ceiling)
    else:
        cell.range = stats.per_cluster_range(weights, scorers)


def family(cells: list[Cell], reference: set[str]) -> list[tuple[Cell, Cell]]:
    """The column's comparisons, fixed by who is in it, never by its numbers: each reference upstream
    against each other one when there is a reference and something to compare it with, else every pair."""
    ordered = sorted(cells, key=lambda c: c.label)
    if reference and len(reference) < len(ordered):
        return [(a, b) for a in ordered if a.label in reference for b in ordered if b.label not in reference]
    return [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1:]]


def compare_family(cells: list[Cell], reference: set[str]) -> list[Comparison]:
    """Each comparison of the family tested on the paired difference, or refused with the reason;
    Holm's adjustment over those tested.

    The seed part of a difference's variance is pooled over the column's upstreams (a mixed model's
    one seed variance per column): each cell's own R - 1 = 2 degrees of freedom put a t reference's
    critical value at 4.3 (at Holm's 0.05 / 4, 8.9), and Satterthwaite's df from two estimated
    components is too optimistic in the tails Holm reaches into; pooled over K upstreams it has
    K (R - 1). Measured (``tests/test_leaderboard_calibration.py``, 1000-2000 columns of 5 equal
    upstreams, all pairs): own seeds only, family-wise error 0.048 and 0.112 at seed spreads of 2
    and 4 WF1 points; pooled, 0.024 and 0.020. The assumption: a task's head is about as
    seed-sensitive on every upstream of the column.
    """
    pooled = pooled_seed_shift(cells)
    found = []
    for a, b in family(cells, reference):
        reason = refusal(a, b)
        if reason:
            found.append(Comparison(a.key, a.label, b.label, reason=reason))
            continue
        # a difference of two upstreams holds two seed shifts: twice the variance, four times its noise
        diff = (a.linear - b.linear).estimate(None if pooled is None else (2 * pooled[0], 4 * pooled[1]))
        found.append(Comparison(a.key, a.label, b.label, diff.mean, diff.se, diff.df, diff.p_value()))
    tested = [i for i, c in enumerate(found) if c.p_value is not None]
    for i, adjusted in zip(tested, stats.holm([found[i].p_value for i in tested])):
        found[i] = replace(found[i], p_adjusted=adjusted)
    return found


def pooled_seed_shift(cells: list[Cell]) -> tuple[float, float] | None:
    """One upstream's seed shift variance (``Linear.seed_shift``) pooled over the column's cells, each
    weighted by its R - 1, and the variance of the pooled estimate; None without two seeds anywhere."""
    parts = [c.linear.seed_shift() for c in cells]
    total = sum(w for _, _, w in parts)
    if not total:
        return None
    return (sum(v * w for v, _, w in parts) / total, sum(n * w * w for _, n, w in parts) / total ** 2)


def refusal(a: Cell, b: Cell) -> str:
    """Why a and b are not tested against each other ("" when they are)."""
    unlike = a.linear.unlike(b.linear)
    if unlike:
        return f"not tested: {unlike}; a comparison needs both on the same seeds and test sets"
    n = min(a.estimate.n_clusters, b.estimate.n_clusters)
    if n < stats.MIN_CLUSTERS:  # first: more seeds would not make it testable
        return untestable(n)
    if a.estimate.n_seeds < 2:
        return ("not tested: one training seed, so the seed-to-seed variance is unknown (train two or more seeds, "
                "e.g. benchmark seeds: [1337, 1, 2])")
    return ""


def untestable(n_clusters: int) -> str:
    return (f"not testable (smallest possible p = {stats.smallest_p(n_clusters):.3g}: {n_clusters} clusters; "
            f"the leaderboard tests from {stats.MIN_CLUSTERS})")


def column_title(table: Table, key: str) -> str:
    return next((c.title for c in table.spec.columns if c.key == key), "Average")
