"""A synthetic MSP-PODCAST in the release's layout (see corpus.py): English podcast-like turns
spoken by espeak-ng, each turn in one emotion carried by prosody, the espeak text as the turn's
transcript (``Transcripts/``), and a consensus label file.

Sentences are drawn from a small grammar so that turns say many different things (the semantic
target varies), and emotions are drawn with MSP-PODCAST's skew towards neutral speech. As in real
podcast speech, what a turn says leans the same way as how it is said: most turns take their verb,
opener and closing remark from their emotion's words ("Ugh,", "was furious about", "I am still so
angry!"), the rest from the neutral ones. That agreement is what CARE's semantic loss distils
into the speech encoder; with words independent of the emotion the text teacher would carry
nothing about emotion to distil.
"""
from __future__ import annotations

import random

from care_superb.downstream.msp_podcast.corpus import EMOTIONS, LABEL_COLUMNS
from care_superb.synth import Clip, Plan, speakers

# 2: the words agree with the emotion (version 1's did not); a corpus of version 1 is refused
VERSION = 2
# turns per speaker; 40 speakers
SIZES = {"demo": 12, "full": 100}
N_SPEAKERS = 40
# class letter -> (weight, arousal, valence, dominance centre on 1-7), A H S N U F D
CLASSES = {"N": (4, 4.0, 4.0, 4.0), "H": (2, 5.0, 5.6, 4.6), "A": (1, 5.8, 2.2, 5.4),
           "S": (1, 2.6, 2.4, 3.2), "U": (1, 5.2, 4.6, 4.2), "F": (0.5, 5.0, 2.6, 3.0),
           "D": (0.5, 4.2, 2.4, 4.4)}
SUBJECTS = ("I", "we", "my sister", "the host", "our guest", "my neighbour", "the team", "everyone",
            "the teacher", "my friend from college", "the mayor", "a listener")
# emotion letter -> (verbs, openers, how the speaker says it felt) its turns mostly use
WORDS = {
    "N": (("talked about", "wrote about", "read about", "planned", "finally finished", "looked into"),
          ("So", "Well,", "Actually,", "And then", ""),
          ("That was that.", "Nothing special, really.", "Anyway, moving on.", "", "")),
    "H": (("really loved", "laughed about", "was thrilled about", "celebrated", "could not stop smiling about"),
          ("Oh wow,", "Honestly,", "You know what,", "Great news,"),
          ("It made me so happy!", "What a wonderful day!", "I was overjoyed.", "We had so much fun!")),
    "A": (("could not stand", "was furious about", "argued over", "yelled about", "was fed up with"),
          ("Ugh,", "Seriously,", "Come on,", "Listen,"),
          ("I am still so angry!", "It made me furious.", "That was outrageous!", "I was livid.")),
    "S": (("really missed", "cried about", "was heartbroken about", "kept grieving over", "lost hope in"),
          ("Sadly,", "I don't know,", "Well,", "Unfortunately,"),
          ("It broke my heart.", "I felt so sad and lonely.", "I still feel miserable.", "It was a sad day.")),
    "U": (("could not believe", "was amazed by", "was shocked by", "never expected", "was stunned by"),
          ("Wait,", "No way,", "Oh,", "Believe it or not,"),
          ("What a surprise!", "I was totally astonished.", "Nobody saw that coming!", "Unbelievable!")),
    "F": (("was terrified of", "was worried about", "was scared of", "kept panicking about", "dreaded"),
          ("Oh no,", "I'm afraid", "Honestly,", "Please,"),
          ("I was so scared.", "It still frightens me.", "I could not sleep from fear.", "I was terrified.")),
    "D": (("was disgusted by", "could not stomach", "was repulsed by", "hated", "was sick of"),
          ("Yuck,", "Ugh,", "Gross,", "Honestly,"),
          ("It was disgusting.", "It made me sick.", "How revolting.", "I felt nauseated.")),
}
# share of turns whose verb, opener and closing remark are their emotion's (the rest: neutral ones)
AGREEMENT = 0.8
OBJECTS = ("the new album", "the election results", "that old car", "the summer trip",
           "the budget meeting", "the football game", "a strange dream", "the garden",
           "the news this morning", "the last episode", "the price of coffee", "the storm")
ENDINGS = ("last week", "all day long", "before dinner", "on the radio", "with the kids",
           "for the first time", "again yesterday", "in the middle of the night", "", "")


def sentence(rng: random.Random, letter: str) -> str:
    verbs, openers, feelings = WORDS[letter if rng.random() < AGREEMENT else "N"]
    words = [rng.choice(openers), rng.choice(SUBJECTS), rng.choice(verbs), rng.choice(OBJECTS), rng.choice(ENDINGS)]
    text = " ".join(w for w in words if w)
    if rng.random() < 0.4:
        text += f", and {rng.choice(SUBJECTS)} {rng.choice(verbs)} {rng.choice(OBJECTS)}"
    feeling = rng.choice(feelings)
    return text[0].upper() + text[1:] + "." + (f" {feeling}" if feeling else "")


def plan(rng: random.Random, size: str) -> Plan:
    table = {f"{n:04d}": rng.choice("mf") for n in range(1, N_SPEAKERS + 1)}
    voices = speakers(table, "en-us", rng)
    letters, weights = zip(*((k, v[0]) for k, v in CLASSES.items()))
    clips, rows = [], []
    for number, (sid, voice) in enumerate(voices.items()):
        podcast = number + 1  # one podcast per speaker
        split = "Train" if number < 30 else ("Development" if number < 35 else "Test1")
        for segment in range(1, SIZES[size] + 1):
            stem = f"MSP-PODCAST_{podcast:04d}_{segment:04d}"
            letter = rng.choices(letters, weights)[0]
            text = sentence(rng, letter)
            clips.append(Clip(f"Audios/{stem}.wav", text, voice, EMOTIONS[letter]))
            _, act, val, dom = CLASSES[letter]
            act, val, dom = (round(min(7.0, max(1.0, c + rng.gauss(0, 0.5))), 1) for c in (act, val, dom))
            rows.append((f"{stem}.wav", letter, act, val, dom, str(int(sid)), "Male" if table[sid] == "m" else "Female", split))
    files = {f"Transcripts/{c.path[len('Audios/'):-4]}.txt": c.text + "\n" for c in clips}
    files["Labels/labels_consensus.csv"] = "\n".join(
        [",".join(LABEL_COLUMNS)] + [",".join(map(str, r)) for r in rows]) + "\n"
    return Plan(clips, files)
