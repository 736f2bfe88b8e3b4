"""The benchmark file: which upstreams, which tasks, which seeds, how to run them.

A benchmark file is YAML (``benchmark/configs/demo.yaml`` and ``paper.yaml`` are worked
examples). Every problem found in it is reported at once, each naming the file, the key and the
fix; nothing runs before the whole file is valid. Relative paths are read from the current
directory, as s3prl reads its task configs.

The downstream side (head, optimizer, learning rate, batch, steps) is the task's own
``downstream/<task>/config.yaml`` with the file's ``downstream:`` overrides, the same for every
upstream: an upstream entry can name its checkpoint (also per task, e.g. SONAR's language
encoders) but no downstream setting, so two upstreams can never be given different heads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
import yaml

from care_superb.downstream.comparability import UPSTREAM_MAY_NOT_SET
from care_superb.downstream.schedule import check as check_schedule

ENGINES = ("cached", "s3prl")
CATEGORIES = ("base", "large")
EXECUTORS = ("local", "slurm")

TOP_KEYS = {
    "base": "another benchmark file (relative to this one) to start from: a key given here replaces "
            "its; each task given here starts from its settings for that task, and only these run",
    "name": "a short name for this benchmark (rows carry it)",
    "output": "folder for the cells, logs and summary (required)",
    "cache": "folder of the feature cache (default: <output>/cache)",
    "engine": f"one of {', '.join(ENGINES)} (default cached)",
    "seeds": "training seeds, s3prl's --seed (default [1337], s3prl's default)",
    "normalize": "s3prl's --upstream_feature_normalize for every upstream (default false)",
    "device": "cpu or cuda (default: cuda when available)",
    "downstream": "overrides of every task's config.yaml (runner, optimizer, downstream_expert, ...) and the "
                  "schedule: paper or converge (default converge; downstream/schedule.py)",
    "upstreams": "the upstreams to compare (a list)",
    "tasks": "the tasks, each with its corpus (a mapping task -> settings)",
    "executor": "how cells run: kind local (default) or slurm, and its settings",
    "extraction": "feature-cache extraction settings: batch_size, shard_size",
}
UPSTREAM_KEYS = {
    "name": "the s3prl upstream name (-u), e.g. care_local, hf_wavlm, sonar_local, fbank_no_cmvn",
    "ckpt": "its checkpoint (-k): a file or a folder",
    "random": "instead of ckpt: {family, size, seed} to build random weights with baseline_init",
    "model_config": "s3prl's -g, where the upstream needs one",
    "label": "the name in tables (default: name); unique",
    "category": f"one of {', '.join(CATEGORIES)} (the leaderboard groups by it)",
    "tasks": "per-task overrides of ckpt / model_config / random, e.g. {emodb: {ckpt: spenc.v3ap.deu.pt}}",
}
UPSTREAM_TASK_KEYS = ("ckpt", "random", "model_config")
TASK_KEYS = {
    "root": "the corpus root (datarc.root)",
    "folds": "values of datarc.fold, one cell each (IEMOCAP 1-5, MSP-IMPROV 0-11)",
    "datasets": "values of datarc.dataset for a task over several corpora (emobox): a list, each run on the "
                "folds given, or a mapping corpus -> its folds (e.g. {emodb: [1, 2, 3, 4, 5], ravdess: [1]})",
    "split_seeds": "values of datarc.split_seed, one cell each (CARE's several random splits: 0, 1, 2)",
    "splits": "split_seeds' earlier name (read with a message)",
    "datarc": "other datarc overrides (e.g. MELD's {corpus: {cache: DIR}})",
    "downstream": "overrides of this task's config for every upstream (schedule included)",
}
RANDOM_KEYS = ("family", "size", "seed")
EXECUTOR_KEYS = {
    "kind": f"one of {', '.join(EXECUTORS)}",
    "jobs": "local: processes at once (default 2); slurm: jobs the cells are divided into",
    "threads_per_job": "OMP_NUM_THREADS / torch threads in each job (default 1)",
    "timeout_min": "the longest a job may run, minutes (default 1440)",
    "partition": "slurm: partition",
    "gpus_per_job": "slurm: GPUs per job (default 0)",
    "cpus_per_job": "slurm: CPUs per job (default threads_per_job)",
    "mem_gb": "slurm: memory per job",
    "slurm_additional_parameters": "slurm: anything else submitit passes to sbatch",
}
EXTRACTION_KEYS = {"batch_size": "utterances of similar length per padded forward (default 8)",
                   "shard_size": "utterances per cache shard (default 128)"}
# Settings an upstream entry may not carry: they would give it a different head or data protocol
# (downstream/comparability.py holds the one key that rows must share to be compared).
HEAD_LIKE = UPSTREAM_MAY_NOT_SET


class BenchmarkError(ValueError):
    """A benchmark file that cannot run; the message names the file, each problem and its fix."""


@dataclass(frozen=True)
class RandomWeights:
    family: str
    size: str
    seed: int = 0


@dataclass(frozen=True)
class UpstreamChoice:
    """What one upstream entry gives one task: the s3prl name and its checkpoint."""
    name: str
    ckpt: str | None = None
    model_config: str | None = None
    random: RandomWeights | None = None


@dataclass
class Upstream:
    label: str
    name: str
    category: str | None
    default: UpstreamChoice
    per_task: dict[str, UpstreamChoice] = field(default_factory=dict)

    def for_task(self, task: str) -> UpstreamChoice:
        return self.per_task.get(task, self.default)


@dataclass
class TaskEntry:
    name: str
    root: str | None
    folds: list
    split_seeds: list
    datarc: dict
    downstream: dict
    datasets: dict = field(default_factory=lambda: {None: None})  # corpus -> its folds (None: ``folds``)

    def test_sets(self) -> list[tuple]:
        """(dataset, fold) of every cell's test set, in the file's order."""
        return [(dataset, fold) for dataset, folds in self.datasets.items() for fold in (folds or self.folds)]


@dataclass
class Executor:
    kind: str = "local"
    jobs: int = 2
    threads_per_job: int = 1
    timeout_min: int = 1440
    slurm: dict = field(default_factory=dict)


@dataclass
class Benchmark:
    path: Path
    name: str
    output: Path
    cache: Path
    engine: str
    seeds: list[int]
    normalize: bool
    device: str | None
    downstream: dict
    upstreams: list[Upstream]
    tasks: list[TaskEntry]
    executor: Executor
    extraction: dict


def load(path: str | Path, engine: str | None = None) -> Benchmark:
    """Read and check a benchmark file; ``engine`` overrides the file's."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"{path}: no such benchmark file (see benchmark/configs/demo.yaml for one)")
    data = _read(path, [])
    problems: list[str] = []
    bench = _parse(path, data, problems, engine)
    if problems:
        raise BenchmarkError(f"{path}: {len(problems)} problem(s):\n- " + "\n- ".join(problems))
    return bench


