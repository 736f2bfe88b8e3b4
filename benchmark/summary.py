"""The table printed at the end of `care-superb bench`: every finished cell's primary metric, mean
over seeds and folds per upstream and task (written to ``<output>/summary.md`` and, per cell,
``summary.csv``), and every failed cell with the last line of its error."""
from __future__ import annotations

import json

from care_superb.benchmark import cells as cells_mod
from care_superb.benchmark.spec import Benchmark


def summary(bench: Benchmark, cells: list) -> tuple[str, int]:
    import pandas as pd
    from tabulate import tabulate

    lines, failed = [], []
    for cell in cells:
        if cell.done():
            row = json.loads(cell.row.read_text())
            lines.append({"label": cell.label, "task": cell.task, "variant": cells_mod.variant(cell.fold, cell.split_seed, cell.dataset),
                          "seed": cell.seed, "metric": row["primary_metric"],
                          "value": row["metrics"][row["primary_metric"]], "engine": row.get("engine"),
                          "row": str(cell.row)})
        elif cell.failed():
            failed.append(cell)
    text = [f"{bench.name}: {len(lines)} of {len(cells)} cells done, {len(failed)} failed, "
            f"{len(cells) - len(lines) - len(failed)} not run"]
    if lines:
        frame = pd.DataFrame(lines)
        bench.output.mkdir(parents=True, exist_ok=True)
        frame.to_csv(bench.output / "summary.csv", index=False)
        table = frame.pivot_table(index="label", columns="task", values="value", aggfunc="mean", sort=False)
        metrics = frame.groupby("task", sort=False)["metric"].first()
        table.columns = [f"{task}\n{metrics[task]}" for task in table.columns]
        rendered = tabulate(table, headers="keys", floatfmt=".3f", tablefmt="simple")
        (bench.output / "summary.md").write_text(tabulate(table, headers="keys", floatfmt=".3f", tablefmt="github") + "\n")
        text.append("primary metric per upstream and task, mean over seeds and folds/split seeds "
                    "(`care-superb leaderboard` gives the tables with intervals):")
        text.append(rendered)
    for cell in failed:
        last = cells_mod.read_error(cell).strip().splitlines()
        text.append(f"FAILED {cell.id}: {last[-1] if last else ''} (details: {cell.error}; "
                    f"rerun with --retry-failed)")
    return "\n".join(text), len(failed)
