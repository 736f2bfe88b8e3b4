"""MSP-IMPROV layout: ``Audio/session{1..6}/S{NN}{E}/{P|R|S|T}/MSP-IMPROV-S{NN}{E}-{speaker}-{X}-{turn}.wav``
and ``Evaluation.txt`` (a consensus line per turn, ``UTD-`` IDs, then one line per rater).

The 12 actors are the real inventory (session N: F0N and M0N). Each turn's valence, arousal and
dominance are drawn around its target emotion's values with per-speaker and per-turn variation,
five simulated raters score it on the 1-5 scale, and their mean drives the prosody: arousal
raises speaking rate, loudness and pitch range; valence raises pitch; dominance raises loudness.
The attributes are correlated (as in real data) but not collinear, so each can be predicted.
"""
from __future__ import annotations

import random

import numpy as np

from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.espeak import Prosody

SPEAKERS = {f"{sex}{n:02d}": sex.lower() for n in range(1, 7) for sex in "FM"}
# target emotion letter -> (valence, arousal, dominance) centre, rater's category word
EMOTIONS = {"A": ((1.9, 4.0, 3.9), "Angry"), "H": ((4.2, 3.7, 3.4), "Happy"),
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
SCENARIOS = ("P", "R", "S", "T")
# turns per speaker
SIZES = {"demo": 16, "full": 80}
RATERS = 5


def prosody(valence: float, arousal: float, dominance: float) -> Prosody:
    return Prosody(pitch=int(round(7 * (valence - 3) + 4 * (arousal - 3))),
                   range=int(round(100 + 45 * (arousal - 3) + 15 * (valence - 3))),
                   rate=1.0 + 0.13 * (arousal - 3),
                   volume=max(0.3, 1.0 + 0.2 * (arousal - 3) + 0.25 * (dominance - 3)))


def plan(rng: random.Random, size: str) -> Plan:
    voices = speakers({sid: sex for sid, sex in SPEAKERS.items()}, "en-us", rng)
    clips, blocks = [], []
    for sid, voice in voices.items():
        session = int(sid[1:])
        pair = ("FM" if sid[0] == "F" else "MF")
        bias = np.array([rng.gauss(0, 0.25) for _ in range(3)])  # a speaker's own way of acting
        turns: dict[tuple[str, str], int] = {}
        for k in range(SIZES[size]):
            sentence = rng.randrange(len(SENTENCES))
            letter = "AHSN"[k % 4]
            scenario = rng.choice(SCENARIOS)
            code = f"S{sentence + 1:02d}{letter}"
            turns[(code, scenario)] = turns.get((code, scenario), 0) + 1
            name = f"{code}-{sid}-{scenario}-{pair}{turns[(code, scenario)]:02d}"
            centre = np.array(EMOTIONS[letter][0]) + bias
            truth = np.clip(centre + np.array([rng.gauss(0, 0.6) for _ in range(3)]), 1.0, 5.0)
            ratings = [[int(np.clip(round(v + rng.gauss(0, 0.5)), 1, 5)) for v in truth] for _ in range(RATERS)]
            v, a, d = np.mean(ratings, axis=0)
            text = SENTENCES[sentence] if scenario in ("R", "S") else rng.choice(FREE_TURNS)
            clips.append(Clip(f"Audio/session{session}/{code}/{scenario}/MSP-IMPROV-{name}.wav", text, voice,
                              prosody(v, a, d)))
            naturalness = rng.choice([2.8, 3.0, 3.2, 3.4, 3.6, 4.0])
            lines = [f"UTD-IMPROV-{name}.avi; {letter}; A:{a:.6f}; V:{v:.6f}; D:{d:.6f} ; N:{naturalness:.6f};"]
            for r, (rv, ra, rd) in enumerate(ratings):
                word = EMOTIONS[letter][1] if rng.random() < 0.7 else rng.choice(["Neutral", "Other"])
                lines.append(f"R{r + 1:03d}; {word}; ; A:{ra:.6f}; V:{rv:.6f}; D:{rd:.6f}; N:{naturalness:.6f};")
            blocks.append("\n".join(lines))
    return Plan(clips, {"Evaluation.txt": "\n\n".join(blocks) + "\n"})
