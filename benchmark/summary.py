"""The table printed at the end of `care-superb bench`: every finished cell's primary metric, mean
over seeds and folds per upstream and task, marked where a cell's head had not converged, and
beside it the linear probe's (written to ``<output>/summary.md`` and, per cell, ``summary.csv``),
and every failed cell with the last line of its error."""
from __future__ import annotations

import json

NOT_CONVERGED = "°"  # the leaderboard's mark for the same (leaderboard/render.py)

from care_superb.benchmark import cells as cells_mod
from care_superb.benchmark.spec import Benchmark


def summary(bench: Benchmark, cells: list) -> tuple[str, int]:
    import pandas as pd
    from tabulate import tabulate

    lines, failed = [], []
    for cell in cells:
        if cell.done():
            row = json.loads(cell.row.read_text())
            converged = (row.get("convergence") or {}).get("converged")
            training = row.get("training") or {}
            lines.append({"label": cell.label, "task": cell.task,
                          "variant": cells_mod.variant(cell.fold, cell.split_seed, cell.dataset),
                          "seed": cell.seed, "metric": row["primary_metric"],
                          "value": row["metrics"][row["primary_metric"]],
                          "probe": ((row.get("probe") or {}).get("metrics") or {}).get(row["primary_metric"]),
                          "converged": converged, "schedule": training.get("name"), "lr": training.get("lr"),
                          "steps_trained": training.get("steps_trained"), "engine": row.get("engine"),
                          "row": str(cell.row)})
        elif cell.failed():
            failed.append(cell)
    text = [f"{bench.name}: {len(lines)} of {len(cells)} cells done, {len(failed)} failed, "
            f"{len(cells) - len(lines) - len(failed)} not run"]
    if lines:
        frame = pd.DataFrame(lines)
        bench.output.mkdir(parents=True, exist_ok=True)
        frame.to_csv(bench.output / "summary.csv", index=False)
        frame["unconverged"] = frame["converged"].eq(False)
        table = shown(frame)
        rendered = tabulate(table, headers="keys", tablefmt="simple", disable_numparse=True)
        (bench.output / "summary.md").write_text(tabulate(table, headers="keys", tablefmt="github",
                                                          disable_numparse=True) + "\n")
        text.append("primary metric per upstream and task, mean over seeds and folds/split seeds (`care-superb "
                    "leaderboard` gives the tables with intervals); in brackets the linear probe's on the same "
                    "features (cached engine):")
        text.append(rendered)
        unconverged = int(frame["unconverged"].sum())
        if unconverged:
            text.append(f"{NOT_CONVERGED} {unconverged} of {len(frame)} cells had not converged when training stopped "
                        f"(best dev score first reached in the last 10% of training, or dev still rising over the "
                        f"last 20%: the row's convergence says which); their numbers rank how fast a head learns. "
                        f"Train to convergence: schedule: converge under downstream: in {bench.path}")
    for cell in failed:
        last = cells_mod.read_error(cell).strip().splitlines()
        text.append(f"FAILED {cell.id}: {last[-1] if last else ''} (details: {cell.error}; "
                    f"rerun with --retry-failed)")
    return "\n".join(text), len(failed)


def shown(frame):
    """upstream x task: the mean (3 decimals), NOT_CONVERGED where any of its cells had not
    converged, and the probe's mean in brackets where every cell has one."""
    table = {}
    metrics = frame.groupby("task", sort=False)["metric"].first()
    for (label, task), group in frame.groupby(["label", "task"], sort=False):
        text = f"{group['value'].mean():.3f}" + (NOT_CONVERGED if group["unconverged"].any() else "")
        if group["probe"].notna().all():
            text += f" [{group['probe'].mean():.3f}]"
        table.setdefault(f"{task}\n{metrics[task]}", {})[label] = text
    import pandas as pd

    return pd.DataFrame(table).fillna("–")
