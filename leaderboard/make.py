"""Rows in, every table and figure out; the same input always gives the same bytes."""
from __future__ import annotations

import os
from pathlib import Path

from tqdm import tqdm

from care_superb.leaderboard import figures, page, render, stats
from care_superb.leaderboard.aggregate import build_cells
from care_superb.leaderboard.rows import find_row_files, load_rows
from care_superb.leaderboard.scoring import known_tasks
from care_superb.leaderboard.tables import TABLES, Table, build_table, compute_statistics
from care_superb.leaderboard.published import beside_ours, read_published
from care_superb.leaderboard.published import markdown as published_markdown
from care_superb.leaderboard.task_tables import tables_for


PAGE = "index.html"



def make_leaderboard(results: list[str | Path], out: str | Path, allow_mixed_heads: bool = False,
                     published: str | Path | None = None) -> tuple[str, list[Path]]:
    """Write every table (md, csv, tex), the figures, ``leaderboard.md`` and the page (``index.html``)
    under ``out``; returns the Markdown and the files written. ``published``: a CSV of published
    numbers (``published.py``) to set beside ours, in ``published.md`` / ``.csv`` and the summary."""
    rows = load_rows(find_row_files(results), known_tasks())
    specs = tables_for(rows)  # the paper's tables, and one for every other task with rows
    columns = {c.key: c for spec in specs for c in spec.columns}
    cells = build_cells(rows, list(columns.values()))
    tables = [t for t in (build_table(spec, rows, cells, allow_mixed_heads) for spec in specs) if t is not None]

    scorers = stats.Scorers()
    work = sum(sum(c.present for c in t.cells.values()) + len(t.spec.columns) + 1 for t in tables)
    with tqdm(total=work, desc="leaderboard: intervals and tests", unit="cell", mininterval=2, leave=False) as bar:
        for table in tables:
            compute_statistics(table, scorers, bar)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        for suffix, text in (("md", render.markdown(table)), ("csv", render.csv(table)), ("tex", render.latex(table)),
                             ("comparisons.csv", render.comparisons_csv(table))):
            written.append(write_text(out / f"{table.spec.name}.{suffix}", text))
        figure = figures.scores(table)
        if figure is not None:
            written += figures.save(figure, out, f"{table.spec.name}_scores")
    profiles, figure_notes = figures.layer_weights(rows)
    if profiles is not None:
        written += figures.save(profiles, out, "layer_weights")
    summary = overview(tables, rows, figure_notes)
    if published is not None:
        beside = beside_ours(read_published(published), rows, tables)
        written.append(write_text(out / "published.md", published_markdown(beside)))
        written.append(write_text(out / "published.csv", beside.to_csv(index=False)))
        summary += "\n" + published_markdown(beside)
    written.append(write_text(out / "leaderboard.md", summary))
    written.append(write_text(out / PAGE, page.render_page(tables, rows, figure_notes)))
    remove_stale(out, written, specs)
    return summary, written


def remove_stale(out: Path, written: list[Path], specs) -> None:
    """Outputs of an earlier run that this input no longer makes (a table without rows now)."""
    stems = {spec.name for spec in specs} | {p.name.split(".")[0].removesuffix("_scores") for p in out.glob("table_*")}
    ours = [f"{stem}{suffix}" for stem in sorted(stems)
            for suffix in (".md", ".csv", ".tex", ".comparisons.csv", "_scores.png", "_scores.pdf")]
    for name in ours + ["layer_weights.png", "layer_weights.pdf", "published.md", "published.csv"]:
        if out / name not in written and (out / name).is_file():
            (out / name).unlink()


def overview(tables: list[Table], rows, figure_notes: list[str]) -> str:
    made = {t.spec.name for t in tables}
    lines = ["# Leaderboard", "", f"From {len(rows)} result rows. {render.STATISTICS}", ""]
    for table in tables:
        lines.append(render.markdown(table))
    lines += [render.not_made(spec) for spec in TABLES if spec.name not in made]
    lines += [""] + [f"- {note}" for note in figure_notes]
    return "\n".join(lines).rstrip() + "\n"


def write_text(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path
