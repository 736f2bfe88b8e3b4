"""CaFE layouts, as the owners release them (``corpus.py`` gives the sources):

- ``demo`` / ``full``: the 48 kHz edition, ``CaFE_48k/<Emotion>/<Fort|Faible>/AA-E-I-S.wav`` and
  ``Neutre/AA-N-1-S.wav``. Two emotion folders carry the names a zip tool with the wrong encoding
  gives them ("Col+¿re" for Colère, "D+®go+¦t" for Dégoût), as copies of this zip often do: the
  labels must come from the file names.
- ``demo-192k`` / ``full-192k``: the 192 kHz edition, the pair ``CaFE_192k_1/`` (actors 01-06) and
  ``CaFE_192k_2/`` (07-12), each with a Readme.txt and a License.txt, 24-bit AIFF files
  ``<Emotion>/<Fort|Faible>/AA-E-I-S.aiff`` and the three-field neutral ``Neutre/AA-N-S.aiff``.

The real actors (odd = male), sentences and codes, spoken in French. ``full`` and ``full-192k``
are the real 936 files; the demos hold fewer sentences per (actor, emotion, intensity).
"""
from __future__ import annotations

import random

from care_superb.downstream.cafe.corpus import ACTORS, EDITIONS, EMOTIONS, FOLDERS, INTENSITIES, SAMPLE_RATES, SENTENCES
from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.intensity import scaled

# Two folder names as a zip tool with the wrong encoding writes them (48 kHz zip only).
GARBLED = {"C": "Col+¿re", "D": "D+®go+¦t"}
STRENGTH = {"1": 1.0, "2": 1.4}  # intensity -> strength of the emotion's prosody profile
# size -> (edition, sentences per (actor, emotion, intensity)); 6 is the real 78 files per actor.
SIZES = {"demo": ("48k", 2), "full": ("48k", 6), "demo-192k": ("192k", 1), "full-192k": ("192k", 6)}
README = """Synthetic stand-in (care-superb synth) for the Readme.txt of the Canadian French Emotional
(CaFE) speech database, version 192kHz/24bits, part {part}. The real Readme describes the file
names as AA-E-I-S.wav; the files are AIFF, and neutral files are AA-N-S (no intensity field).
"""
LICENSE = "Synthetic stand-in (care-superb synth). The real CaFE is licensed CC BY-NC-SA 4.0.\n"


def plan(rng: random.Random, size: str) -> Plan:
    edition, n_sentences = SIZES[size]
    voices = speakers(ACTORS, "fr-fr", rng)
    folder_of = {actor: folder for folder, actors in EDITIONS[edition].items() for actor in actors}
    rate, suffix = SAMPLE_RATES[edition], ".wav" if edition == "48k" else ".aiff"
    clips = []
    for actor, voice in voices.items():
        top = folder_of[actor]
        for letter, profile in EMOTIONS.items():  # CaFE's emotion names are the profiles' names
            folder = GARBLED.get(letter, FOLDERS[letter]) if edition == "48k" else FOLDERS[letter]
            sentences = sorted(rng.sample(sorted(SENTENCES), n_sentences))
            if letter == "N":  # no intensity folder; 48 kHz names keep an intensity field of 1
                stem = f"{actor}-N-1" if edition == "48k" else f"{actor}-N"
                clips += [Clip(f"{top}/{folder}/{stem}-{s}{suffix}", SENTENCES[s], voice, profile, rate)
                          for s in sentences]
                continue
            for level, subfolder in INTENSITIES.items():
                clips += [Clip(f"{top}/{folder}/{subfolder}/{actor}-{letter}-{level}-{s}{suffix}", SENTENCES[s],
                               voice, scaled(profile, STRENGTH[level]), rate) for s in sentences]
    texts = {}
    if edition == "192k":
        for part, top in enumerate(EDITIONS[edition], start=1):
            texts[f"{top}/Readme.txt"] = README.format(part=part)
            texts[f"{top}/License.txt"] = LICENSE
    return Plan(clips, texts)
