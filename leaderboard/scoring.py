"""A row's metric recomputed by its task's own objective on any resample of its test set.

A resample is a list of test *units*, the clusters its predictions file names (a speaker, a
dialogue, a video, an interview: every utterance of it), and, per unit, which system's outputs to
use (0: this row; 1: the paired row, for the randomisation test). Scoring many
resamples through the objective costs one scikit-learn call each; for the metrics of the tables
(weighted F1, CCC) a batched path scores them all at once. It is checked against the objective on
every scorer's first resample and falls back to it on any disagreement, so the objective's
definition always wins.
"""
from __future__ import annotations

import warnings

import numpy as np

from care_superb.leaderboard.rows import LeaderboardError, Row

TOLERANCE = 1e-9


def task_objective(task: str, options: dict):
    """The objective the task trained and scored with (the registry row, the config's options)."""
    from care_superb.downstream.registry import TASKS

    return TASKS[task].objective(**options)


def known_tasks() -> set[str]:
    from care_superb.downstream.registry import TASKS

    return set(TASKS)


class Scorer:
    def __init__(self, rows: list[Row], metric: str):
        """``rows``: one row, or two rows of the same test utterances (the second is the paired system)."""
        first = rows[0]
        self.objective = task_objective(first.registry_task, first.objective_options)
        self.metric = metric
        self.keys, self.targets = first.keys, first.targets
        self.outputs = [first.outputs] + [aligned_outputs(first, other) for other in rows[1:]]
        self.paths = [str(r.path) for r in rows]
        # Objectives that score recordings (DAIC-WOZ's interviews) group by the key's prefix: a unit
        # drawn twice must then count as two recordings (see ``_generic``).
        self.grouped = getattr(self.objective, "recording", None) is not None
        unit_names = list(first.units)
        if self.grouped:
            units_of: dict[str, set] = {}
            for key, unit in zip(self.keys, unit_names):
                units_of.setdefault(self.objective.recording(key), set()).add(unit)
            if any(len(units) > 1 for units in units_of.values()):
                raise LeaderboardError(f"{first.path}: its predictions put segments of one recording in different "
                                       f"units; the {type(self.objective).__name__} metric scores whole recordings, "
                                       f"so a unit must hold all of a recording's segments")
        self.clusters = tuple(sorted(zip(self.keys, unit_names)))
        self.units = sorted(set(unit_names))
        index = {u: i for i, u in enumerate(self.units)}
        self.unit_of = np.array([index[u] for u in unit_names])
        self.members = [np.flatnonzero(self.unit_of == i) for i in range(len(self.units))]
        self.batched = batched_metric(self)
        self._checked = False

    @property
    def n_units(self) -> int:
        return len(self.units)

    def observed(self, system: int = 0) -> float:
        return self._metric(self.targets, self.outputs[system], self.keys)

    def __call__(self, units: np.ndarray, source: np.ndarray | None = None) -> np.ndarray:
        """Scores of ``b`` resamples: ``units`` (b x m unit indices), ``source`` (b x m system indices)."""
        units = np.atleast_2d(units)
        source = np.zeros_like(units) if source is None else np.atleast_2d(source)
        if self.batched is not None:
            values = self.batched(units, source)
            if not self._checked:
                self._checked = True
                reference = self._generic(units[:1], source[:1])[0]
                if abs(values[0] - reference) > TOLERANCE:
                    warnings.warn(f"the batched {self.metric} disagrees with the {type(self.objective).__name__} "
                                  f"objective ({values[0]!r} vs {reference!r}); using the objective", stacklevel=2)
                    self.batched = None
                    return self._generic(units, source)
            return values
        return self._generic(units, source)

    def _generic(self, units: np.ndarray, source: np.ndarray) -> np.ndarray:
        values = np.empty(len(units))
        for b, (row_units, row_source) in enumerate(zip(units, source)):
            targets, outputs, keys = [], [], []
            for position, (unit, system) in enumerate(zip(row_units, row_source)):
                for i in self.members[unit]:
                    targets.append(self.targets[i])
                    outputs.append(self.outputs[system][i])
                    # A unit drawn twice counts as two recordings: the objective groups by the key's prefix.
                    keys.append(f"{position}:{self.keys[i]}" if self.grouped else self.keys[i])
            values[b] = self._metric(targets, outputs, keys)
        return values

    def _metric(self, targets, outputs, keys) -> float:
        with warnings.catch_warnings():
            # A resample often lacks a class that the predictions have; scikit-learn says so each time.
            warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
            metrics = self.objective.metrics(true=targets, pred=outputs, keys=keys)
        if self.metric not in metrics:
            raise LeaderboardError(f"the {type(self.objective).__name__} objective has no metric {self.metric!r} "
                                   f"(it reports {', '.join(metrics)})")
        return float(metrics[self.metric])


