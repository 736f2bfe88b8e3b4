"""The voices of the synthetic pre-training corpus (the synthetic MSP-PODCAST), kept apart from
the task corpora's (``espeak.TASK_VOICES``).

A pre-training corpus that shares a generator with the corpora a model is then tested on cannot
show that pre-training works. With one voice table, "anger" in the pre-training corpus was the
very pitch, range, rate and loudness of "anger" in EmoDB: a nearest-centroid classifier on
mean/std log-mel fitted to the pre-training corpus's anger / happiness / sadness / neutral turns
labelled synthetic EmoDB's utterances of those emotions at 0.71 accuracy (chance 0.25) without
seeing EmoDB (``generator_leak`` in tools/care_controls.py). This table has no entry in
common with the task corpora's (``tests/test_synth_separation.py`` checks every planned clip):

* accents: British, Scottish, RP, Lancashire, West Midlands and Caribbean English (the task
  corpora speak American English, German and French);
* variants: espeak-ng's named voices (the task corpora use the numbered ``m1``-``m7``,
  ``f1``-``f5``, and ``croak`` for disgust); no voice quality stands for an emotion;
* emotions: milder and weighted otherwise than the acted task corpora's, in the directions
  speech-emotion studies report (anger and happiness higher, faster and wider; sadness lower,
  slower and flatter; fear faster and higher but not wider; surprise high and wide), and neutral
  itself a conversational voice (a wider range than espeak-ng's reading voice);
* loudness: every turn is normalised to -25 dBFS RMS, as podcast audio is mastered to one
  loudness, so the level of a turn says nothing about its emotion.

The same classifier fitted to this corpus labels synthetic EmoDB at 0.22 (160 utterances): what
still transfers is the direction of the pitch and rate cues, which emotional speech shares
across corpora, not a copy of the generator.
"""
from __future__ import annotations

from care_superb.synth.espeak import Prosody, Voices

# loudness is normalised away (level_db), so every profile keeps espeak-ng's amplitude
EMOTIONS: dict[str, Prosody] = {
    "neutral": Prosody(pitch=1, range=115, rate=0.97),
    "happiness": Prosody(pitch=9, range=145, rate=1.06),
    "anger": Prosody(pitch=6, range=150, rate=1.1),
    "sadness": Prosody(pitch=-7, range=70, rate=0.85),
    "surprise": Prosody(pitch=15, range=175, rate=1.01),
    "fear": Prosody(pitch=12, range=85, rate=1.18),
    "disgust": Prosody(pitch=-5, range=112, rate=0.9),
}

VOICES = Voices(
    accents=("en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029"),
    variants={"m": ("Alex", "Andy", "adam", "benjamin", "david", "edward", "john", "max", "Michael",
                    "norbert", "paul", "rob", "robert", "travis", "victor", "quincy"),
              "f": ("Alicia", "Andrea", "Annie", "aunty", "belinda", "linda", "steph", "steph2",
                    "steph3", "anika")},
    pitch={"m": (28, 48), "f": (48, 68)},
    rate=(150, 195),
    emotions=EMOTIONS,
    level_db=-25.0,
)
