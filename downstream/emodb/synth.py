"""Synthetic EmoDB (Berlin Database of Emotional Speech) in its layout, ``wav/SSTTTEV.wav``:
the real speakers, sexes, text codes, sentences and emotion letters (from ``corpus.py``), spoken
by espeak-ng's German voices. EmoDB's emotion names are the prosody profiles' own names.
"""
from __future__ import annotations

import random

from care_superb.downstream.emodb.corpus import EMOTIONS, SPEAKERS, TEXTS
from care_superb.synth import Clip, Plan, speakers

# texts per (speaker, emotion): "demo" keeps the README demo to a few minutes.
SIZES = {"demo": 4, "full": 10}


def plan(rng: random.Random, size: str) -> Plan:
    voices = speakers(SPEAKERS, "de", rng)
    n_texts = SIZES[size]
    clips = []
    for sid, voice in voices.items():
        for letter, emotion in EMOTIONS.items():
            # Each speaker says a different subset of texts, as in the real corpus.
            for text_code in sorted(rng.sample(sorted(TEXTS), n_texts)):
                take = "a"
                clips.append(Clip(f"wav/{sid}{text_code}{letter}{take}.wav", TEXTS[text_code], voice, emotion))
    return Plan(clips)
