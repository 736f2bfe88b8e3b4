"""CaFE layout: ``CaFE_48k/<Emotion>/<Fort|Faible>/AA-E-I-S.wav``, ``Neutre/AA-N-1-S.wav``, 48 kHz.

The real actors (odd = male), sentences and codes, spoken in French. Two emotion folders carry
the names a zip tool with the wrong encoding gives them ("Col+¿re" for Colère, "D+®go+¦t" for
Dégoût), as copies of the real corpus often do: the labels must come from the file names.
"""
from __future__ import annotations

import random

from care_superb.downstream.cafe.corpus import ACTORS, EDITIONS, EMOTIONS, FOLDERS, INTENSITIES, SAMPLE_RATES, SENTENCES
from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.intensity import scaled

# Two folder names as a zip tool with the wrong encoding writes them.
GARBLED = {"C": "Col+¿re", "D": "D+®go+¦t"}
STRENGTH = {"1": 1.0, "2": 1.4}  # intensity -> strength of the emotion's prosody profile
SAMPLE_RATE = SAMPLE_RATES["48k"]
EDITION = EDITIONS["48k"]
# sentences per (actor, emotion, intensity): "full" is the real 78 files per actor.
SIZES = {"demo": 2, "full": 6}


def plan(rng: random.Random, size: str) -> Plan:
    voices = speakers(ACTORS, "fr-fr", rng)
    clips = []
    for actor, voice in voices.items():
        for letter, profile in EMOTIONS.items():  # CaFE's emotion names are the profiles' names
            folder = GARBLED.get(letter, FOLDERS[letter])
            sentences = sorted(rng.sample(sorted(SENTENCES), SIZES[size]))
            if letter == "N":  # no intensity folder
                clips += [Clip(f"{EDITION}/{folder}/{actor}-N-1-{s}.wav", SENTENCES[s], voice, profile, SAMPLE_RATE)
                          for s in sentences]
                continue
            for level, subfolder in INTENSITIES.items():
                clips += [Clip(f"{EDITION}/{folder}/{subfolder}/{actor}-{letter}-{level}-{s}.wav", SENTENCES[s],
                               voice, scaled(profile, STRENGTH[level]), SAMPLE_RATE) for s in sentences]
    return Plan(clips)
