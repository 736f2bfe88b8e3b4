"""RAVDESS layout: ``Actor_NN/03-VV-EE-II-SS-RR-AA.wav`` at 48 kHz.

The real corpus's actors (odd = male), statements and codes. Song files (vocal channel 02) carry
six emotions at two intensities (neutral: normal only); a few speech files (channel 01) share the
folders, as when both archives are extracted into one root; Actor_18 is an empty folder; one file
is 2-channel.
"""
from __future__ import annotations

import random
from pathlib import Path

from care_superb.downstream.facts.ravdess import ACTORS, EMOTIONS, STATEMENTS
from care_superb.downstream.ravdess_song.corpus import NO_SONG_ACTOR, SONG_EMOTIONS
from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.intensity import scaled

# RAVDESS's emotion names -> prosody profiles; intensity code -> strength of the profile.
PROFILES = {"neutral": "neutral", "calm": "calm", "happy": "happiness", "sad": "sadness", "angry": "anger",
            "fearful": "fear", "disgust": "disgust", "surprised": "surprise"}
INTENSITY = {"01": 1.0, "02": 1.4}
SAMPLE_RATE = 48000
# (statements, repetitions) per song emotion and intensity: "full" is the real 44 files per actor.
SIZES = {"demo": (2, 1), "full": (2, 2)}


def _name(channel: str, emotion: str, intensity: str, statement: str, repetition: str, actor: str) -> str:
    return f"Actor_{actor}/03-{channel}-{emotion}-{intensity}-{statement}-{repetition}-{actor}.wav"


def plan(rng: random.Random, size: str) -> Plan:
    n_statements, n_repetitions = SIZES[size]
    voices = speakers({a: sex for a, sex in ACTORS.items() if a != NO_SONG_ACTOR}, "en-us", rng)
    clips = []
    for actor, voice in voices.items():
        for emotion in SONG_EMOTIONS:
            profile = PROFILES[EMOTIONS[emotion]]
            for intensity in (("01",) if emotion == "01" else ("01", "02")):
                # Neutral has no strong take; in the demo it sings both statements instead.
                count = 2 if emotion == "01" and n_statements == 1 else n_statements
                for statement in sorted(rng.sample(sorted(STATEMENTS), count)):
                    for repetition in ("01", "02")[:n_repetitions]:
                        clips.append(Clip(_name("02", emotion, intensity, statement, repetition, actor),
                                          STATEMENTS[statement], voice, scaled(profile, INTENSITY[intensity]),
                                          SAMPLE_RATE))
        for emotion in rng.sample(sorted(EMOTIONS), 2):  # speech files in the same folder
            clips.append(Clip(_name("01", emotion, "01", "01", "01", actor), STATEMENTS["01"], voice,
                              scaled(PROFILES[EMOTIONS[emotion]], 0.6), SAMPLE_RATE))
    first = clips[0]
    clips[0] = Clip(first.path, first.text, first.speaker, first.emotion, SAMPLE_RATE, channels=2)

    def finish(root: Path) -> None:
        (root / f"Actor_{NO_SONG_ACTOR}").mkdir(exist_ok=True)

    return Plan(clips, finish=finish)
