"""Each manifest row against its audio file, before anything trains.

A row is *missing* (no file at its ``wav`` path), *unreadable* (``audio.check_audio`` refuses it:
empty, not audio, truncated) or of *another duration* (the file's length differs from the row's
``length`` by more than 1% of it or 10 ms, whichever is larger: a cropped or re-encoded copy).
``datarc.on_mismatch`` decides what happens to such rows:

- ``error`` (the default): stop, naming how many rows of each kind, the first files with their
  manifest and actual lengths, and the setting;
- ``warn``: keep the files of another duration (counted as ``flagged`` in the result row), leave
  out the missing and unreadable ones (they cannot be read);
- ``skip``: leave every such row out.

Whatever is left out is counted by reason in the result row and listed in ``skipped.json``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from care_superb.downstream.corpus import CorpusError, Excluded

ON_MISMATCH = ("error", "warn", "skip")
MISSING, UNREADABLE, DURATION = "missing file", "unreadable file", "duration differs from manifest"
TOLERANCE_SECONDS, TOLERANCE_FRACTION = 0.010, 0.01
SHOWN = 5  # files named in an error


@dataclass(frozen=True)
class Row:
    key: str
    path: Path
    length: float | None  # seconds, as the manifest says
    manifest: str  # which list the row is in (for messages)


def differs(actual: float, stated: float) -> bool:
    return abs(actual - stated) > max(TOLERANCE_SECONDS, TOLERANCE_FRACTION * stated)


def check_rows(rows: list[Row], on_mismatch: str, dataset: str) -> tuple[set[str], list[Excluded], list[Excluded]]:
    """(keys kept, rows left out, rows kept but flagged)."""
    # Imported here: audio.py loads torch, which a parser (and `care-superb synth`) must not.
    from care_superb.downstream.audio import AudioError, check_audio

    if on_mismatch not in ON_MISMATCH:
        raise CorpusError(f"datarc.on_mismatch={on_mismatch!r}; use one of {', '.join(ON_MISMATCH)}")
    problems: list[tuple[Row, str, str]] = []
    for row in tqdm(rows, desc=f"{dataset}: checking files against the manifest", unit="file", leave=False,
                    mininterval=2):
        try:
            check_audio(row.path)
        except AudioError as err:
            problems.append((row, MISSING if not row.path.is_file() else UNREADABLE, str(err)))
            continue
        if row.length is not None:
            actual = sf.info(str(row.path)).duration
            if differs(actual, row.length):
                problems.append((row, DURATION, f"{row.path}: {actual:.3f} s, the manifest says {row.length:.3f} s"))
    if problems and on_mismatch == "error":
        raise CorpusError(error_message(problems, len(rows), dataset))
    flagged = [Excluded(r.key, reason, detail) for r, reason, detail in problems
               if reason == DURATION and on_mismatch == "warn"]
    left_out = [Excluded(r.key, reason, detail) for r, reason, detail in problems
                if not (reason == DURATION and on_mismatch == "warn")]
    if problems:
        counts = ", ".join(f"{reason}: {n}" for reason, n in sorted(Counter(p[1] for p in problems).items()))
        tqdm.write(f"[emobox] {dataset}: {len(problems)} of {len(rows)} rows do not match their files ({counts}); "
                   f"on_mismatch={on_mismatch}: {len(left_out)} left out, {len(flagged)} kept (see skipped.json)")
    out = {e.key for e in left_out}
    return {r.key for r in rows if r.key not in out}, left_out, flagged


def error_message(problems: list[tuple[Row, str, str]], total: int, dataset: str) -> str:
    counts = ", ".join(f"{n} {reason}" for reason, n in sorted(Counter(p[1] for p in problems).items()))
    shown = "\n  ".join(f"{row.manifest} {row.key}: {detail}" for row, _, detail in problems[:SHOWN])
    more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return (f"{len(problems)} of {total} rows of EmoBox's {dataset} lists do not match their audio files ({counts}):"
            f"\n  {shown}{more}\nwith downstream_expert.datarc.on_mismatch: error (the default). Restore the "
            f"files from the corpus's owners, or set datarc.on_mismatch: warn (keep files of another duration, "
            f"leave out missing and unreadable ones) or skip (leave every such row out); either way each is "
            f"counted in the result row and listed in skipped.json")
