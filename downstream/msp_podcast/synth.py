"""A synthetic MSP-PODCAST in the release's layout (see corpus.py): English podcast-like turns
spoken by espeak-ng, each turn in one emotion carried by prosody, the espeak text as the turn's
transcript (``Transcripts/``), and a consensus label file. It is the corpus `care-superb pretrain`
is tried on (scripts/demo.sh), so it shares nothing with the corpora a model is then tested on.

What it carries, and why:

* **Prosody**: the emotion, rendered with the pre-training voices (``care_superb.synth.
  pretraining``): other accents, other espeak-ng variants and milder, differently weighted
  emotion profiles than every task corpus's, every turn at one loudness, so that a gain on a
  task corpus cannot come from having heard its generator; pitch level and range and speaking
  rate carry the emotion.
* **Words**: sentences from a small grammar, so that turns say many different things and the
  semantic target varies. As in real podcast speech, what a turn says leans the way it is said:
  in ``demo`` and ``full``, 80% of turns take their opener, verb and closing remark from their
  emotion's words ("Argh,", "resented", "Totally infuriating!"), the rest from the neutral ones;
  that agreement is what CARE's semantic loss can distil into the speech encoder. ``demo-blind``
  and ``full-blind`` are the control: every turn takes the neutral words, so the text teacher
  carries nothing about emotion, with the same speakers, emotions, labels and prosody turn by
  turn (the words are drawn from their own seeded stream). No word of this grammar occurs in
  any task corpus's sentences (tested), so a task corpus's words cannot have been heard here.
* **Labels**: emotions drawn with MSP-PODCAST's skew towards neutral speech, attributes around
  each class's centre, speakers in Train / Development / Test1. Pre-training reads audio and
  transcripts only.
"""
from __future__ import annotations

import random

from care_superb.downstream.msp_podcast.corpus import EMOTIONS, LABEL_COLUMNS
from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.pretraining import EMOTIONS as PROSODY
from care_superb.synth.pretraining import VOICES

# 2: the words agree with the emotion (version 1's did not). 3: voices, emotion renderings and
# words of its own, none shared with a task corpus (version 2 spoke with the task corpora's
# voices and shared words with MELD and CMU-MOSI). Older versions are refused, not reused.
VERSION = 3
CHANGED = "its own voices, emotion renderings, loudness and words, shared with no task corpus"
# size -> (turns per speaker; 40 speakers, share of turns whose words are their emotion's)
AGREEMENT = 0.8
SIZES = {"demo": (12, AGREEMENT), "full": (100, AGREEMENT), "demo-blind": (12, 0.0), "full-blind": (100, 0.0)}
N_SPEAKERS = 40
# class letter -> (weight, arousal, valence, dominance centre on 1-7), A H S N U F D
CLASSES = {"N": (4, 4.0, 4.0, 4.0), "H": (2, 5.0, 5.6, 4.6), "A": (1, 5.8, 2.2, 5.4),
           "S": (1, 2.6, 2.4, 3.2), "U": (1, 5.2, 4.6, 4.2), "F": (0.5, 5.0, 2.6, 3.0),
           "D": (0.5, 4.2, 2.4, 4.4)}
SUBJECTS = ("Grandpa", "Auntie Rosalind", "Professor Okafor", "our producer", "Uncle Bertie",
            "Cousin Maggie", "their landlord", "his manager", "our neighbours", "Doctor Patel",
            "Coach Ramirez", "Jenny")
