"""CaFE layout: ``CaFE_48k/<Emotion>/<Fort|Faible>/AA-E-I-S.wav``, ``Neutre/AA-N-1-S.wav``, 48 kHz.

The real actors (odd = male), sentences and codes, spoken in French. Two emotion folders carry
the names a zip tool with the wrong encoding gives them ("Col+¿re" for Colère, "D+®go+¦t" for
Dégoût), as copies of the real corpus often do: the labels must come from the file names.
"""
from __future__ import annotations

import random

from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.intensity import scaled

ACTORS = {f"{n:02d}": "m" if n % 2 else "f" for n in range(1, 13)}
SENTENCES = {
    "1": "Un cheval fou dans mon jardin.",
    "2": "Deux ânes aigris au pelage brun.",
    "3": "Trois cygnes aveugles au bord du lac.",
    "4": "Quatre vieilles truies éléphantesques.",
    "5": "Cinq pumas fiers et passionnés.",
    "6": "Six ours aimants domestiqués.",
}
# letter -> (folder as written on disk, prosody profile)
EMOTIONS = {
    "C": ("Col+¿re", "anger"),  # Colère, garbled
    "D": ("D+®go+¦t", "disgust"),  # Dégoût, garbled
    "J": ("Joie", "happiness"),
    "N": ("Neutre", "neutral"),
    "P": ("Peur", "fear"),
    "S": ("Surprise", "surprise"),
    "T": ("Tristesse", "sadness"),
}
INTENSITIES = {"1": ("Faible", 1.0), "2": ("Fort", 1.4)}
SAMPLE_RATE = 48000
EDITION = "CaFE_48k"
# sentences per (actor, emotion, intensity): "full" is the real 78 files per actor.
SIZES = {"demo": 2, "full": 6}


def plan(rng: random.Random, size: str) -> Plan:
    voices = speakers(ACTORS, "fr-fr", rng)
    clips = []
    for actor, voice in voices.items():
        for letter, (folder, profile) in EMOTIONS.items():
            sentences = sorted(rng.sample(sorted(SENTENCES), SIZES[size]))
            if letter == "N":  # no intensity folder
                clips += [Clip(f"{EDITION}/{folder}/{actor}-N-1-{s}.wav", SENTENCES[s], voice, profile, SAMPLE_RATE)
                          for s in sentences]
                continue
            for level, (subfolder, factor) in INTENSITIES.items():
                clips += [Clip(f"{EDITION}/{folder}/{subfolder}/{actor}-{letter}-{level}-{s}.wav", SENTENCES[s],
                               voice, scaled(profile, factor), SAMPLE_RATE) for s in sentences]
    return Plan(clips)
