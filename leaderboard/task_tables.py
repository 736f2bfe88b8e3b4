"""Which tables to make: the paper's (``tables.TABLES``) and one for every other task with rows.

A task outside Tables II-IV (a corpus a user added as one folder, or EmoBox's corpora) gets a
table of its own, built by the same ``build_table`` with the same intervals, tests and marks. A task
over several corpora (EmoBox: rows' task ``emobox/<dataset>``, see ``Row.task``) gets one table with
a column per corpus, its folds averaged within each cell as any task's test sets are, and an
average over the corpora present.
"""
from __future__ import annotations

from care_superb.leaderboard.aggregate import Column
from care_superb.leaderboard.rows import Row
from care_superb.leaderboard.tables import CATEGORIES, TABLES, UNCATEGORISED, TableSpec, by_category

PERCENT_METRICS = ("f1", "accuracy")  # shown in %; any other metric (CCC) as a plain number


def paper_tasks() -> set[str]:
    return {c.task for spec in TABLES for c in spec.columns}


def tables_for(rows: list[Row]) -> list[TableSpec]:
    """The paper's tables, then one per task (or family of corpora) that none of them shows."""
    others: dict[str, dict[str, list[Row]]] = {}
    for row in rows:
        if row.task not in paper_tasks():
            others.setdefault(row.registry_task, {}).setdefault(row.task, []).append(row)
    specs = list(TABLES)
    for family in sorted(others):
        by_task = others[family]
        metrics = sorted({r.primary_metric for task_rows in by_task.values() for r in task_rows})
        percent = all(any(m.endswith(p) for p in PERCENT_METRICS) for m in metrics)
        what = (metrics[0] if len(metrics) == 1 else "primary metric") + (" (%)" if percent else "")
        columns = tuple(Column(task, task, task.split("/", 1)[1] if "/" in task else task) for task in sorted(by_task))
        title = f"{family}: {len(columns)} corpora" if any("/" in t for t in by_task) else family
        specs.append(TableSpec(f"table_{family}", title, columns, by_category, (*CATEGORIES, UNCATEGORISED),
                               100 if percent else 1, 1 if percent else 3, what))
    return specs
