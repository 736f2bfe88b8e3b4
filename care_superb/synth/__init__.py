"""Synthetic corpora in the owners' exact layouts, spoken by espeak-ng.

A layout module (``downstream/<corpus>/synth.py``, beside the corpus's parser whose facts it
imports; found from the folders, see ``layouts``) plans the corpus as a list of ``Clip``s plus
small text files (label lists, transcripts); ``synthesize`` renders them. Each clip's
randomness is seeded by (seed, path), so a run that was interrupted resumes where it stopped and
produces byte-identical files. The marker file ``SYNTHETIC.json`` in the root is written last:
its presence means the corpus is complete, and every result row computed on it says so.
"""
from __future__ import annotations

import importlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from care_superb.synth.espeak import TASK_VOICES, Prosody, Speaker, Voices, at_level, render, write_wav

MARKER = "SYNTHETIC.json"



@dataclass(frozen=True)
class Clip:
    """One audio file of a planned corpus."""

    path: str  # relative to the corpus root
    text: str
    speaker: Speaker
    emotion: str | Prosody
    sample_rate: int = 16000
    channels: int = 1
    level_db: float | None = None  # RMS level the clip is normalised to (None: as rendered)


@dataclass
class Plan:
    clips: list[Clip]
    text_files: dict[str, str] = field(default_factory=dict)  # relative path -> content
    finish: Callable[[Path], None] | None = None  # e.g. a container conversion after rendering


def layouts() -> dict[str, str]:
    """Corpus name -> module of its synthetic layout: every ``downstream/<corpus>/synth.py``.
    Found without importing the task code (and so without s3prl or torch)."""
    import care_superb.downstream as downstream

    folder = Path(downstream.__file__).resolve().parent
    return {p.parent.name: f"care_superb.downstream.{p.parent.name}.synth"
            for p in sorted(folder.glob("*/synth.py"))}


def layout(name: str):
    found = layouts()
    if name not in found:
        raise KeyError(f"no synthetic layout {name!r}; known: {', '.join(sorted(found))}")
    return importlib.import_module(found[name])


def is_synthetic(root: str | Path) -> bool:
    """True when ``root`` is a corpus written by ``care-superb synth``."""
    return (Path(root) / MARKER).is_file()


def synthesize(name: str, out: str | Path, seed: int = 0, size: str = "demo") -> Path:
    """Write corpus ``name`` under ``out``; returns the root. Resumes a partial run."""
    module = layout(name)
    if size not in module.SIZES:
        raise ValueError(f"size {size!r} unknown for {name}; choose from {', '.join(module.SIZES)}")
    out = Path(out)
    settings = {"synthetic": True, "generator": "care-superb synth", "layout": name,
                "seed": seed, "size": size}
    if getattr(module, "VERSION", 1) > 1:  # a layout whose plan changed: older copies are refused
        settings["version"] = module.VERSION
    marker = out / MARKER
    if marker.is_file():
        existing = json.loads(marker.read_text())
        if existing == settings:
            return out
        other_version = existing.get("version", 1) != settings.get("version", 1)
        raise FileExistsError(
            f"{out} already holds a synthetic corpus made with {existing}; "
            f"choose another --out or delete it to make one with {settings}"
            + (f" (it was made by version {existing.get('version', 1)} of the layout; this version of the "
               f"layout says different things" + (f": {module.CHANGED}" if hasattr(module, "CHANGED") else "") + ")"
               if other_version else "")
        )
    if out.exists() and any(out.iterdir()) and not _looks_like_partial(out, name):
        raise FileExistsError(f"{out} exists and is not a (partial) synthetic {name} corpus; choose another --out")
    flag = out / ".synth-in-progress"
    if flag.is_file() and json.loads(flag.read_text()) != settings:  # resuming would mix two corpora
        raise FileExistsError(
            f"{out} holds a partial synthetic corpus made with {json.loads(flag.read_text())}; "
            f"delete it or choose another --out to make one with {settings}"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / ".synth-in-progress").write_text(json.dumps(settings))

    plan = module.plan(random.Random(f"{seed}:plan"), size)
    todo = [c for c in plan.clips if not (out / c.path).is_file()]
    for clip in tqdm(todo, desc=f"synth {name}", unit="clip", initial=len(plan.clips) - len(todo),
                     total=len(plan.clips)):
        audio = render(clip.text, clip.speaker, clip.emotion, random.Random(f"{seed}:{clip.path}"))
        if clip.level_db is not None:
            audio = at_level(audio, clip.level_db)
        write_wav(out / clip.path, audio, clip.sample_rate, clip.channels)
    for rel, content in plan.text_files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(content, encoding="utf-8")
    if plan.finish is not None:
        plan.finish(out)
    marker.write_text(json.dumps(settings, indent=1) + "\n")
    (out / ".synth-in-progress").unlink()
    return out


def _looks_like_partial(out: Path, name: str) -> bool:
    flag = out / ".synth-in-progress"
    return flag.is_file() and json.loads(flag.read_text()).get("layout") == name


def speakers(table: dict[str, str], language: str | None, seed_rng: random.Random,
             voices: Voices = TASK_VOICES) -> dict[str, Speaker]:
    """Voices for a corpus's speaker table ``{speaker_id: sex}``, drawn from one seeded rng out
    of ``voices`` (the task corpora's by default); ``language`` None: an accent of the table."""
    return {sid: Speaker.draw(sid, sex, language, seed_rng, voices) for sid, sex in table.items()}
