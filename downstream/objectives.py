"""What a head predicts, how it is trained and scored: one class per kind of task.

The shared expert calls ``output_dim``, ``target``, ``loss``, ``predict``, ``metrics`` and reads
``selection`` (the dev metric that picks ``dev-best.ckpt``) and ``min_batch``. Metrics are
``metrics.py``'s (scikit-learn's definitions, on confusion matrices) and ``concordance.ccc``.
``metrics(true, pred, keys=None)`` also receives the utterance keys, for objectives that score
groups of utterances (``InterviewClassification``); the others ignore them. Options under a task
config's ``downstream_expert.objective`` are passed to the registry row's objective factory.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from care_superb.downstream import metrics as m
from care_superb.downstream.concordance import ccc


class Classification:
    selection = "weighted_f1"
    min_batch = 1  # samples a batch needs for the loss to be defined

    def __init__(self, labels: list[str], selection: str | None = None):
        """``selection``: the dev metric and the row's primary metric, one of ``m.CLASSIFICATION``
        (default weighted F1, the paper's; EmoBox's task picks unweighted accuracy, as EmoBox reports)."""
        self.labels = list(labels)
        self.index = {label: i for i, label in enumerate(self.labels)}
        if selection is not None:
            if selection not in m.CLASSIFICATION:
                raise ValueError(f"objective.selection must be one of {', '.join(m.CLASSIFICATION)}, got {selection!r}")
            self.selection = selection

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

    def metrics(self, true: list[int], pred: list[int], keys: list[str] | None = None) -> dict[str, float]:
        """Weighted F1 first (the paper's metric), then accuracy (WA), unweighted accuracy (UA:
        mean recall) and macro F1, and how many of the task's classes the split holds.

        UA and macro F1 average over *every* class of the task, also one absent from the split
        (its recall and F1 count as 0), so that numbers stay comparable across splits and papers;
        ``n_classes_present`` says when that happened. ``keys`` is not needed here."""
        return {**m.classification_metrics(m.confusion(true, pred, len(self.labels))),
                "n_classes_present": len(set(true))}

    def describe(self, value) -> str:
        return self.labels[value] if isinstance(value, (int, np.integer)) else str(value)


class InterviewClassification(Classification):
    """Classification of segments cut from longer recordings (DAIC-WOZ interviews), scored per
    segment and per recording.

    A segment's key is ``<recording>/<segment>``: the recording is what comes before the first
    ``/``. The recording-level decision is ``majority`` (the most frequent segment prediction;
    a tie goes to the higher mean probability) or ``mean_probability`` (the class with the highest
    mean softmax probability over the recording's segments). Besides the segment-level metrics
    of ``Classification`` it reports the ``positive`` class's F1 at both levels, and
    ``interview_*`` metrics. ``selection`` (the dev metric, and the result row's primary one)
    may name any of them; by default the interview-level weighted F1: an interview is what is
    diagnosed, and every scored interview counts once however many segments it gave.
    """

    DECISIONS = ("majority", "mean_probability")

    def __init__(self, labels: list[str], positive: str, decision: str = "majority",
                 selection: str = "interview_weighted_f1"):
        super().__init__(labels)
        if positive not in self.index:
            raise ValueError(f"positive class {positive!r} is not one of {self.labels}")
        if decision not in self.DECISIONS:
            raise ValueError(f"objective.decision must be one of {self.DECISIONS}, got {decision!r}")
        self.positive, self.decision = positive, decision
        names = ["weighted_f1", "accuracy", "unweighted_accuracy", "macro_f1", f"{positive}_f1",
                 "interview_weighted_f1", "interview_macro_f1", f"interview_{positive}_f1", "interview_accuracy"]
        if selection not in names:
            raise ValueError(f"objective.selection must be one of {names}, got {selection!r}")
        self.selection = selection

    def predict(self, output: torch.Tensor) -> list:
        """(class index, class probabilities) per segment: the probabilities are what a
        mean-probability decision averages."""
        probabilities = output.float().softmax(dim=-1)
        return [(int(p.argmax()), [float(v) for v in p]) for p in probabilities]

    @staticmethod
    def recording(key: str) -> str:
        return key.split("/", 1)[0]

    def metrics(self, true: list[int], pred: list, keys: list[str] | None = None) -> dict[str, float]:
        if keys is None or len(keys) != len(true):
            raise ValueError("InterviewClassification.metrics needs one key per prediction (<recording>/<segment>)")
        classes = [p[0] for p in pred]
        scores = super().metrics(true, classes)
        scores[f"{self.positive}_f1"] = self._positive_f1(m.confusion(true, classes, len(self.labels)))

        by_recording: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            by_recording.setdefault(self.recording(key), []).append(i)
        rec_true, rec_pred = [], []
        for recording, rows in by_recording.items():
            labels = {true[i] for i in rows}
            if len(labels) != 1:
                raise ValueError(f"recording {recording!r} has segments with different labels {sorted(labels)}")
            rec_true.append(labels.pop())
            rec_pred.append(self.decide([pred[i] for i in rows]))
        interviews = m.confusion(rec_true, rec_pred, len(self.labels))
        scores.update({
            "interview_weighted_f1": float(m.weighted_f1(interviews)),
            "interview_macro_f1": float(m.macro_f1(interviews)),
            f"interview_{self.positive}_f1": self._positive_f1(interviews),
            "interview_accuracy": float(m.accuracy(interviews)),
        })
        return scores

    def decide(self, segment_predictions: list) -> int:
        """One decision from a recording's (class, probabilities) segment predictions."""
        mean = np.mean([p[1] for p in segment_predictions], axis=0)
        if self.decision == "mean_probability":
            return int(mean.argmax())
        votes = np.bincount([p[0] for p in segment_predictions], minlength=len(self.labels))
        tied = np.flatnonzero(votes == votes.max())
        return int(tied[mean[tied].argmax()])

    def _positive_f1(self, confusion: np.ndarray) -> float:
        return float(m.class_f1(confusion, self.index[self.positive]))

    def describe(self, value) -> str:
        if isinstance(value, (tuple, list)):
            return f"{self.labels[value[0]]} (p={', '.join(f'{v:.3f}' for v in value[1])})"
        return super().describe(value)


class Regression:
    """Attribute regression (MSP-IMPROV: valence, arousal, dominance), the paper's objective:
    the loss is ``1 - CCC`` per attribute, summed; the metric is CCC per attribute and their mean.
    A label is a tuple of floats in the order of ``attributes``."""

    selection = "mean_ccc"
    min_batch = 2  # CCC is undefined for one sample

    def __init__(self, attributes: list[str]):
        self.attributes = list(attributes)

    @property
    def output_dim(self) -> int:
        return len(self.attributes)

    @property
    def expects(self) -> str:
        return f"a tuple of {len(self.attributes)} finite numbers ({', '.join(self.attributes)})"

    def accepts(self, label) -> bool:
        return (isinstance(label, (tuple, list)) and len(label) == len(self.attributes)
                and all(isinstance(v, (int, float)) and np.isfinite(v) for v in label))

    def target(self, label) -> list[float]:
        return [float(v) for v in label]

    def collate(self, targets: list[list[float]]) -> torch.Tensor:
        return torch.tensor(targets, dtype=torch.float32)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (1.0 - ccc(output, target.to(output.dtype), dim=0)).sum()

    def predict(self, output: torch.Tensor) -> list:
        return output.float().tolist()

    def metrics(self, true: list, pred: list, keys: list[str] | None = None) -> dict[str, float]:
        """CCC per attribute (over the whole split, not per batch), then their mean."""
        values = ccc(torch.tensor(pred, dtype=torch.float64), torch.tensor(true, dtype=torch.float64), dim=0)
        scores = {f"{name}_ccc": float(v) for name, v in zip(self.attributes, values)}
        return {"mean_ccc": float(values.mean()), **scores}

    def describe(self, value) -> dict:
        return {name: round(float(v), 4) for name, v in zip(self.attributes, value)}
