"""A filled table as Markdown and LaTeX (pandas; tabulate / booktabs) and as a long CSV, with the
same markers and footnotes in each. What a cell shows (``Shown``), the footnotes and the notes are
decided here once; each format, the page (``page.py``) included, only typesets them."""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import pandas as pd

from care_superb.leaderboard import stats
from care_superb.leaderboard.tables import BEST, WORSE, Comparison, Table, TableSpec

SYNTHETIC, RANDOM = "§", "¶"
FEW = "‡"  # an interval over too few clusters
# A head that had not finished learning (downstream/convergence.py), and one well below its own
# linear probe (benchmark/probe.py): the number ranks optimisation, or the protocol loses information.
NOT_CONVERGED, BELOW_PROBE = "°", "↓"
PROBE_GAP = 0.05  # "well below": 5 points of F1 (0.05 CCC), beyond the seed spread of a converged head
MISSING = {"md": "–", "tex": "--"}
LATEX_MARKS = {BEST: "$^{*}$", WORSE: "$^{\\dagger}$", SYNTHETIC: "\\S", RANDOM: "\\P", FEW: "$^{\\ddagger}$",
               NOT_CONVERGED: "$^{\\circ}$", BELOW_PROBE: "$^{\\downarrow}$"}
NO_COMPARISON = Comparison("", None)


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
    interval: tuple[str, str] | None
    few: bool  # interval over fewer than MIN_CLUSTERS clusters: FEW
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
            text += interval.format(*self.interval) + ((mark(FEW) or FEW) if self.few else "")
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
    return Shown(mean=number(table, cell.mean),
                 std=number(table, cell.std) if cell.std is not None else None,
                 interval=(number(table, cell.ci[0]), number(table, cell.ci[1])) if cell.ci is not None else None,
                 few=cell.few_clusters,
                 marker=table.comparisons.get((label, key), NO_COMPARISON).marker,
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


def footnotes(table: Table) -> list[tuple[str, str]]:
    """(marker, text) pairs; the first (empty marker) says what a cell holds."""
    notes = [("", "Cell: mean ± std over training seeds (folds, or several split seeds, averaged within a seed first) "
                  "[95% expanded-percentile bootstrap interval over the test set's clusters (speakers, dialogues, videos, "
                  "scenes or interviews: see the notes), resampled per test set]. Bold: best in its column. "
                  "Average: over the table's columns, only where all are present. –: no result.")]
    marks = {c.marker for c in table.comparisons.values()}
    test = (f"approximate randomisation test against the best other upstream of this table, paired on the same "
            f"test utterances and swapping whole clusters, the same swap in every seed, two-sided, "
            f"p < {stats.ALPHA}, not corrected for multiple comparisons")
    if BEST in marks:
        notes.append((BEST, f"best in its column and significantly better than the runner-up ({test})"))
    if WORSE in marks:
        notes.append((WORSE, "significantly worse than the best in its column" + ("" if BEST in marks else f" ({test})")))
    if any(c.few_clusters and c.ci is not None for c in table.cells.values()):
        notes.append((FEW, f"interval over fewer than {stats.MIN_CLUSTERS} clusters in a test set (e.g. 2-3 test "
                           f"speakers): no bootstrap over so few is a 95% interval; it spans the resamples' range, "
                           f"read it as the spread over those clusters"))
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


@dataclass(frozen=True)
class ColumnFacts:
    """What a column's cells rest on: its metric, test sets per seed, seeds and resampling clusters."""
    title: str
    metric: str
    test_sets: list[int]  # folds or split seeds per seed
    seeds: list[int]
    units: list[str]  # what the clusters are
    clusters: list[int]  # clusters per test set

    @property
    def resampled(self) -> str:
        counts = self.clusters
        return f"{'/'.join(self.units)}" + (
            f" ({counts[0]}{'-' + str(counts[-1]) if len(counts) > 1 else ''} per test set)" if counts else "")

    def sentence(self) -> str:
        return (f"{self.title}: metric {self.metric}; {'/'.join(map(str, self.test_sets))} fold(s) or split seed(s) per "
                f"seed; {'/'.join(map(str, self.seeds))} seed(s); resampled by {self.resampled}.")


def column_facts(table: Table, key: str) -> ColumnFacts | None:
    """None where the column has no result."""
    present = [c for c in (table.cell(label, key) for label in table.labels) if c is not None and c.present]
    if not present:
        return None
    return ColumnFacts(title=next(t for k, t in columns(table) if k == key), metric=table.metrics[key],
                       test_sets=sorted({len(rows) for c in present for rows in c.by_seed.values()}),
                       seeds=sorted({c.n_seeds for c in present}),
                       units=sorted({u for c in present for u in c.resampling_units}),
                       clusters=sorted({n for c in present for n in c.clusters}))


def plain_notes(table: Table) -> list[str]:
    notes = []
    unknown = [label for label in table.labels if table.flags(label)["unknown_weights"]]
    if unknown:
        notes.append(f"Rows that do not say whether their upstream weights were trained: {', '.join(unknown)}.")
    untested = sorted({f"{label} vs {c.compared_with}" for (label, _), c in table.comparisons.items()
                       if c.p_value is None})
    if untested:
        notes.append(f"Not tested (no rows on the same test utterances with the same fold and seed): {'; '.join(untested)}.")
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
                test = table.comparisons.get((label, key), NO_COMPARISON)
                scaled = lambda v: None if v is None else round(v * table.spec.scale, 10)  # noqa: E731
                records.append({
                    "table": table.spec.name, "group": group, "upstream": label, "column": title,
                    "metric": "mean of the columns" if key == "average" else table.metrics.get(key),
                    "unit": table.spec.what,
                    "mean": scaled(cell.mean) if present else None,
                    "std": scaled(cell.std) if present else None,
                    "n_seeds": (cell.n_seeds or None) if present else None,
                    "ci_low": scaled(cell.ci[0]) if present and cell.ci else None,
                    "ci_high": scaled(cell.ci[1]) if present and cell.ci else None,
                    "resampling_unit": "/".join(cell.resampling_units) if present else None,
                    "min_clusters_per_test_set": min(cell.clusters) if present and cell.clusters else None,
                    "compared_with": test.compared_with or None,
                    "p_value": test.p_value,
                    "marker": test.marker,
                    "probe_mean": scaled(cell.probe_mean) if present else None,
                    "not_converged_rows": len(cell.unconverged) if present else None,
                    "synthetic_data": any(r.synthetic for r in rows) if rows else None,
                    "random_weights": any(r.random_weights is True for r in rows) if rows else None,
                    "result_rows": ";".join(sorted({str(r.path) for r in rows})),
                })
    frame_ = pd.DataFrame.from_records(records)
    for column in ("n_seeds", "min_clusters_per_test_set", "not_converged_rows"):
        frame_[column] = frame_[column].astype("Int64")
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
