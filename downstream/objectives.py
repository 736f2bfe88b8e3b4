"""What a head predicts, how it is trained and scored: one class per kind of task.

The shared expert calls ``output_dim``, ``target``, ``loss``, ``predict``, ``metrics`` and reads
``selection`` (the dev metric that picks ``dev-best.ckpt``). Metrics come from scikit-learn.
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from torch.nn import functional as F


class Classification:
    selection = "weighted_f1"

    def __init__(self, labels: list[str]):
        self.labels = list(labels)
        self.index = {label: i for i, label in enumerate(self.labels)}

    @property
    def output_dim(self) -> int:
        return len(self.labels)

    @property
    def expects(self) -> str:
        return f"classes {self.labels}"

    def accepts(self, label) -> bool:
        return label in self.index

    def target(self, label: str) -> int:
        return self.index[label]

    def collate(self, targets: list[int]) -> torch.Tensor:
        return torch.tensor(targets, dtype=torch.long)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, target)

    def predict(self, output: torch.Tensor) -> list:
        return output.argmax(dim=-1).tolist()

    def metrics(self, true: list[int], pred: list[int]) -> dict[str, float]:
        """Weighted F1 first (the paper's metric), then accuracy (WA), unweighted accuracy (UA)
        and macro F1."""
        return {
            "weighted_f1": float(f1_score(true, pred, average="weighted", zero_division=0)),
            "accuracy": float(accuracy_score(true, pred)),
            "unweighted_accuracy": float(balanced_accuracy_score(true, pred)),
            "macro_f1": float(f1_score(true, pred, average="macro", zero_division=0)),
        }

    def describe(self, value) -> str:
        return self.labels[value] if isinstance(value, (int, np.integer)) else str(value)
