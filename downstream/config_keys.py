"""Which settings a task's config accepts, so that a misspelt one is refused instead of ignored.

s3prl's ``-o config.a.b=v`` adds any key it is given, and a benchmark file's ``downstream:`` is
merged into the task's config the same way: ``optimzer: {lr: 1.0e-3}`` ran with the config's own
learning rate and said nothing. A key given is valid where the task's ``config.yaml`` has it, or
where a table below allows it; any other is refused with the closest valid key.

- ``PROJECT_KEYS``: settings this project defines and reads before s3prl sees the config.
- ``OPTIONAL``: settings s3prl's runner or the expert read with a default, so a task's config.yaml
  may leave them out (MSP-IMPROV's has no ``label_map``).
- ``ARGUMENTS``: blocks whose keys are a function's parameters: the torch optimizer's (s3prl's
  ``TorchOptim`` passes every key but ``name`` and ``torch_optim_name`` to it), the corpus parser's
  ``prepare(root, **corpus)`` and the task objective's options.
- ``OPEN``: blocks whose keys no table can list: ``label_map`` maps the corpus's own labels
  (IEMOCAP's ``exc``), and s3prl's ``scheduler`` and ``specaug`` pass their keys to the scheduler
  or SpecAug that s3prl builds (an unknown one stops training at its start, with torch's message).
"""
from __future__ import annotations

import difflib
import inspect
from typing import Callable

Path_ = tuple[str, ...]

# Settings this project defines (not s3prl, not a task's config.yaml): path -> what it is.
PROJECT_KEYS: dict[Path_, str] = {
    ("schedule",): "the head's training schedule, paper or converge (read before s3prl sees the config)",
}

DATARC = ("downstream_expert", "datarc")
MODELRC = ("downstream_expert", "modelrc")
OPTIONAL: dict[Path_, str] = {
    ("scheduler",): "s3prl's learning-rate scheduler (runner.py: config.get('scheduler'))",
    ("specaug",): "s3prl's SpecAugment (runner.py: config.get('specaug'))",
    ("runner", "fp16"): "s3prl: mixed precision",
    ("runner", "train_dataloader"): "s3prl: the split trained on",
    ("runner", "evaluate_ratio"): "s3prl: the share of an evaluation split used",
    ("runner", "gradient_accumulate_steps"): "s3prl: batches per optimizer step",
    ("downstream_expert", "objective"): "the task objective's options (expert.task_splits)",
    **{DATARC + (key,): "read by the expert for every task" for key in (
        "batch_size", "num_workers", "sample_rate", "max_seconds", "min_seconds", "on_bad_audio",
        "label_map", "drop_labels", "corpus")},
    **{MODELRC + (key,): "the head (downstream/head.py)" for key in ("pooling", "hidden_dim")},
}
OPEN: dict[Path_, str] = {
    DATARC + ("label_map",): "the corpus's labels -> the task's",
    ("scheduler",): "s3prl's scheduler: name and that scheduler's arguments",
    ("specaug",): "s3prl's SpecAug arguments",
}


def parameters(function: Callable, *leave_out: str) -> set[str] | None:
    """The keyword parameters of ``function`` (None: it takes ``**kwargs``, so any)."""
    params = inspect.signature(function).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - set(leave_out)


def optimizer_keys(optimizer: dict, task: str) -> set[str] | None:
    name = optimizer.get("name")
    if name == "TorchOptim":
        import torch

        found = getattr(torch.optim, str(optimizer.get("torch_optim_name")), None)
        # an unknown optimizer class is s3prl's error to give; its keys cannot be known here
        keys = parameters(found, "params") if inspect.isclass(found) else None
        return None if keys is None else keys | {"name", "torch_optim_name"}
    from s3prl import optimizers

    found = getattr(optimizers, f"get_{name}", None)
    keys = parameters(found, "model_params", "total_steps") if callable(found) else None
    return None if keys is None else keys | {"name"}


def corpus_keys(block: dict, task: str) -> set[str] | None:
    from care_superb.downstream.registry import TASKS

    return parameters(TASKS[task].corpus.prepare, "root")


