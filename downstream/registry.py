"""The tasks, one line each: which parser reads the corpus, what is predicted, which protocol
splits it. A task folder ``downstream/<name>/`` holds its ``config.yaml`` and a two-line
``expert.py`` naming its row here.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from care_superb.downstream import splits
from care_superb.downstream.objectives import Classification


@dataclass(frozen=True)
class Task:
    name: str
    corpus: str  # module with prepare(root, **options) -> list[Utterance]
    objective: Callable[[], object]
    protocol: Callable  # (utterances, datarc) -> (splits, description)
    description: str

    def parser(self):
        return importlib.import_module(self.corpus)


TASKS = {task.name: task for task in (
    Task("emodb", "care_superb.downstream.emodb.corpus",
         lambda: Classification(["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"]),
         splits.speaker_independent, "EmoDB, 7 emotions, speaker-independent seeded splits"),
)}
