"""A filled table as Markdown and LaTeX (pandas; tabulate / booktabs) and as a long CSV, with the
same markers and footnotes in each. What a cell shows (``Shown``), the footnotes and the notes are
decided here once; each format, the page (``page.py``) included, only typesets them."""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import pandas as pd

from care_superb.leaderboard import stats
from care_superb.leaderboard.tables import BEST, CORRECTION, WORSE, Table, TableSpec, column_title

SYNTHETIC, RANDOM = "§", "¶"
FEW = "‡"  # too few clusters for an interval or a test: the per-cluster range is shown
# A head that had not finished learning (downstream/convergence.py), and one well below its own
# linear probe (benchmark/probe.py): the number ranks optimisation, or the protocol loses information.
NOT_CONVERGED, BELOW_PROBE = "°", "↓"
PROBE_GAP = 0.05  # "well below": 5 points of F1 (0.05 CCC), beyond the seed spread of a converged head
MISSING = {"md": "–", "tex": "--"}
STATISTICS = ("Intervals and tests include the variance over training seeds and over the test sets' clusters "
              "(analytic: nothing is resampled, the same rows give the same numbers); each table's comparisons "
              "are a family per column, Holm-corrected (see each table's notes and <table>.comparisons.csv).")
LATEX_MARKS = {BEST: "$^{*}$", WORSE: "$^{\\dagger}$", SYNTHETIC: "\\S", RANDOM: "\\P", FEW: "$^{\\ddagger}$",
               NOT_CONVERGED: "$^{\\circ}$", BELOW_PROBE: "$^{\\downarrow}$"}


def columns(table: Table) -> list[tuple[str, str]]:
    return [(c.key, c.title) for c in table.spec.columns] + [("average", "Average")]


def label_marks(table: Table, label: str) -> str:
    flags = table.flags(label)
    return (SYNTHETIC if flags["synthetic"] else "") + (RANDOM if flags["random_weights"] else "")


def best_means(table: Table) -> dict[str, float]:
    best = {}
    for key, _ in columns(table):
        means = [c.mean for c in (table.cell(label, key) for label in table.labels) if c is not None and c.present]
        if means:
            best[key] = max(means)
    return best


def number(table: Table, value: float) -> str:
    return f"{value * table.spec.scale:.{table.spec.digits}f}"


@dataclass(frozen=True)
class Shown:
    """A table cell as every format shows it (Markdown, LaTeX, CSV's marker, the HTML page): its
    numbers as text and its marks, decided here once; the formats only typeset them."""
    mean: str
    std: str | None  # None: one seed
    interval: tuple[str, str] | None  # the 95% interval, or (few) the per-cluster range
    few: bool  # fewer than MIN_CLUSTERS clusters: not testable, ``interval`` is the per-cluster range: FEW
    marker: str  # BEST, WORSE or ""
    bold: bool  # best in its column
    value: float  # the mean as shown (scaled), unrounded: what a page sorts by
    flags: str = ""  # NOT_CONVERGED and/or BELOW_PROBE
    probe: str | None = None  # the linear probes' mean, as shown; None where a row has none

    def text(self, bold: tuple[str, str] = ("", ""), pm: str = " ± ", interval: str = " [{}, {}]",
             marks: dict[str, str] | None = None) -> str:
        """The cell in one format: ``bold`` wraps the mean, ``interval`` formats the bounds,
        ``marks`` typesets FEW and the markers (default: as they are)."""
        mark = (marks or {}).get
        text = (bold[0] + self.mean + bold[1] if self.bold else self.mean) + (pm + self.std if self.std else "")
        if self.interval is not None:
            bounds = (f"range {self.interval[0]}", self.interval[1]) if self.few else self.interval
            text += interval.format(*bounds) + ((mark(FEW) or FEW) if self.few else "")
        text += (mark(self.marker) or self.marker) if self.marker else ""
        return text + "".join(mark(flag) or flag for flag in self.flags)


