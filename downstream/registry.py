"""The tasks. Every task folder ``downstream/<task>/`` registers itself with a ``task.py``
defining ``TASK = Task(...)``: which corpus parser reads the data, what is predicted, which
protocol splits it. Nothing else lists the tasks: ``TASKS`` is found from the folders, on first use.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Task:
    name: str  # the folder's name, s3prl's ``-d``
    corpus: ModuleType  # its ``prepare(root, **options) -> Parsed``
    objective: Callable[..., object]  # called with the config's downstream_expert.objective options
    protocol: Callable  # (utterances, datarc) -> (splits, description)
    description: str

    @property
    def language(self) -> str:
        """What its corpus's speakers speak, as Whisper codes it: the corpus module's ``LANGUAGE``
        (the one place a corpus's facts live), e.g. what asr_text transcribes in."""
        language = getattr(self.corpus, "LANGUAGE", None)
        if not isinstance(language, str) or not language:
            raise TypeError(f"{self.corpus.__file__} must state LANGUAGE = \"<code>\" (what its speakers speak, "
                            f"as Whisper codes it: en, de, fr, ...); task {self.name} reads it")
        return language


def discover() -> dict[str, Task]:
    """``name -> Task`` for every ``downstream/<name>/task.py``."""
    tasks = {}
    for info in sorted(pkgutil.iter_modules([str(FOLDER)]), key=lambda i: i.name):
        if not (info.ispkg and (FOLDER / info.name / "task.py").is_file()):
            continue
        module = importlib.import_module(f"care_superb.downstream.{info.name}.task")
        task = getattr(module, "TASK", None)
        if not isinstance(task, Task):
            raise TypeError(f"{module.__file__} must define TASK = Task(...)")
        if task.name != info.name:
            raise ValueError(f"{module.__file__}: TASK.name is {task.name!r}; a task is named after its folder, "
                             f"{info.name!r} (s3prl's -d {info.name} reads downstream/{info.name}/config.yaml)")
        tasks[task.name] = task
    return tasks


_TASKS: dict[str, Task] | None = None


def __getattr__(name: str):
    # TASKS is found lazily: a task.py imports Task from this module while TASKS is being built.
    global _TASKS
    if name == "TASKS":
        if _TASKS is None:
            _TASKS = discover()
        return _TASKS
    raise AttributeError(name)
