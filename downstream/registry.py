"""The tasks. Every task folder ``downstream/<task>/`` registers itself with a ``task.py``
defining ``TASK = Task(...)``: which corpus parser reads the data, what is predicted, which
protocol splits it. Nothing else lists the tasks: ``TASKS`` is found from the folders, on first use.
"""
from __future__ import annotations

import importlib
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
    # A task whose classes come from the corpus on disk (EmoBox's label_map.json): datarc -> class
    # names, passed to ``objective`` as ``classes`` (and so recorded in the row's objective options).
    classes: Callable[[dict], list[str]] | None = None

    def language(self, datarc: dict | None = None) -> str:
        """What is spoken in the task's corpus, as Whisper codes it (``auto``: several languages),
        e.g. what asr_text transcribes in: the corpus module's ``LANGUAGE`` (the one place a
        corpus's facts live), or, for a task over several corpora, its ``language_of(datarc)``
        (EmoBox: the dataset's)."""
        language_of = getattr(self.corpus, "language_of", None)
        language = language_of(datarc or {}) if callable(language_of) else getattr(self.corpus, "LANGUAGE", None)
        if not isinstance(language, str) or not language:
            raise TypeError(f"{self.corpus.__file__} must state LANGUAGE = \"<code>\" (what its speakers speak, "
                            f"as Whisper codes it: en, de, fr, ...), or language_of(datarc) for a task over several "
                            f"corpora; task {self.name} reads it")
        return language


def discover() -> dict[str, Task]:
    """``name -> Task`` for every ``downstream/<name>/task.py``."""
    tasks = {}
    for task_file in sorted(FOLDER.glob("*/task.py")):
        name = task_file.parent.name
        if not (task_file.parent / "__init__.py").is_file():
            # Python would import it as a namespace package, but pkgutil and setuptools skip it:
            # the task would be missing from installed copies and from `care-superb` listings.
            raise ImportError(f"{task_file.parent} has a task.py but no __init__.py; a task folder is a Python "
                              f"package: create an empty {task_file.parent / '__init__.py'}")
        module = importlib.import_module(f"care_superb.downstream.{name}.task")
        task = getattr(module, "TASK", None)
        if not isinstance(task, Task):
            raise TypeError(f"{module.__file__} must define TASK = Task(...)")
        if task.name != name:
            raise ValueError(f"{module.__file__}: TASK.name is {task.name!r}; a task is named after its folder, "
                             f"{name!r} (s3prl's -d {name} reads downstream/{name}/config.yaml)")
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