def shown(table: Table, label: str, key: str, best: float | None) -> Shown | None:
    """The cell (label, key) as shown; None where it is missing. ``best``: its column's best mean."""
    cell = table.cell(label, key)
    if cell is None or not cell.present:
        return None
    probe = cell.probe_mean
    flags = (NOT_CONVERGED if cell.unconverged else "") + (
        BELOW_PROBE if probe is not None and cell.mean < probe - PROBE_GAP else "")
    bounds = cell.range if cell.few_clusters else cell.ci
    return Shown(mean=number(table, cell.mean),
                 std=number(table, cell.std) if cell.std is not None else None,
                 interval=(number(table, bounds[0]), number(table, bounds[1])) if bounds is not None else None,
                 few=cell.few_clusters,
                 marker=table.marker(label, key),
                 bold=best is not None and math.isclose(cell.mean, best, rel_tol=0, abs_tol=1e-12),
                 value=cell.mean * table.spec.scale, flags=flags,
                 probe=None if probe is None else number(table, probe))


def cell_text(table: Table, label: str, key: str, best: float | None, fmt: str) -> str:
    found = shown(table, label, key, best)
    if found is None:
        return MISSING[fmt]
    if fmt == "md":
        return found.text(bold=("**", "**"))
    return found.text(bold=("\\textbf{", "}"), pm=" $\\pm$ ", interval=" {{\\scriptsize [{}, {}]}}", marks=LATEX_MARKS)


def heading(table: Table) -> str:
    return f"{table.spec.title}: {table.spec.what} on the test split"


def not_made(spec: TableSpec) -> str:
    return f"{spec.title}: not made, no rows for it" + (" (CARE and at least one of its ablations, care_acoustic* / "
                                                        "care_semantic*)" if spec.min_groups > 1 else "") + "."


CELL = ("Cell: mean ± std over training seeds (folds, or several split seeds, averaged within a seed first) "
        "[95% interval over training seeds and the test set's clusters (speakers, dialogues, videos, scenes or "
        "interviews: see the notes): a mixed model with seed and cluster as crossed random effects, Student's t with "
        "Satterthwaite's degrees of freedom, cut to what the metric can take; with one seed it is conditional on that "
        "one trained head]. Bold: best "
        "mean in its column. Average: over the table's columns, only where all are present. –: no result.")


def tests_note(table: Table) -> str:
    """What was tested, how, and which columns could not be ("" when nothing was compared)."""
    families = sorted({table.families[key] for key, found in table.comparisons.items() if found})
    if not families:
        return ""
    untestable = [title for key, title in columns(table)
                  if any(c.few_clusters for c in (table.cell(label, key) for label in table.labels)
                         if c is not None and c.present)]
    return (f"Tests: in each column (the Average included) a family fixed in advance, {' or '.join(families)}; "
            f"each a paired test of the difference on the same seeds and test sets (seed and cluster variance, "
            f"as the intervals; seed variance pooled over the column's upstreams), two-sided; {CORRECTION}, "
            f"adjusted p < {stats.ALPHA}."
            + (f" Not testable (fewer than {stats.MIN_CLUSTERS} clusters): {', '.join(untestable)}."
               if untestable else ""))


