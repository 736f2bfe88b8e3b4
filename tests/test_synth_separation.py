"""The synthetic pre-training corpus shares nothing with the corpora a model is tested on: no
accent, no espeak-ng variant, no emotion rendering and no word. A test corpus that shares a
generator with the pre-training corpus cannot show that pre-training works."""
from __future__ import annotations

import dataclasses
import random
import re

import pytest

from care_superb.synth import layout, layouts
from care_superb.synth.espeak import EMOTIONS, TASK_VOICES

PRETRAINING = "msp_podcast"  # what `care-superb pretrain` is tried on (scripts/demo.sh)
SEEDS = (0, 1, 2)


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]+", text.lower()))


def generator(name: str) -> dict[str, set]:
    """Everything a layout's plans use, over its sizes and a few seeds: accents, variants (the
    speakers' and voice-quality ones), emotion renderings and spoken words (and, for the
    pre-training corpus, its transcripts: what the text teacher reads)."""
    module = layout(name)
    used: dict[str, set] = {"accents": set(), "variants": set(), "renderings": set(), "words": set()}
    for size in module.SIZES:
        for seed in SEEDS:
            plan = module.plan(random.Random(f"{seed}:plan"), size)
            for clip in plan.clips:
                prosody = EMOTIONS[clip.emotion] if isinstance(clip.emotion, str) else clip.emotion
                used["accents"].add(clip.speaker.language)
                used["variants"] |= {clip.speaker.variant} | ({prosody.variant} if prosody.variant else set())
                used["renderings"].add(dataclasses.replace(prosody, variant=None))
                used["words"] |= words(clip.text)
            if name == PRETRAINING:
                for path, text in plan.text_files.items():
                    if path.startswith("Transcripts/"):
                        used["words"] |= words(text)
    return used


def overlaps(pretraining: dict[str, set], tasks: dict[str, dict[str, set]]) -> list[str]:
    found = []
    for task, used in tasks.items():
        for kind, values in pretraining.items():
            shared = values & used[kind]
            if shared:
                found.append(f"{kind} shared with {task}: {sorted(map(str, shared))[:8]}")
    return found


@pytest.fixture(scope="module")
def tasks() -> dict[str, dict[str, set]]:
    return {name: generator(name) for name in layouts() if name != PRETRAINING}


def test_the_pretraining_corpus_shares_no_voice_rendering_or_word_with_any_task_corpus(tasks):
    assert len(tasks) >= 8 and all(used["words"] for used in tasks.values())
    pretraining = generator(PRETRAINING)
    assert len(pretraining["words"]) > 80 and len(pretraining["variants"]) > 10
    assert overlaps(pretraining, tasks) == []


def test_the_two_voice_tables_have_no_entry_in_common():
    from care_superb.synth.pretraining import VOICES

    assert not set(VOICES.emotions.values()) & set(TASK_VOICES.emotions.values())
    for sex in ("m", "f"):
        assert not set(VOICES.variants[sex]) & set(TASK_VOICES.variants[sex])
    assert not any(p.variant for p in VOICES.emotions.values())  # no voice quality stands for an emotion


@pytest.mark.parametrize("leak,kind", [
    ("task voices", "variants"),
    ("task renderings", "renderings"),
    ("a task word", "words"),
])
def test_an_overlap_introduced_into_the_pretraining_corpus_is_found(tasks, monkeypatch, leak, kind):
    from care_superb.downstream.msp_podcast import synth

    if leak == "task voices":
        monkeypatch.setattr(synth, "VOICES", dataclasses.replace(TASK_VOICES, accents=("en-us",)))
    elif leak == "task renderings":
        monkeypatch.setattr(synth, "PROSODY", EMOTIONS)
    else:
        monkeypatch.setattr(synth, "ENDINGS", synth.ENDINGS + ("with coffee",))
    found = overlaps(generator(PRETRAINING), tasks)
    assert any(line.startswith(f"{kind} shared with") for line in found), found
    if leak == "task voices":
        assert any(line.startswith("accents shared with meld") for line in found)

