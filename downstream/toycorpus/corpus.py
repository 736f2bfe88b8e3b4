"""A toy corpus: clips/<speaker>-<emotion>-<n>.wav. Clip a-anger-0 is known to be broken."""
from pathlib import Path

from care_superb.downstream.corpus import Excluded, Parsed, Utterance, require_root

SPEAKERS = {"a": "f", "b": "m", "c": "f", "d": "m"}  # speaker -> sex
EMOTIONS = ("anger", "sadness")
KNOWN_BROKEN = ("a-anger-0",)


def prepare(root) -> Parsed:
    root = require_root(root, "Toy", "clips/<speaker>-<emotion>-<n>.wav")
    utterances, excluded = [], []
    for path in sorted((root / "clips").glob("*.wav")):
        speaker, emotion, _ = path.stem.split("-")
        if path.stem in KNOWN_BROKEN:
            excluded.append(Excluded(path.stem, "known broken clip", str(path)))
            continue
        utterances.append(Utterance(key=path.stem, path=path, label=emotion, speaker=speaker))
    return Parsed(utterances, excluded)
