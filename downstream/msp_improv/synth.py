"""Synthetic MSP-IMPROV in its layout: ``Audio/session{1..6}/S{NN}{E}/{R|T|S|P}/MSP-IMPROV-...wav``
and ``Evaluation.txt`` (a consensus line per turn, ``UTD-`` IDs, then one line per rater).

The 12 actors are the real inventory (session N: F0N and M0N), with a voice each. As in the real
corpus, read (R) and target (T) sentences are spoken by the improvising actor, while the other
turns of an improvisation (S) and the natural interaction (P) are spoken by either actor of the
session, the turn's name saying who (``...-F01-S-MF02`` is M01's voice). Each turn's valence, arousal and
dominance are drawn around its target emotion's values with per-speaker and per-turn variation,
five simulated raters score it on the 1-5 scale, and their mean drives the prosody: arousal
raises speaking rate, loudness and pitch range; valence raises pitch; dominance raises loudness.
The attributes are correlated (as in real data) but not collinear, so each can be predicted.
"""
from __future__ import annotations

import random

import numpy as np

from care_superb.downstream.msp_improv.corpus import CONDITIONS, LABEL_FILES, SPEAKERS
from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.espeak import Prosody

# target emotion letter -> (valence, arousal, dominance) centre, rater's category word
EMOTION_VAD = {"A": ((1.9, 4.0, 3.9), "Angry"), "H": ((4.2, 3.7, 3.4), "Happy"),
               "S": ((1.8, 2.0, 2.1), "Sad"), "N": ((3.0, 2.7, 3.0), "Neutral")}
SENTENCES = [
    "I am going to the store to get some groceries.",
    "They told me the meeting was moved to Friday.",
    "I can't believe you did that without asking me.",
    "We should talk about what happened last night.",
    "The package finally arrived this morning.",
    "You never listen to anything I say.",
    "Let's go out for dinner after work today.",
    "I found the keys under the couch.",
]
FREE_TURNS = [
    "Well, what do you want me to do about it?",
    "I was thinking the same thing, honestly.",
    "Okay, okay, just tell me what you need.",
    "That is not what I meant at all.",
    "Come on, it will be fine, trust me.",
    "I don't know, maybe we should wait.",
]
# turns per improvising actor
SIZES = {"demo": 16, "full": 80}
RATERS = 5


def prosody(valence: float, arousal: float, dominance: float) -> Prosody:
    return Prosody(pitch=int(round(7 * (valence - 3) + 4 * (arousal - 3))),
                   range=int(round(100 + 45 * (arousal - 3) + 15 * (valence - 3))),
                   rate=1.0 + 0.13 * (arousal - 3),
                   volume=max(0.3, 1.0 + 0.2 * (arousal - 3) + 0.25 * (dominance - 3)))


def plan(rng: random.Random, size: str) -> Plan:
    voices = speakers({sid: sid[0].lower() for sid in SPEAKERS}, "en-us", rng)
    bias = {sid: np.array([rng.gauss(0, 0.25) for _ in range(3)]) for sid in voices}  # each voice's way of acting
    clips, blocks = [], []
    for actor in voices:
        session, partner = int(actor[1:]), ("M" if actor[0] == "F" else "F") + actor[1:]
        turns: dict[tuple[str, str, str], int] = {}
        exchanges = 0  # S and P turns so far: the two actors take them in turn
        for k in range(SIZES[size]):
            sentence = rng.randrange(len(SENTENCES))
            letter = "AHSN"[k % 4]
            condition = rng.choice(sorted(CONDITIONS))
            # The improvising actor reads and says the target sentence; the other turns of the
            # improvisation and the natural interaction alternate between the two actors.
            voice = actor
            if condition in ("S", "P"):
                voice, exchanges = (partner if exchanges % 2 else actor), exchanges + 1
            listener = voice[0] if condition == "R" else ("M" if voice[0] == "F" else "F")
            code = f"S{sentence + 1:02d}{letter}"
            count = turns[(code, condition, voice)] = turns.get((code, condition, voice), 0) + 1
            name = f"{code}-{actor}-{condition}-{voice[0]}{listener}{count:02d}"
            centre = np.array(EMOTION_VAD[letter][0]) + bias[voice]
            truth = np.clip(centre + np.array([rng.gauss(0, 0.6) for _ in range(3)]), 1.0, 5.0)
            ratings = [[int(np.clip(round(v + rng.gauss(0, 0.5)), 1, 5)) for v in truth] for _ in range(RATERS)]
            v, a, d = np.mean(ratings, axis=0)
            text = SENTENCES[sentence] if condition in ("R", "T") else rng.choice(FREE_TURNS)
            clips.append(Clip(f"Audio/session{session}/{code}/{condition}/MSP-IMPROV-{name}.wav", text, voices[voice],
                              prosody(v, a, d)))
            naturalness = rng.choice([2.8, 3.0, 3.2, 3.4, 3.6, 4.0])
            lines = [f"UTD-IMPROV-{name}.avi; {letter}; A:{a:.6f}; V:{v:.6f}; D:{d:.6f} ; N:{naturalness:.6f};"]
            for r, (rv, ra, rd) in enumerate(ratings):
                word = EMOTION_VAD[letter][1] if rng.random() < 0.7 else rng.choice(["Neutral", "Other"])
                lines.append(f"R{r + 1:03d}; {word}; ; A:{ra:.6f}; V:{rv:.6f}; D:{rd:.6f}; N:{naturalness:.6f};")
            blocks.append("\n".join(lines))
    return Plan(clips, {LABEL_FILES[0]: "\n\n".join(blocks) + "\n"})
