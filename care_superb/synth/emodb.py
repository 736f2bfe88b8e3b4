"""EmoDB (Berlin Database of Emotional Speech) layout: ``wav/SSTTTEV.wav``.

Speakers, sexes, text codes and sentences are the real corpus's; so are the emotion letters.
"""
from __future__ import annotations

import random

from care_superb.synth import Clip, Plan, speakers

# speaker id -> sex, as documented with the corpus.
SPEAKERS = {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m",
            "12": "m", "13": "f", "14": "f", "15": "m", "16": "f"}
TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
            "F": "happiness", "T": "sadness", "N": "neutral"}
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
