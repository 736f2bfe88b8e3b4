"""What a corpus parser returns, and the errors it raises.

A parser module (``downstream/<corpus>/corpus.py``) has one function
``prepare(root, **options) -> Parsed`` that only reads the corpus as its owners distribute it
(``root`` is the config's ``datarc.root``, ``options`` its ``datarc.corpus`` mapping, plus the
``datarc`` settings the module names in ``DATARC``, e.g. EmoBox's ``dataset`` and ``fold``):
the usable utterances, and every one it left out with the reason (a known defect, a label or
file the corpus itself marks unusable), so that the count reaches the result row. Anything
unexpected stops with a ``CorpusError`` naming the path and what was expected.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class CorpusError(ValueError):
    """The corpus on disk is not what its owners distribute (missing root, wrong layout, bad name)."""


@dataclass(frozen=True)
class Utterance:
    key: str  # unique within the corpus
    path: Path  # audio file
    label: Any  # a class name, or a tuple of floats for regression
    speaker: str
    group: str | None = None  # the unit kept out of two splits when not the speaker (video, session)
    split: str | None = None  # the corpus's official split, when it has one
    start: float | None = None  # seconds, when the utterance is a segment of a longer file
    end: float | None = None
    # What a test set's errors cluster in, when finer than ``unit`` (an IEMOCAP dialogue inside a
    # test session): the leaderboard resamples these, never single utterances (``Parsed.clusters``).
    cluster: str | None = None

    @property
    def unit(self) -> str:
        """What must never appear in two splits."""
        return self.group if self.group is not None else self.speaker

    @property
    def resampling_unit(self) -> str:
        """The cluster the leaderboard's intervals and paired tests resample."""
        return self.cluster if self.cluster is not None else self.unit


@dataclass(frozen=True)
class Excluded:
    """An utterance (or a file, a session, a stretch of time) left out, and why."""

    key: str
    reason: str  # a short category: result rows count exclusions by it
    detail: str = ""  # what exactly, for <expdir>/skipped.json


@dataclass
class Parsed:
    utterances: list[Utterance]
    excluded: list[Excluded] = field(default_factory=list)
    # Utterances kept although a check flagged them (EmoBox's ``on_mismatch: warn``: a duration that
    # differs from the manifest's); counted by reason in the result row beside the exclusions.
    flagged: list[Excluded] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # defects handled without leaving anything out
    partition: str | None = None  # which of the corpus's published splits ``Utterance.split`` follows
    # What ``Utterance.resampling_unit`` is, in words ("speaker", "dialogue", "video", ...): utterances
    # of one speaker, dialogue or video share errors, so intervals resample these (result rows say which).
    clusters: str = "speaker"


def count_reasons(excluded: list[Excluded]) -> dict[str, int]:
    return dict(sorted(Counter(e.reason for e in excluded).items()))


def require_root(root: str | Path, corpus: str, expected: str) -> Path:
    """``root`` as a Path, or a CorpusError saying what should be there and how to point at it."""
    path = Path(root).expanduser()
    if not path.is_dir():
        raise CorpusError(
            f"{corpus} corpus root {path} does not exist; expected {expected}. Point "
            f"downstream_expert.datarc.root at it (in downstream/<task>/config.yaml or with "
            f"-o \"config.downstream_expert.datarc.root=DIR\"), or make a synthetic one with "
            f"`care-superb synth <task> --out DIR`."
        )
    return path


def require_dir(path: Path, corpus: str, expected: str) -> Path:
    if not path.is_dir():
        raise CorpusError(f"{path} is missing: a {corpus} root holds {expected}")
    return path