def footnotes(table: Table) -> list[tuple[str, str]]:
    """(marker, text) pairs; the first ones (empty marker) say what a cell holds and what was tested."""
    notes = [("", CELL)] + ([("", tests_note(table))] if tests_note(table) else [])
    marks = {table.marker(label, key) for key, _ in columns(table) for label in table.labels}
    if BEST in marks:
        notes.append((BEST, "significantly better than every upstream it was compared with"))
    if WORSE in marks:
        notes.append((WORSE, "significantly worse than an upstream it was compared with"))
    if any(c.few_clusters for c in table.cells.values() if c.present):
        notes.append((FEW, f"not testable: fewer than {stats.MIN_CLUSTERS} clusters in its test sets (e.g. 2-3 test "
                           f"speakers; an exact test over 2 clusters cannot give p below 0.5): no interval is a 95% "
                           f"interval there, the range of the per-cluster scores is shown instead"))
    flags = "".join(s.flags for s in (shown(table, label, key, None) for label in table.labels
                                      for key, _ in columns(table)) if s is not None)
    if NOT_CONVERGED in flags:
        notes.append((NOT_CONVERGED, "the head had NOT CONVERGED in some of the cell's rows: its best dev score came in "
                                     "the last 10% of training, or its dev score still rose over the last 20% "
                                     "(each row's convergence says which). The number measures how fast a head "
                                     "learns at this feature scale, not what the features hold; train with "
                                     "schedule: converge"))
    if BELOW_PROBE in flags:
        notes.append((BELOW_PROBE, f"more than {PROBE_GAP * table.spec.scale:g} below a standardised linear probe "
                                   f"of the same pooled features (layer and regularisation chosen on dev; the "
                                   f"page shows it beside the head's score): the head had not converged (then it "
                                   f"is marked {NOT_CONVERGED} too) or the protocol loses what a linear read-out "
                                   f"finds (e.g. features the head reads unstandardised)"))
    if any(table.flags(label)["synthetic"] for label in table.labels):
        notes.append((SYNTHETIC, "results computed on SYNTHETIC data (espeak-ng speech in the corpus's layout), in "
                                 "some or all cells of the row: they show that the pipeline works, not how well the "
                                 "upstream recognises emotion"))
    if any(table.flags(label)["random_weights"] for label in table.labels):
        notes.append((RANDOM, "upstream with RANDOM (never trained) weights in some or all cells of the row"))
    return notes


def p_text(p: float) -> str:
    return "p < 0.0001" if p < 1e-4 else f"p = {p:.2g}"


def comparison_notes(table: Table) -> list[str]:
    """The families in words: what each column tested, what it found, and what it refused and why."""
    notes = []
    for key, _ in columns(table):
        found = table.comparisons.get(key, [])
        if not found:
            continue
        title = column_title(table, key)
        tested = [c for c in found if c.p_value is not None]
        significant = [c for c in tested if c.significant]
        line = f"{title}: {table.families[key]}, {len(tested)} of {len(found)} comparison(s) tested"
        if significant:
            line += "; significant: " + "; ".join(
                f"{c.winner} > {c.b if c.winner == c.a else c.a} by {number(table, abs(c.difference))} "
                f"(Holm-adjusted {p_text(c.p_adjusted)})" for c in significant)
        notes.append(line + ".")
        reasons: dict[str, list[str]] = {}
        for c in found:
            if c.reason:
                reasons.setdefault(c.reason, []).append(f"{c.a} vs {c.b}")
        notes += [f"{title}, {', '.join(pairs)}: {reason}." for reason, pairs in reasons.items()]
    return notes


@dataclass(frozen=True)
class ColumnFacts:
    """What a column's cells rest on: its metric, test sets per seed, seeds and resampling clusters."""
    title: str
    metric: str
    test_sets: list[int]  # folds or split seeds per seed
    seeds: list[int]
    units: list[str]  # what the clusters are
    clusters: list[int]  # clusters per test set
    pooled: int  # distinct clusters over its test sets (a speaker in two split seeds' test sets counts once)

    @property
    def testable(self) -> bool:
        return self.pooled >= stats.MIN_CLUSTERS

    @property
    def verdict(self) -> str:
        from care_superb.leaderboard.tables import untestable

        return "testable" if self.testable else untestable(self.pooled)

    @property
    def resampled(self) -> str:
        counts = self.clusters
        return f"{'/'.join(self.units)}" + (
            f" ({counts[0]}{'-' + str(counts[-1]) if len(counts) > 1 else ''} per test set)" if counts else "")

    def sentence(self) -> str:
        return (f"{self.title}: metric {self.metric}; {'/'.join(map(str, self.test_sets))} fold(s) or split seed(s) per "
                f"seed; {'/'.join(map(str, self.seeds))} seed(s); clusters: {self.resampled}, {self.pooled} in all; "
                f"{self.verdict}.")


