"""Published numbers (EmoBox's leaderboard, a paper's table) beside ours, from a file the user gives.

The file is CSV with one line per published number (facts copied from the publication, not code):

    task,upstream,metric,value,source
    emobox/emodb,wavlm_large,unweighted_accuracy,86.2,EmoBox intra-corpus leaderboard

- ``task``: the column it belongs to, as the tables name it (``emobox/<dataset>`` for EmoBox, else the task);
- ``upstream``: the label of our rows it is set beside (``benchmark.label``, else the s3prl name);
- ``metric``: one of our row metrics (EmoBox's UA = ``unweighted_accuracy``, WA = ``accuracy``,
  ``macro_f1``); ``value`` in percent, as EmoBox publishes it; ``source``: optional, shown as given.

Ours is the same cell as in the tables (folds averaged within a seed, then over seeds) in that
metric, with the table's 95% interval where the metric is the table's. A published number without
rows of ours is shown with ours missing; nothing is tested between the two (a published number
comes with no predictions to resample).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from care_superb.leaderboard.aggregate import Column, build_cells
from care_superb.leaderboard.rows import LeaderboardError, Row
from care_superb.leaderboard.tables import Table

COLUMNS = ("task", "upstream", "metric", "value")


def read_published(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype={"task": str, "upstream": str, "metric": str, "source": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise LeaderboardError(f"{path}: cannot read it as CSV ({err})") from err
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise LeaderboardError(f"{path}: lacks the column(s) {', '.join(missing)}; the header is "
                               f"task,upstream,metric,value[,source] (value in percent, as EmoBox publishes it)")
    values = pd.to_numeric(frame["value"], errors="coerce")
    if values.isna().any():
        line = int(values.isna().to_numpy().nonzero()[0][0]) + 2
        raise LeaderboardError(f"{path}, line {line}: value {frame['value'].iloc[line - 2]!r} is not a number")
    return frame.assign(value=values, source=frame["source"] if "source" in frame.columns else "")


def beside_ours(published: pd.DataFrame, rows: list[Row], tables: list[Table]) -> pd.DataFrame:
    """One line per published number: the published value, ours and its interval (in %), the difference."""
    columns = [Column(f"{task}/{metric}", task, task, metric)
               for task, metric in sorted(set(zip(published["task"], published["metric"])))]
    cells = build_cells([r for r in rows if r.task in set(published["task"])], columns)
    unknown = sorted({m for t, m in zip(published["task"], published["metric"])
                      if any(r.task == t for r in rows) and not any(m in r.data["metrics"] for r in rows if r.task == t)})
    if unknown:
        raise LeaderboardError(f"published metric(s) {', '.join(unknown)} are not among our rows' metrics "
                               f"(e.g. unweighted_accuracy, accuracy, macro_f1, weighted_f1)")
    records = []
    for line in published.itertuples(index=False):
        cell = cells.get((line.upstream, f"{line.task}/{line.metric}"))
        ours = cell.mean * 100 if cell is not None and cell.present else None
        interval = next((t.cell(line.upstream, line.task).ci for t in tables
                         if t.cell(line.upstream, line.task) is not None and t.metrics.get(line.task) == line.metric
                         and t.cell(line.upstream, line.task).ci is not None), None)
        records.append({"task": line.task, "upstream": line.upstream, "metric": line.metric,
                        "published": round(float(line.value), 2),
                        "ours": None if ours is None else round(ours, 2),
                        "ours_95ci": None if interval is None else f"[{interval[0] * 100:.1f}, {interval[1] * 100:.1f}]",
                        "seeds": cell.n_seeds if cell is not None else 0,
                        "ours_minus_published": None if ours is None else round(ours - float(line.value), 2),
                        "source": "" if pd.isna(line.source) else line.source})
    return pd.DataFrame.from_records(records)


def markdown(frame: pd.DataFrame) -> str:
    shown = frame.astype(object).where(frame.notna(), "–")
    return ("### Published numbers beside ours (%)\n\n" + shown.to_markdown(index=False, disable_numparse=True)
            + "\n\nOurs: folds averaged within a seed, then over seeds; the interval is the table's (its "
              "primary metric only). No test between the two: a published number has no predictions to resample.\n")
