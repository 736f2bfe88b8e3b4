"""Reading result rows and their prediction files, and refusing the ones the tables cannot use.

A row is what ``run_downstream.py -m evaluate`` writes (``result-test-<ckpt>.json``, schema
version 3): metrics plus provenance, next to a predictions file holding each test utterance's raw
target and output and the cluster it belongs to (``unit``: its speaker, dialogue, video...), from
which the leaderboard recomputes every metric it resamples. Everything
wrong with the input is collected and reported at once, each problem naming its file and the fix.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = "care-superb/result-row"
SCHEMA_VERSION = 3
ROW_GLOB = "result-test-*.json"


class LeaderboardError(ValueError):
    """Input the leaderboard cannot tabulate; the message names each file and what to do."""


@dataclass
class Row:
    path: Path
    data: dict
    keys: list[str] = field(repr=False)
    targets: list = field(repr=False)
    outputs: list = field(repr=False)
    units: list[str] = field(repr=False)  # each utterance's resampling cluster

    @property
    def task(self) -> str:
        """What the tables tabulate: the task, or ``<task>/<dataset>`` for a task over several
        corpora (EmoBox's: ``emobox/emodb``), whose corpora are never averaged as one."""
        return f"{self.registry_task}/{self.dataset}" if self.dataset else self.registry_task

    @property
    def registry_task(self) -> str:
        """The task folder that wrote the row (``registry.TASKS``), whose objective scores it."""
        return self.data["task"]

    @property
    def dataset(self) -> str | None:
        """The corpus of a task over several (EmoBox's ``datarc.dataset``); None for the others."""
        return (self.data.get("protocol") or {}).get("dataset")

    @property
    def label(self) -> str:
        """The upstream's name in the tables: the benchmark's label, else the s3prl upstream name."""
        return (self.data.get("benchmark") or {}).get("label") or self.data["upstream"]["name"]

    @property
    def upstream_name(self) -> str:
        return self.data["upstream"]["name"]

    @property
    def category(self) -> str | None:
        return (self.data.get("benchmark") or {}).get("category")

    @property
    def seed(self):
        return self.data.get("seed")

    @property
    def fold(self):
        return (self.data.get("protocol") or {}).get("fold")

    @property
    def split_seed(self):
        """The seed of what the protocol drew (CARE's several random splits); None where nothing is drawn."""
        return (self.data.get("protocol") or {}).get("split_seed")

    @property
    def variant(self) -> tuple:
        """Which test set of the task: (fold, split seed)."""
        return self.fold, self.split_seed

    @property
    def resampling_unit(self) -> str:
        """What the clusters are ("speaker", "dialogue", ...), as the row's task parser named them."""
        return (self.data.get("resampling") or {}).get("unit") or "utterance"

    @property
    def cell_key(self) -> tuple:
        """Two rows with this key are the same experiment twice."""
        return self.label, self.task, self.fold, self.split_seed, self.seed

    @property
    def primary_metric(self) -> str:
        return self.data["primary_metric"]

    @property
    def synthetic(self) -> bool:
        return bool((self.data.get("data") or {}).get("synthetic"))

    @property
    def random_weights(self) -> bool | None:
        """True: never-trained weights; None: the row does not know."""
        return ((self.data["upstream"].get("provenance") or {}).get("random_weights"))

    @property
    def layer_weights(self) -> list[float] | None:
        return self.data.get("layer_weights")

    @property
    def converged(self) -> bool | None:
        """Whether the head had finished learning when training stopped (the row's ``convergence``,
        downstream/convergence.py); None: the row does not say (written before it was recorded)."""
        return (self.data.get("convergence") or {}).get("converged")

    def probe(self, metric: str) -> float | None:
        """The linear probe's ``metric`` on the same features and test set (benchmark/probe.py)."""
        return ((self.data.get("probe") or {}).get("metrics") or {}).get(metric)

    @property
    def objective_options(self) -> dict:
        return ((self.data.get("config") or {}).get("downstream_expert") or {}).get("objective") or {}

    def settings(self) -> dict[str, str]:
        """The comparability key (``downstream/comparability.py``): rows of a task must share it."""
        from care_superb.downstream.comparability import settings

        return settings(self.data.get("config"), normalize=self.data["upstream"].get("normalize"),
                        engine=self.data.get("engine"), synthetic=self.synthetic)

    def describe(self) -> str:
        where = f"fold {self.fold}, " if self.fold is not None else ""
        return f"{self.path} ({self.label}, {self.task}, {where}split seed {self.split_seed}, seed {self.seed})"


def find_row_files(paths: list[str | Path]) -> list[Path]:
    """Row files named on the command line, and every ``result-test-*.json`` under named folders."""
    found, missing = set(), []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.update(p.resolve() for p in path.rglob(ROW_GLOB) if p.is_file())
        elif path.is_file():
            found.add(path.resolve())
        else:
            missing.append(str(path))
    if missing:
        raise LeaderboardError("no such file or folder: " + ", ".join(missing))
    if not found:
        raise LeaderboardError(f"no result rows ({ROW_GLOB}) under {', '.join(map(str, paths))}; "
                               "rows are written by `python run_downstream.py -m evaluate -e <expdir>/dev-best.ckpt`")
    return sorted(found)


def load_rows(paths: list[Path], known_tasks) -> list[Row]:
    """Every row with its predictions; one LeaderboardError listing every problem found."""
    rows, problems = [], []
    for path in paths:
        try:
            rows.append(load_row(path, known_tasks))
        except LeaderboardError as err:
            problems.append(str(err))
    seen: dict[tuple, Row] = {}
    for row in rows:
        other = seen.setdefault(row.cell_key, row)
        if other is not row:
            problems.append(
                f"{other.path} and {row.path} are the same cell twice ({row.label}, {row.task}, fold {row.fold}, "
                f"split seed {row.split_seed}, seed {row.seed}); keep one of them, or give the upstreams different "
                f"labels if they differ (benchmark.label; their checkpoints: {other.data['upstream'].get('ckpt')} "
                f"and {row.data['upstream'].get('ckpt')})")
    if problems:
        raise LeaderboardError(f"{len(problems)} problem(s) with the result rows:\n- " + "\n- ".join(problems))
    return rows


def rerun_hint(data: dict, path: Path) -> str:
    ckpt = data.get("downstream_checkpoint") or str(path.parent / "dev-best.ckpt")
    return f"python run_downstream.py -m evaluate -e {ckpt}"


def load_row(path: Path, known_tasks) -> Row:
    data = read_json(path)
    if not isinstance(data, dict):
        raise LeaderboardError(f"{path}: not a result row (a JSON object is expected)")
    version = data.get("schema_version")
    if "schema" in data and data["schema"] != SCHEMA:
        raise LeaderboardError(f"{path}: schema {data['schema']!r} is not a care-superb result row ({SCHEMA!r})")
    if not isinstance(version, int) or version < SCHEMA_VERSION:
        found = "has no schema_version" if version is None else f"has schema_version {version}"
        raise LeaderboardError(
            f"{path}: result row from an older schema ({found}; the leaderboard needs {SCHEMA_VERSION}, whose "
            f"predictions file holds raw targets and outputs and each utterance's resampling cluster). Fix: "
            f"re-evaluate its checkpoint with this version: `{rerun_hint(data, path)}`")
    if version > SCHEMA_VERSION:
        raise LeaderboardError(f"{path}: schema_version {version} is newer than this leaderboard reads "
                               f"({SCHEMA_VERSION}); update care-superb")
    missing = [k for k in ("task", "split", "metrics", "primary_metric", "upstream", "predictions") if k not in data]
    if missing:
        raise LeaderboardError(f"{path}: row lacks {', '.join(missing)}; re-run `{rerun_hint(data, path)}`")
    if data["task"] not in known_tasks:
        raise LeaderboardError(f"{path}: unknown task {data['task']!r}; the tasks are {', '.join(sorted(known_tasks))}")
    if data["split"] != "test":
        raise LeaderboardError(f"{path}: a {data['split']!r} row; the leaderboard tabulates test rows only")
    if data["primary_metric"] not in data["metrics"]:
        raise LeaderboardError(f"{path}: primary metric {data['primary_metric']!r} is not among its metrics")
    keys, targets, outputs, units = load_predictions(path, data)
    return Row(path=path, data=data, keys=keys, targets=targets, outputs=outputs, units=units)


def load_predictions(path: Path, data: dict) -> tuple[list, list, list, list]:
    pred_path = path.parent / data["predictions"]
    if not pred_path.is_file():
        raise LeaderboardError(f"{path}: its predictions file {pred_path} is missing; the intervals and tests "
                               f"are computed from it. Restore it, or re-run `{rerun_hint(data, path)}`")
    entries = read_json(pred_path)
    entries = entries.get("predictions") if isinstance(entries, dict) else None
    if not isinstance(entries, list):
        raise LeaderboardError(f"{pred_path}: expected {{\"predictions\": [{{key, target, output, ...}}, ...]}}")
    needed = {"key", "unit", "target", "output"}
    bad = [i for i, e in enumerate(entries) if not (isinstance(e, dict) and needed <= set(e))]
    if bad:
        raise LeaderboardError(f"{pred_path}: entry {bad[0]} (and {len(bad) - 1} more) lacks key/unit/target/output; "
                               f"re-run `{rerun_hint(data, path)}`")
    keys = [str(e["key"]) for e in entries]
    if len(set(keys)) != len(keys):
        raise LeaderboardError(f"{pred_path}: utterance keys repeat; a predictions file has one entry per utterance")
    if data.get("n_utterances") is not None and data["n_utterances"] != len(keys):
        raise LeaderboardError(f"{pred_path}: {len(keys)} predictions, but {path} counts {data['n_utterances']} "
                               f"test utterances; the two files do not belong together")
    if not keys:
        raise LeaderboardError(f"{pred_path}: no predictions")
    return keys, [e["target"] for e in entries], [e["output"] for e in entries], [str(e["unit"]) for e in entries]


def read_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError) as err:
        raise LeaderboardError(f"{path}: cannot read it ({err})") from err
    except json.JSONDecodeError as err:
        raise LeaderboardError(f"{path}: not valid JSON ({err}); a half-written file? re-run the evaluation") from err