def column_facts(table: Table, key: str) -> ColumnFacts | None:
    """None where the column has no result."""
    present = [c for c in (table.cell(label, key) for label in table.labels) if c is not None and c.present]
    if not present:
        return None
    return ColumnFacts(title=next(t for k, t in columns(table) if k == key), metric=table.metrics[key],
                       test_sets=sorted({len(rows) for c in present for rows in c.by_seed.values()}),
                       seeds=sorted({c.n_seeds for c in present}),
                       units=sorted({u for c in present for u in c.resampling_units}),
                       clusters=sorted({n for c in present for n in c.clusters}),
                       pooled=min(c.estimate.n_clusters for c in present))


def plain_notes(table: Table) -> list[str]:
    notes = []
    unknown = [label for label in table.labels if table.flags(label)["unknown_weights"]]
    if unknown:
        notes.append(f"Rows that do not say whether their upstream weights were trained: {', '.join(unknown)}.")
    notes += comparison_notes(table)
    one_seed = sorted({column_title(table, c.key) for c in table.cells.values()
                       if c.present and c.estimate is not None and c.estimate.conditional})
    if one_seed:
        notes.append(f"One training seed in {', '.join(one_seed)}: the interval there is over the test set's clusters "
                     f"only, conditional on that one trained head; a different seed can move the score by more.")
    if any(group == "uncategorised" for group, _ in table.groups):
        notes.append("uncategorised: rows without benchmark.category (written outside `care-superb bench`).")
    if table.spec.name == "table2":
        notes.append("CARE's ablations (care_acoustic*, care_semantic*) are in Table IV.")
    for key, _ in columns(table)[:-1]:
        facts = column_facts(table, key)
        if facts is not None:
            notes.append(facts.sentence())
    return notes + sorted(set(table.notes))


def frame(table: Table, fmt: str) -> tuple[pd.DataFrame, list[str]]:
    """The cells as text, indexed by (group, upstream), and each upstream's provenance marks."""
    best = best_means(table)
    records, index, marks = [], [], []
    for group, labels in table.groups:
        for label in labels:
            records.append([cell_text(table, label, key, best.get(key), fmt) for key, _ in columns(table)])
            index.append((group, label))
            marks.append(label_marks(table, label))
    return pd.DataFrame(records, columns=[title for _, title in columns(table)],
                        index=pd.MultiIndex.from_tuples(index, names=["group", "upstream"])), marks


def markdown(table: Table) -> str:
    df, marks = frame(table, "md")
    df = df.reset_index()
    df["upstream"] = [label + m for label, m in zip(df["upstream"], marks)]
    df["group"] = [g if i == 0 or g != df["group"][i - 1] else "" for i, g in enumerate(df["group"])]
    lines = [f"### {heading(table)}", "", df.to_markdown(index=False, disable_numparse=True), ""]
    lines += [f"{mark} {text}".strip() for mark, text in footnotes(table)]
    lines += [""] + [f"- {note}" for note in plain_notes(table)]
    return "\n".join(lines) + "\n"


def latex(table: Table) -> str:
    df, marks = frame(table, "tex")
    df.index = pd.MultiIndex.from_tuples(
        [(escape(g), escape(lab) + "".join(LATEX_MARKS[m] for m in mark)) for (g, lab), mark in zip(df.index, marks)])
    lines = df.style.to_latex(hrules=True, multirow_align="t", column_format="ll" + "c" * len(df.columns)).splitlines()
    # A booktabs rule between the groups (Styler draws none between index groups).
    first = lines.index("\\midrule") + 1
    starts = [first + sum(len(labels) for _, labels in table.groups[:i]) for i in range(1, len(table.groups))]
    for at in reversed(starts):
        lines.insert(at, "\\midrule")
    notes = [f"{''.join(LATEX_MARKS.get(c, c) for c in mark)} {escape_text(text)}".strip() for mark, text in footnotes(table)]
    return ("% requires \\usepackage{booktabs,multirow,graphicx}\n\\begin{table*}[t]\n\\centering\n"
            f"\\caption{{{escape_text(heading(table))}}}\n\\label{{tab:{table.spec.name}}}\n"
            "\\resizebox{\\textwidth}{!}{%\n" + "\n".join(lines) + "\n}\n"
            "\\par\\smallskip\\footnotesize\n" + " \\\\\n".join(notes) + "\n\\end{table*}\n")


