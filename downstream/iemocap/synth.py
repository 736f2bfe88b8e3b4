"""IEMOCAP layout (``IEMOCAP_full_release``): ``Session{1..5}/sentences/wav/<dialog>/<utt>.wav``
and ``Session{n}/dialog/EmoEvaluation/<dialog>.txt``, 16 kHz.

Five sessions of one female and one male speaker, improvised and scripted dialogs whose turns
alternate between them. Consensus labels cover the six classes of the 6-class task plus turns
the tasks drop (xxx, oth, sur, fea, dis). ``EmoEvaluation/`` also holds a ``Categorical/``
folder of per-rater files and a macOS ``._`` file, as real copies do. Serves both tasks,
``iemocap4`` and ``iemocap6``.
"""
from __future__ import annotations

import random

from care_superb.downstream.iemocap.corpus import CODES, HEADER, SESSIONS
from care_superb.synth import Clip, Plan, speakers

# IEMOCAP code -> prosody profile; exc and fru have no canonical profile of their own.
PROSODY = {"neu": "neutral", "hap": "happiness", "exc": "surprise", "sad": "sadness", "ang": "anger",
           "fru": "disgust", "sur": "surprise", "fea": "fear", "dis": "disgust", "oth": "calm", "xxx": "neutral"}
WEIGHTS = {"neu": 3, "hap": 2, "exc": 2, "sad": 2, "ang": 2, "fru": 2, "xxx": 1}
RARE = ("sur", "fea", "dis", "oth")
SENTENCES = (
    "I told you I would be there at eight.", "Where did you put the keys this time?",
    "We have to talk about the apartment.", "She called me again this morning.",
    "You never listen to anything I say.", "I got the letter from the office today.",
    "Let's just go home and sleep on it.", "Do you remember the summer at the lake?",
    "The flight was moved to Tuesday.", "He said the job is mine if I want it.",
)
# (dialogs per session, turns per dialog)
SIZES = {"demo": (3, 16), "full": (8, 30)}
RATER = {**CODES, "xxx": "Neutral"}  # what a rater wrote (an xxx turn's raters disagreed)


def plan(rng: random.Random, size: str) -> Plan:
    n_dialogs, n_turns = SIZES[size]
    table = {f"Ses{s:02d}{sex.upper()}": sex for s in range(1, len(SESSIONS) + 1) for sex in "fm"}
    voices = speakers(table, "en-us", rng)
    clips, text_files = [], {}
    codes = [c for c, w in WEIGHTS.items() for _ in range(w)]
    for session in range(1, len(SESSIONS) + 1):
        ses = f"Ses{session:02d}"
        for d in range(n_dialogs):
            markers = "F" if d % 2 == 0 else "M"
            dialog = f"{ses}{markers}_impro{d + 1:02d}" if d % 3 != 2 else f"{ses}{markers}_script{d:02d}_1"
            lines, clock, counters = [HEADER + "\n\n"], rng.uniform(2.0, 6.0), {"F": 0, "M": 0}
            for turn in range(n_turns):
                gender = "FM"[(turn + d) % 2]
                utt = f"{dialog}_{gender}{counters[gender]:03d}"
                counters[gender] += 1
                # One turn per dialog with a label the tasks drop (besides the xxx ones).
                code = rng.choice(RARE) if turn == n_turns // 2 else rng.choice(codes)
                text = rng.choice(SENTENCES)
                clips.append(Clip(f"Session{session}/sentences/wav/{dialog}/{utt}.wav", text,
                                  voices[f"{ses}{gender}"], PROSODY[code]))
                start, clock = clock, clock + rng.uniform(1.5, 4.0)
                vad = ", ".join(f"{rng.choice([1.5, 2.0, 2.5, 3.0, 3.5]):.4f}" for _ in range(3))
                lines.append(f"[{start:.4f} - {clock:.4f}]\t{utt}\t{code}\t[{vad}]\n")
                lines.append(f"C-E1:\t{RATER[code]};\t()\nC-E2:\t{RATER[code]};\t()\nA-E1:\tval 3; act 2; dom  2;\t()\n\n")
                clock += rng.uniform(0.2, 1.0)
            folder = f"Session{session}/dialog/EmoEvaluation"
            text_files[f"{folder}/{dialog}.txt"] = "".join(lines)
            text_files[f"{folder}/Categorical/{dialog}_e1_cat.txt"] = f"{dialog}_F000 :Neutral state; ()\n"
        text_files[f"Session{session}/dialog/EmoEvaluation/._{ses}F_impro01.txt"] = "\x00\x05\x16\x07 macOS\n"
    return Plan(clips, text_files)