def aligned_outputs(first: Row, other: Row) -> list:
    """``other``'s outputs in ``first``'s utterance order; both must hold the same labelled utterances."""
    position = {k: i for i, k in enumerate(other.keys)}
    if set(position) != set(first.keys):
        raise LeaderboardError(f"{first.path} and {other.path} are not on the same test utterances")
    if any(other.targets[position[k]] != t for k, t in zip(first.keys, first.targets)):
        raise LeaderboardError(f"{first.path} and {other.path} give the same utterances different targets")
    if any(other.units[position[k]] != u for k, u in zip(first.keys, first.units)):
        raise LeaderboardError(f"{first.path} and {other.path} put the same utterances in different clusters; "
                               f"re-evaluate them with one care-superb version")
    return [other.outputs[position[k]] for k in first.keys]


def batched_metric(scorer: Scorer):
    """A function scoring a whole batch of resamples at once, or None where the objective must do it."""
    from care_superb.downstream.metrics import CLASSIFICATION
    from care_superb.downstream.objectives import Classification, Regression

    objective, metric = scorer.objective, scorer.metric
    if isinstance(objective, Classification) and metric in CLASSIFICATION:
        return _classification_from_confusions(scorer, CLASSIFICATION[metric])
    if isinstance(objective, Regression):
        names = {f"{a}_ccc": i for i, a in enumerate(objective.attributes)}
        if metric == "mean_ccc" or metric in names:
            return _ccc_batched(scorer, names.get(metric))
    return None


def _draw_counts(units: np.ndarray, source: np.ndarray, n_systems: int, n_units: int) -> np.ndarray:
    """b x (systems * units): how often each resample takes each unit from each system."""
    b = len(units)
    flat = (np.arange(b)[:, None] * n_systems + source) * n_units + units
    return np.bincount(flat.ravel(), minlength=b * n_systems * n_units).reshape(b, n_systems * n_units).astype(float)


def _per_unit_sums(scorer: Scorer, features: np.ndarray) -> np.ndarray:
    """(systems * units) x F: each system's per-utterance ``features`` (systems x utterances x F)
    summed over the utterances of each unit."""
    sums = np.zeros((features.shape[0], scorer.n_units, features.shape[2]))
    for system in range(features.shape[0]):
        np.add.at(sums[system], scorer.unit_of, features[system])
    return sums.reshape(-1, features.shape[2])


def _classification_from_confusions(scorer: Scorer, metric):
    """A ``downstream/metrics.py`` metric of each resample from its confusion matrix: per-(system,
    unit) confusion counts, summed by the draw counts."""
    k = scorer.objective.output_dim
    true = np.asarray(scorer.targets)
    # an output is a class index, or (class index, probabilities) for segment objectives
    classes = np.array([[o[0] if isinstance(o, (list, tuple)) else o for o in outputs] for outputs in scorer.outputs])
    cells = np.eye(k * k)[true * k + classes]  # systems x utterances x k*k, one-hot (true, predicted)
    sums = _per_unit_sums(scorer, cells)

    def score(units: np.ndarray, source: np.ndarray) -> np.ndarray:
        return metric((_draw_counts(units, source, len(scorer.outputs), scorer.n_units) @ sums).reshape(-1, k, k))

    return score


def _ccc_batched(scorer: Scorer, attribute: int | None):
    """CCC (``concordance.from_moments``) of each resample from the per-(system, unit) sums of pred,
    pred^2, true, true^2 and pred * true, summed by the draw counts."""
    from care_superb.downstream.concordance import from_moments

    true = np.asarray(scorer.targets, dtype=np.float64)
    pred = np.asarray(scorer.outputs, dtype=np.float64)  # systems x utterances x attributes
    true = np.broadcast_to(true, pred.shape)
    ones = np.ones(pred.shape[:2] + (1,))  # summed per unit: its utterances, what the means divide by
    sums = _per_unit_sums(scorer, np.concatenate([pred, pred * pred, true, true * true, pred * true, ones], axis=2))

    def score(units: np.ndarray, source: np.ndarray) -> np.ndarray:
        drawn = _draw_counts(units, source, len(scorer.outputs), scorer.n_units) @ sums
        mean_p, mean_pp, mean_t, mean_tt, mean_pt = np.split(drawn[:, :-1] / drawn[:, -1:], 5, axis=1)
        values = from_moments(mean_pt - mean_p * mean_t, mean_pp - mean_p ** 2, mean_tt - mean_t ** 2, mean_p - mean_t)
        return values.mean(1) if attribute is None else values[:, attribute]

    return score