def objective_keys(block: dict, task: str) -> set[str] | None:
    from care_superb.downstream.registry import TASKS

    keys = parameters(TASKS[task].objective)
    # a factory passing **options on (DAIC-WOZ's): the options its config.yaml lists
    return set() if keys is None else keys


# path -> (the block as it will be, task) -> its keys (None: any)
ARGUMENTS: dict[Path_, Callable[[dict, str], set[str] | None]] = {
    ("optimizer",): optimizer_keys,
    DATARC + ("corpus",): corpus_keys,
    ("downstream_expert", "objective"): objective_keys,
}


class UnknownSetting(ValueError):
    """Settings that no part of the run reads; the message names each, with the closest valid key."""


def unknown(given: dict, config: dict, task: str) -> list[tuple[Path_, str]]:
    """``(path, what to do)`` for every key of ``given`` (overrides, nested mappings) that the task
    ``task``, whose config is ``config``, does not read."""
    found: list[tuple[Path_, str]] = []

    def valid_keys(path: Path_, base: dict, node: dict) -> set[str] | None:
        if path in OPEN:
            return None
        keys = set(base)
        if path in ARGUMENTS:
            accepted = ARGUMENTS[path]({**base, **node}, task)
            if accepted is None:
                return None
            keys |= accepted
        return keys | {p[-1] for p in (*PROJECT_KEYS, *OPTIONAL) if p[:-1] == path}

    def walk(node: dict, base: dict, path: Path_) -> None:
        keys = valid_keys(path, base, node)
        if keys is None:
            return
        for key, value in node.items():
            here = path + (str(key),)
            if key not in keys:
                near = difflib.get_close_matches(str(key), sorted(keys), n=1)
                found.append((here, f"did you mean {'.'.join(path + (near[0],))}?" if near else
                              f"the keys there are {', '.join(sorted(keys))}" if keys else
                              f"{task} takes no setting there"))
            elif isinstance(value, dict) and here not in PROJECT_KEYS:
                below = base.get(key)
                if below is None or isinstance(below, dict):  # a value given as a mapping is not a setting
                    walk(value, below or {}, here)

    walk(given, config, ())
    return found


def check_override(string: str, args, config: dict) -> None:
    """Refuse run_downstream.py's ``-o`` keys that no part of the run reads: ``config.*`` keys the
    task does not read (``unknown``), ``args.*`` that are not run_downstream.py arguments. The
    keys are parsed by s3prl's own ``override`` into an empty config, so they are read as s3prl
    reads them. Only this project's tasks are checked (s3prl's own read keys no table here lists)."""
    import contextlib
    import io
    from argparse import Namespace

    from s3prl.utility.helper import override

    from care_superb.downstream.registry import TASKS

    task = getattr(args, "downstream", None)
    if task not in TASKS or not string or string.lower() == "none":
        return
    given_args, given = Namespace(), {}
    with contextlib.redirect_stderr(io.StringIO()):  # s3prl prints each key; it prints them again when applied
        override(string, given_args, given)
    problems = [f"config.{'.'.join(path)}: {task} has no such setting (downstream/{task}/config.yaml and the "
                f"settings s3prl and care-superb add); {hint}" for path, hint in unknown(given, config, task)]
    known_args = sorted(vars(args))
    for name in vars(given_args):
        if name not in known_args:
            near = difflib.get_close_matches(name, known_args, n=1)
            problems.append(f"args.{name}: run_downstream.py has no such argument; "
                            + (f"did you mean args.{near[0]}?" if near else "see run_downstream.py --help"))
    if problems:
        raise UnknownSetting("-o: " + "; ".join(problems) if len(problems) == 1 else
                             "-o: {} settings are not read by this run:\n- ".format(len(problems)) + "\n- ".join(problems))


def checking(override: Callable) -> Callable:
    """s3prl's ``override(string, args, config)``, refusing unknown keys first (``plug`` installs it)."""
    def checked(string, args, config):
        check_override(string, args, config)
        return override(string, args, config)

    checked.checks_keys = True
    return checked