# emotion letter -> (verbs, openers, how the speaker says it felt) its turns mostly use
WORDS = {
    "N": (("discussed", "reviewed", "described", "mentioned", "organised", "photographed"),
          ("Incidentally,", "Apparently,", "Meanwhile,", "Anyhow,", ""),
          ("Fairly ordinary.", "Nothing unusual.", "Routine stuff.", "", "")),
    "H": (("adored", "cherished", "relished", "treasured", "celebrated"),
          ("Hooray,", "Wonderfully,", "Yay,", "Hurrah,"),
          ("Pure bliss!", "Absolutely delightful!", "Such joy!", "Marvellous!")),
    "A": (("resented", "cursed", "denounced", "berated", "condemned"),
          ("Argh,", "Infuriatingly,", "Grr,", "Unacceptably,"),
          ("Totally infuriating!", "Unforgivable!", "Such outrage!", "Utterly enraging!")),
    "S": (("mourned", "lamented", "regretted", "bemoaned", "grieved"),
          ("Sadly,", "Alas,", "Regrettably,", "Tragically,"),
          ("Such sorrow.", "Utterly depressing.", "Deeply gloomy.", "Tears everywhere.")),
    "U": (("stumbled upon", "chanced upon", "unexpectedly inherited", "suddenly discovered",
           "accidentally unearthed"),
          ("Gosh,", "Astonishingly,", "Wow,", "Unexpectedly,"),
          ("Astonishing!", "Unbelievable!", "Totally unexpected!", "Incredible!")),
    "F": (("dreaded", "feared", "shuddered near", "trembled near", "panicked near"),
          ("Yikes,", "Frighteningly,", "Eek,", "Nervously,"),
          ("Terrifying!", "Spine chilling.", "Utterly frightening.", "Nightmarish.")),
    "D": (("loathed", "detested", "abhorred", "shunned", "gagged near"),
          ("Blech,", "Disgustingly,", "Ugh,", "Bleurgh,"),
          ("Repulsive.", "Nauseating.", "Vile.", "Sickening.")),
}
OBJECTS = ("those pancakes", "their quarterly budget", "his vintage bicycle", "our podcast studio",
           "these crossword puzzles", "their jazz concert", "those garden gnomes", "our local elections",
           "his cheese fondue", "their marathon training", "those train timetables", "our laundry schedule")
ENDINGS = ("yesterday", "tonight", "recently", "afterwards", "throughout winter", "since spring",
           "overnight", "beforehand", "", "")


def sentence(rng: random.Random, letter: str, agreement: float) -> str:
    verbs, openers, feelings = WORDS[letter if rng.random() < agreement else "N"]
    words = [rng.choice(openers), rng.choice(SUBJECTS), rng.choice(verbs), rng.choice(OBJECTS), rng.choice(ENDINGS)]
    text = " ".join(w for w in words if w)
    if rng.random() < 0.4:
        text += f", then {rng.choice(SUBJECTS)} {rng.choice(verbs)} {rng.choice(OBJECTS)}"
    feeling = rng.choice(feelings)
    return text[0].upper() + text[1:] + "." + (f" {feeling}" if feeling else "")


def plan(rng: random.Random, size: str) -> Plan:
    turns, agreement = SIZES[size]
    table = {f"{n:04d}": rng.choice("mf") for n in range(1, N_SPEAKERS + 1)}
    voices = speakers(table, None, rng, VOICES)
    letters, weights = zip(*((k, v[0]) for k, v in CLASSES.items()))
    clips, rows = [], []
    for number, (sid, voice) in enumerate(voices.items()):
        podcast = number + 1  # one podcast per speaker
        split = "Train" if number < 30 else ("Development" if number < 35 else "Test1")
        for segment in range(1, turns + 1):
            stem = f"MSP-PODCAST_{podcast:04d}_{segment:04d}"
            letter = rng.choices(letters, weights)[0]
            # the words from a stream of their own: a blind corpus differs from its agreeing twin in words only
            text = sentence(random.Random(rng.getrandbits(64)), letter, agreement)
            clips.append(Clip(f"Audios/{stem}.wav", text, voice, PROSODY[EMOTIONS[letter]], level_db=VOICES.level_db))
            _, act, val, dom = CLASSES[letter]
            act, val, dom = (round(min(7.0, max(1.0, c + rng.gauss(0, 0.5))), 1) for c in (act, val, dom))
            rows.append((f"{stem}.wav", letter, act, val, dom, str(int(sid)), "Male" if table[sid] == "m" else "Female", split))
    files = {f"Transcripts/{c.path[len('Audios/'):-4]}.txt": c.text + "\n" for c in clips}
    files["Labels/labels_consensus.csv"] = "\n".join(
        [",".join(LABEL_COLUMNS)] + [",".join(map(str, r)) for r in rows]) + "\n"
    return Plan(clips, files)