def _read(path: Path, chain: list[Path]) -> dict:
    """The file's mapping, combined with its ``base:`` file's when it names one."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise BenchmarkError(f"{path}: not valid YAML ({err})") from err
    if not isinstance(data, dict):
        raise BenchmarkError(f"{path}: a benchmark file is a mapping with {', '.join(TOP_KEYS)}")
    if "base" not in data:
        return data
    base_path = (path.parent / str(data.pop("base"))).resolve()
    if base_path in chain or base_path == path.resolve():
        raise BenchmarkError(f"{path}: base: {base_path} leads back to this file; remove one of the base: keys")
    if not base_path.is_file():
        raise BenchmarkError(f"{path}: base: {base_path} does not exist (the path is relative to {path.parent})")
    base = _read(base_path, chain + [path.resolve()])
    combined = {**base, **data}
    if isinstance(data.get("tasks"), dict) and isinstance(base.get("tasks"), dict):
        combined["tasks"] = {task: merge(base["tasks"].get(task) or {}, settings or {})
                             for task, settings in data["tasks"].items()}
    return combined


def _unknown(where: str, given: dict, known, problems: list[str]) -> None:
    for key in given:
        if key not in known:
            near = ", ".join(sorted(known))
            problems.append(f"{where}: unknown key {key!r}; the keys are {near}")


def _abs(value) -> str | None:
    return None if value is None else str(Path(str(value)).expanduser().absolute())


def _parse(path: Path, data: dict, problems: list[str], engine_override: str | None) -> Benchmark | None:
    _unknown("top level", data, TOP_KEYS, problems)
    from care_superb.downstream.registry import TASKS

    output = data.get("output")
    if not output:
        problems.append("output: missing; name the folder for the cells and results (e.g. output: result/bench/demo)")
    engine = engine_override or data.get("engine", "cached")
    if engine not in ENGINES:
        problems.append(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    seeds = data.get("seeds", [1337])
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds)):
        problems.append(f"seeds: expected a list of integers, got {seeds!r}")
        seeds = []
    if len(set(seeds)) != len(seeds):
        problems.append(f"seeds: {seeds} repeats a seed")
    normalize = data.get("normalize", False)
    if not isinstance(normalize, bool):
        problems.append(f"normalize: expected true or false, got {normalize!r}")
    downstream = data.get("downstream") or {}
    if not isinstance(downstream, dict):
        problems.append("downstream: expected a mapping of config overrides (e.g. {runner: {total_steps: 1000}})")
        downstream = {}

    problems += check_schedule(downstream.get("schedule"), "downstream")
    tasks = _parse_tasks(data.get("tasks"), TASKS, problems)
    _check_settings(downstream, tasks, problems)
    task_names = {t.name for t in tasks}
    problems += lr_under_converge(downstream, tasks)
    upstreams = _parse_upstreams(data.get("upstreams"), task_names, problems)
    executor = _parse_executor(data.get("executor") or {}, problems)
    extraction = data.get("extraction") or {}
    if not isinstance(extraction, dict):
        problems.append("extraction: expected a mapping")
        extraction = {}
    _unknown("extraction", extraction, EXTRACTION_KEYS, problems)
    if problems:
        return None
    out = Path(_abs(output))
    return Benchmark(path=path.absolute(), name=str(data.get("name") or path.stem), output=out,
                     cache=Path(_abs(data.get("cache") or out / "cache")), engine=engine, seeds=seeds,
                     normalize=normalize, device=data.get("device"), downstream=downstream, upstreams=upstreams,
                     tasks=tasks, executor=executor,
                     extraction={"batch_size": int(extraction.get("batch_size", 8)),
                                 "shard_size": int(extraction.get("shard_size", 128))})


def _parse_tasks(given, known: dict, problems: list[str]) -> list[TaskEntry]:
    if not isinstance(given, dict) or not given:
        problems.append(f"tasks: expected a mapping task -> settings, with tasks from {', '.join(sorted(known))}")
        return []
    tasks = []
    for name, entry in given.items():
        entry = entry or {}
        if name not in known:
            problems.append(f"tasks.{name}: unknown task; the tasks are {', '.join(sorted(known))}")
            continue
        if not isinstance(entry, dict):
            problems.append(f"tasks.{name}: expected a mapping ({', '.join(TASK_KEYS)})")
            continue
        _unknown(f"tasks.{name}", entry, TASK_KEYS, problems)
        if "splits" in entry:
            if "split_seeds" in entry:
                problems.append(f"tasks.{name}: splits and split_seeds both given; splits is split_seeds' earlier "
                                f"name, keep split_seeds")
            else:
                print(f"[bench] tasks.{name}.splits is deprecated: it lists split seeds, now tasks.{name}.split_seeds")
        folds, seeds = entry.get("folds", [None]), entry.get("split_seeds", entry.get("splits", [None]))
        for key, values in (("folds", folds), ("split_seeds", seeds)):
            if not isinstance(values, list) or not values:
                problems.append(f"tasks.{name}.{key}: expected a non-empty list, got {values!r}")
        datarc = entry.get("datarc") or {}
        datasets = _parse_datasets(name, entry.get("datasets"), known[name], problems)
        for key, where in (("fold", "folds"), ("split_seed", "split_seeds"), ("split", "split_seeds"), ("root", "root"),
                           ("dataset", "datasets")):
            if key in datarc:
                problems.append(f"tasks.{name}.datarc.{key}: set it with tasks.{name}.{where}")
        problems += check_schedule((entry.get("downstream") or {}).get("schedule"), f"tasks.{name}.downstream")
        tasks.append(TaskEntry(name, _abs(entry.get("root")), list(folds) if isinstance(folds, list) else [None],
                               list(seeds) if isinstance(seeds, list) else [None], dict(datarc),
                               dict(entry.get("downstream") or {}), datasets))
    return tasks


def _parse_datasets(name: str, given, task, problems: list[str]) -> dict:
    """``tasks.<name>.datasets``: corpus -> its folds (None: the task's ``folds``)."""
    if given is None:
        return {None: None}
    if "dataset" not in getattr(task.corpus, "DATARC", ()):
        problems.append(f"tasks.{name}.datasets: {name} reads one corpus; datasets is for a task over several "
                        f"(e.g. emobox)")
        return {None: None}
    if isinstance(given, list) and given and all(isinstance(d, str) for d in given):
        chosen = {d: None for d in given}
    elif isinstance(given, dict) and given and all(v is None or (isinstance(v, list) and v) for v in given.values()):
        chosen = {str(d): (list(v) if v else None) for d, v in given.items()}
    else:
        problems.append(f"tasks.{name}.datasets: expected a list of corpora or a mapping corpus -> list of folds, "
                        f"got {given!r}")
        return {None: None}
    if len(chosen) != (len(given) if isinstance(given, list) else len(chosen)):
        problems.append(f"tasks.{name}.datasets: {given} names a corpus twice")
    return chosen


def lr_under_converge(downstream: dict, tasks: list[TaskEntry]) -> list[str]:
    """A learning rate set where the converge schedule chooses it would silently not apply."""
    from care_superb.downstream.schedule import DEFAULT, plan

    problems = []
    for task in tasks:
        value = task.downstream.get("schedule", downstream.get("schedule", DEFAULT))
        if plan({"schedule": value})["name"] != "converge":
            continue
        for where, given in (("downstream", downstream), (f"tasks.{task.name}.downstream", task.downstream)):
            if "lr" in (given.get("optimizer") or {}):
                problems.append(f"{where}.optimizer.lr: {task.name} trains with schedule converge, which chooses the "
                                f"learning rate on dev from schedule.lr_grid; give the rates there "
                                f"(schedule: {{name: converge, lr_grid: [...]}}) or set schedule: paper")
    return list(dict.fromkeys(problems))


def _check_settings(downstream: dict, tasks: list[TaskEntry], problems: list[str]) -> None:
    """Every downstream setting the file gives is one the task reads (config_keys.unknown): a
    misspelt key would otherwise be merged into the config and silently not apply."""
    from care_superb.downstream.config_keys import DATARC, unknown

    lacking: dict[str, tuple[list[str], str]] = {}  # one problem of the top-level downstream: for all its tasks
    for task in tasks:
        config = task_config(task.name)
        for where, given, shown in (("downstream", downstream, 0), (f"tasks.{task.name}.downstream", task.downstream, 0),
                                    (f"tasks.{task.name}.datarc", {DATARC[0]: {DATARC[1]: {
                                        # these four _parse_tasks refuses with their task key
                                        k: v for k, v in task.datarc.items()
                                        if k not in ("fold", "split_seed", "split", "root")}}}, len(DATARC))):
            for path, hint in unknown(given, config, task.name):
                if shown:  # as the file writes it: datarc.<key>, the suggestion too
                    hint = hint.replace(".".join(DATARC) + ".", "")
                lacking.setdefault(f"{where}.{'.'.join(path[shown:])}", ([], hint))[0].append(task.name)
    for key, (names, hint) in lacking.items():
        readers = [t.name for t in tasks if t.name not in names]
        if key.startswith("downstream.") and readers:  # a setting of some tasks only
            hint = " or ".join(f"set it under tasks.{name}.downstream" for name in readers)
        problems.append(f"{key}: not a setting of {', '.join(names)} (downstream/<task>/config.yaml, or one that "
                        f"s3prl or care-superb adds); {hint}")


def _parse_choice(where: str, entry: dict, name: str, problems: list[str]) -> UpstreamChoice:
    random = entry.get("random")
    if random is not None:
        if entry.get("ckpt"):
            problems.append(f"{where}: give either ckpt or random, not both")
        if not isinstance(random, dict) or not {"family", "size"} <= set(random):
            problems.append(f"{where}.random: expected {{family, size[, seed]}} (see `care-superb baseline-init --list`)")
            random = None
        else:
            _unknown(f"{where}.random", random, RANDOM_KEYS, problems)
            random = RandomWeights(str(random["family"]), str(random["size"]), int(random.get("seed", 0)))
    ckpt = entry.get("ckpt")
    if ckpt is not None and not Path(str(ckpt)).expanduser().exists():
        hint = (" (this is a placeholder: put the path of your copy of the checkpoint here)"
                if "EDIT" in str(ckpt) or "/path/to/" in str(ckpt) else "")
        problems.append(f"{where}.ckpt: {ckpt} does not exist{hint}")
    return UpstreamChoice(name, _abs(ckpt), _abs(entry.get("model_config")), random)


def _parse_upstreams(given, task_names: set[str], problems: list[str]) -> list[Upstream]:
    if not isinstance(given, list) or not given:
        problems.append("upstreams: expected a list of {name, ckpt | random, label, category}")
        return []
    from care_superb.upstream.baselines import random_checkpoints

    families = random_checkpoints()
    names = _hub_names()
    upstreams, labels = [], {}
    for i, entry in enumerate(given):
        where = f"upstreams[{i}]"
        if not isinstance(entry, dict) or "name" not in entry:
            problems.append(f"{where}: expected a mapping with at least name (the s3prl upstream, -u)")
            continue
        name = str(entry["name"])
        where = f"upstreams[{i}] ({entry.get('label', name)})"
        for key in entry:
            if key in HEAD_LIKE:
                problems.append(f"{where}.{key}: downstream settings are shared by every upstream (one head and "
                                f"one data protocol for all); set them under the top-level downstream: or "
                                f"tasks.<task>.downstream:")
        _unknown(where, {k: v for k, v in entry.items() if k not in HEAD_LIKE}, UPSTREAM_KEYS, problems)
        if name not in names:
            problems.append(f"{where}.name: unknown upstream {name!r} (not in s3prl.hub with care-superb "
                            f"plugged in); {_closest(name, names)}")
        category = entry.get("category")
        if category is not None and category not in CATEGORIES:
            problems.append(f"{where}.category: {category!r} is not one of {', '.join(CATEGORIES)}")
        default = _parse_choice(where, entry, name, problems)
        per_task = {}
        for task, override in (entry.get("tasks") or {}).items():
            if task not in task_names:
                problems.append(f"{where}.tasks.{task}: not a task of this file ({', '.join(sorted(task_names))})")
                continue
            override = override or {}
            bad = [k for k in override if k not in UPSTREAM_TASK_KEYS]
            if bad:
                problems.append(f"{where}.tasks.{task}: only {', '.join(UPSTREAM_TASK_KEYS)} may differ per task "
                                f"(got {', '.join(bad)}); downstream settings are shared by every upstream")
                continue
            merged = {"ckpt": entry.get("ckpt"), "random": entry.get("random"), "model_config": entry.get("model_config")}
            if "ckpt" in override:
                merged["random"] = None
            if "random" in override:
                merged["ckpt"] = None
            per_task[task] = _parse_choice(f"{where}.tasks.{task}", {**merged, **override}, name, problems)
        for choice in [default, *per_task.values()]:
            if choice.random is not None:
                spec = families.get(choice.random.family)
                if spec is None:
                    problems.append(f"{where}.random.family: unknown family {choice.random.family!r}; "
                                    f"choose from {', '.join(sorted(families))}")
                elif name not in spec.readers and name not in spec.default_readers:
                    problems.append(f"{where}: -u {name} does not read a {choice.random.family} checkpoint; "
                                    f"use one of {', '.join(sorted(spec.readers))}")
                elif choice.random.size not in spec.sizes:
                    problems.append(f"{where}.random.size: {choice.random.family} has sizes {', '.join(spec.sizes)}")
        label = str(entry.get("label") or name)
        slug = slugify(label)
        if slug in labels:
            problems.append(f"{where}.label: {label!r} is used twice (also by {labels[slug]}); labels name the "
                            f"rows in the tables and must differ")
        labels[slug] = where
        upstreams.append(Upstream(label, name, category, default, per_task))
    return upstreams


def _parse_executor(given: dict, problems: list[str]) -> Executor:
    if not isinstance(given, dict):
        problems.append("executor: expected a mapping (kind: local | slurm, ...)")
        return Executor()
    _unknown("executor", given, EXECUTOR_KEYS, problems)
    kind = given.get("kind", "local")
    if kind not in EXECUTORS:
        problems.append(f"executor.kind: {kind!r} is not one of {', '.join(EXECUTORS)}")
    slurm = {k: given[k] for k in ("partition", "gpus_per_job", "cpus_per_job", "mem_gb",
                                   "slurm_additional_parameters") if k in given}
    if kind == "local" and slurm:
        problems.append(f"executor: {', '.join(slurm)} apply to kind: slurm only")
    try:
        return Executor(kind, max(1, int(given.get("jobs", 2))), max(1, int(given.get("threads_per_job", 1))),
                        int(given.get("timeout_min", 1440)), slurm)
    except (TypeError, ValueError) as err:
        problems.append(f"executor: {err}")
        return Executor()


def _hub_names() -> set[str]:
    from care_superb.plug import plug

    plug()
    import s3prl.hub

    return {n for n in dir(s3prl.hub) if not n.startswith("_") and callable(getattr(s3prl.hub, n))}


def _closest(name: str, names: set[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, sorted(names), n=3)
    return f"did you mean {', '.join(near)}?" if near else "see the upstream table in docs/upstreams.md"


def slugify(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "upstream"


def task_config(task: str) -> dict:
    """The task's own config.yaml, as s3prl reads it."""
    from care_superb.downstream import registry

    return yaml.safe_load((registry.FOLDER / task / "config.yaml").read_text())


def merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` merged in, mappings recursively."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


