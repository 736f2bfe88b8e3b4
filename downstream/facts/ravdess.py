"""RAVDESS (Livingstone & Russo, 2018): what every RAVDESS file name says, for every task on it.

Files are ``MM-VV-EE-II-SS-RR-AA.wav`` in ``Actor_NN/`` folders, 48 kHz 16-bit: modality ``MM``
(03 audio-only), vocal channel ``VV`` (01 speech, 02 song), emotion ``EE``, intensity ``II``
(01 normal, 02 strong), statement ``SS``, repetition ``RR``, actor ``AA`` (01-24, odd = male).
The speech archive (``Audio_Speech_Actors_01-24.zip``) and the song archive
(``Audio_Song_Actors_01-24.zip``) unpack to the same ``Actor_NN/`` folders.

Sources: the name fields and codes from the owners' README (Zenodo) and Livingstone & Russo (2018).
"""
from __future__ import annotations

import re

from care_superb.downstream.corpus import CorpusError

LANGUAGE = "en"  # what is spoken, as Whisper codes it (asr_text transcribes in it): English (North American actors)
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad",
            "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised"}
CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}  # neutral is never strong
STATEMENTS = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}
ACTORS = {f"{n:02d}": "m" if n % 2 else "f" for n in range(1, 25)}  # actor -> sex (odd = male)
NAME = re.compile(r"^(?P<modality>\d\d)-(?P<channel>\d\d)-(?P<emotion>\d\d)-(?P<intensity>\d\d)-"
                  r"(?P<statement>\d\d)-(?P<repetition>\d\d)-(?P<actor>\d\d)\.wav$")
FOLDER = re.compile(r"^Actor_(\d\d)$")


def parse_name(name: str) -> dict:
    """``03-02-05-02-01-01-07.wav`` -> its fields, emotion as a name; CorpusError when it does not parse."""
    match = NAME.match(name)
    if match is None:
        raise CorpusError(f"{name}: not a RAVDESS file name; expected MM-VV-EE-II-SS-RR-AA.wav, "
                          f"e.g. 03-02-01-01-01-01-01.wav")
    fields = match.groupdict()
    checks = [("modality", {"03"}, "03 (audio-only)"), ("channel", set(CHANNELS), "01 (speech) or 02 (song)"),
              ("emotion", set(EMOTIONS), "01-08"), ("intensity", set(INTENSITIES), "01 or 02"),
              ("statement", set(STATEMENTS), "01 or 02"), ("repetition", {"01", "02"}, "01 or 02")]
    for field, allowed, wanted in checks:
        if fields[field] not in allowed:
            raise CorpusError(f"{name}: {field} code {fields[field]!r} is not RAVDESS's; expected {wanted}")
    if fields["actor"] not in ACTORS:
        raise CorpusError(f"{name}: actor {fields['actor']!r} is not RAVDESS's; expected 01-24")
    fields["emotion"] = EMOTIONS[fields["emotion"]]
    fields["channel"] = CHANNELS[fields["channel"]]
    return fields