def csv(table: Table) -> str:
    """Long form: one line per upstream and column, with every number the cell is made of."""
    records = []
    for group, labels in table.groups:
        for label in labels:
            for key, title in columns(table):
                cell = table.cell(label, key)
                present = cell is not None and cell.present
                rows = [r for r, _, _ in cell.weights()] if present else []
                est = cell.estimate if present else None
                scaled = lambda v: None if v is None else round(v * table.spec.scale, 10)  # noqa: E731
                records.append({
                    "table": table.spec.name, "group": group, "upstream": label, "column": title,
                    "metric": "mean of the columns" if key == "average" else table.metrics.get(key),
                    "unit": table.spec.what,
                    "mean": scaled(cell.mean) if present else None,
                    "std": scaled(cell.std) if present else None,
                    "n_seeds": (cell.n_seeds or None) if present else None,
                    "se": scaled(est.se) if est else None,
                    "se_seeds": scaled(math.sqrt(est.var_seed)) if est else None,
                    "se_clusters": scaled(math.sqrt(est.var_clusters)) if est else None,
                    "df": round(est.df, 6) if est else None,
                    "conditional_on_one_head": est.conditional if est else None,
                    "ci_low": scaled(cell.ci[0]) if present and cell.ci else None,
                    "ci_high": scaled(cell.ci[1]) if present and cell.ci else None,
                    "testable": (not cell.few_clusters) if present else None,
                    "range_low": scaled(cell.range[0]) if present and cell.range else None,
                    "range_high": scaled(cell.range[1]) if present and cell.range else None,
                    "resampling_unit": "/".join(cell.resampling_units) if present else None,
                    "min_clusters_per_test_set": min(cell.clusters) if present and cell.clusters else None,
                    "clusters": est.n_clusters if est else None,
                    "marker": table.marker(label, key),
                    "probe_mean": scaled(cell.probe_mean) if present else None,
                    "not_converged_rows": len(cell.unconverged) if present else None,
                    "synthetic_data": any(r.synthetic for r in rows) if rows else None,
                    "random_weights": any(r.random_weights is True for r in rows) if rows else None,
                    "result_rows": ";".join(sorted({str(r.path) for r in rows})),
                })
    frame_ = pd.DataFrame.from_records(records)
    for column in ("n_seeds", "min_clusters_per_test_set", "clusters", "not_converged_rows"):
        frame_[column] = frame_[column].astype("Int64")
    return with_footnotes(table, frame_)


def comparisons_csv(table: Table) -> str:
    """One line per comparison of every column's family: the paired difference, its standard error and
    degrees of freedom, the p-value before and after Holm's adjustment, or why it was not tested."""
    scale = table.spec.scale
    records = [{"table": table.spec.name, "column": column_title(table, key), "family": table.families[key],
                "a": c.a, "b": c.b,
                "difference": None if c.difference is None else round(c.difference * scale, 10),
                "se": None if c.se is None else round(c.se * scale, 10),
                "df": None if c.df is None else round(c.df, 6),
                "p_value": c.p_value, "p_holm": c.p_adjusted, "significant": c.significant,
                "better": c.winner, "not_tested": c.reason or None}
               for key, _ in columns(table) for c in table.comparisons.get(key, [])]
    columns_ = ["table", "column", "family", "a", "b", "difference", "se", "df", "p_value", "p_holm", "significant",
                "better", "not_tested"]
    return with_footnotes(table, pd.DataFrame.from_records(records, columns=columns_))


def with_footnotes(table: Table, frame_: pd.DataFrame) -> str:
    out = io.StringIO()
    for mark, text in footnotes(table):
        out.write(f"# {mark} {text}".replace("#  ", "# ") + "\n")
    frame_.to_csv(out, index=False, lineterminator="\n")
    return out.getvalue()


LATEX_SPECIAL = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
                 "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}"}


def escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def escape_text(text: str) -> str:
    return escape(text).replace("±", "$\\pm$").replace("–", "--").replace("<", "$<$").replace(">", "$>$")
