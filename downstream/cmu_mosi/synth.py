"""CMU-MOSI layout (raw release): ``Raw/Audio/WAV_16000/Segmented/<videoID>_<n>.wav``, the
headerless ``Raw/Labels/OpinionLevelSentiment.csv`` and, beside ``Raw/``, an MMSA ``label.csv``
(whose ``mode`` column follows the standard folds).

Videos are real IDs from the standard train / valid / test folds, so the official split applies;
one speaker per video. A segment's score (-3..3) is carried by its words (positive or negative
opinion words) and by its prosody (happier or sadder, the more so the larger the score); a few
segments score exactly 0. As in the real release, ``2WGyTLYerpo`` is there with segment 44 empty:
start == end in OpinionLevelSentiment.csv and a wav with no samples. The label file has CRLF line
ends and no header, as the real one.
"""
from __future__ import annotations

import csv
import io
import random

import numpy as np
import soundfile as sf

from care_superb.downstream.cmu_mosi.corpus import AUDIO, KNOWN_EMPTY, MMSA_COLUMNS, MODES, OPINION, STANDARD_FOLDS
from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.intensity import scaled

POSITIVE = ("I really loved this movie, it was great.", "The acting was wonderful and the story is beautiful.",
            "Honestly it is one of the best films I have seen, amazing.", "I enjoyed every minute, it was fantastic.",
            "The music was brilliant and I was so happy.")
NEGATIVE = ("I hated this movie, it was terrible.", "The plot was boring and the acting was awful.",
            "Honestly it is a waste of time, really bad.", "It was so disappointing, I wanted to leave.",
            "The ending was stupid and I was so annoyed.")
NEUTRAL = ("The movie is about two brothers in a small town.", "It came out last year in the summer.",
           "The film is about two hours long.")
MODE_OF_SPLIT = {split: mode for mode, split in MODES.items()}
SEGMENTS = "/".join(("Raw", *AUDIO))
VERSION = 2  # 2: the empty segment 2WGyTLYerpo_44, CRLF label file
# (videos per fold (train, dev, test), segments per video)
SIZES = {"demo": ((16, 5, 7), (6, 10)), "full": ((52, 10, 31), (18, 30))}
EMPTY_VIDEO, EMPTY_SEGMENT = KNOWN_EMPTY[0].rsplit("_", 1)  # a standard-train video


def plan(rng: random.Random, size: str) -> Plan:
    counts, (low, high) = SIZES[size]
    videos = {split: sorted(rng.sample(STANDARD_FOLDS[split], n)) for split, n in zip(("train", "dev", "test"), counts)}
    if EMPTY_VIDEO not in videos["train"]:
        videos["train"] = sorted([EMPTY_VIDEO, *videos["train"][1:]])
    voices = speakers({v: rng.choice("mf") for split in videos.values() for v in split}, "en-us", rng)
    clips, opinion, mmsa = [], [], [list(MMSA_COLUMNS)]
    for split, ids in videos.items():
        for video in ids:
            clock = rng.uniform(1.0, 10.0)
            n_segments = rng.randint(low, high)
            if video == EMPTY_VIDEO:
                n_segments = max(n_segments, int(EMPTY_SEGMENT) + 1)
            for segment in range(1, n_segments + 1):
                draw = rng.random()
                if draw < 0.06:
                    score, text, prosody = 0.0, rng.choice(NEUTRAL), "neutral"
                elif draw < 0.53:
                    score = round(rng.uniform(0.2, 3.0), 1)
                    text, prosody = rng.choice(POSITIVE), scaled("happiness", 0.4 + 0.6 * score / 3)
                else:
                    score = -round(rng.uniform(0.2, 3.0), 1)
                    profile = "sadness" if rng.random() < 0.7 else "anger"
                    text, prosody = rng.choice(NEGATIVE), scaled(profile, 0.4 + 0.6 * -score / 3)
                start, clock = clock, clock + rng.uniform(2.0, 6.0)
                if f"{video}_{segment}" in KNOWN_EMPTY:  # written by finish, with no samples
                    clock = start
                else:
                    clips.append(Clip(f"{SEGMENTS}/{video}_{segment}.wav", text, voices[video], prosody))
                opinion.append([f"{start:.3f}", f"{clock:.3f}", video, segment, score])
                annotation = "Neutral" if score == 0 else "Positive" if score > 0 else "Negative"
                mmsa.append([video, segment, text, score, score, score, score, annotation, MODE_OF_SPLIT[split]])
                clock += rng.uniform(0.5, 3.0)
    return Plan(clips, {"/".join(("Raw", *OPINION)): _csv(opinion, "\r\n"), "label.csv": _csv(mmsa)},
                finish=_empty_segments)


def _empty_segments(root) -> None:
    for key in KNOWN_EMPTY:
        sf.write(root / SEGMENTS / f"{key}.wav", np.zeros(0, np.float32), 16000, subtype="PCM_16")


def _csv(rows: list[list], newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue()
