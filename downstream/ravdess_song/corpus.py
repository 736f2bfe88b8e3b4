"""RAVDESS, song part (Livingstone & Russo, 2018): 1012 sung sentences by 23 actors.

As distributed: ``Audio_Song_Actors_01-24.zip`` unpacks to ``Actor_NN/`` folders of
``MM-VV-EE-II-SS-RR-AA.wav`` files, 48 kHz 16-bit (the fields, shared with every RAVDESS task, are
in ``downstream/facts/ravdess.py``). Quirks:

- Actor 18 sang nothing: its folder is empty or absent.
- The speech zip unpacks to the same ``Actor_NN/`` folders; speech files (channel 01) found there
  are ignored, so both archives may be extracted into one root.
- At least one file is 2-channel (the loader averages channels).
- Song has six emotions (neutral, calm, happy, sad, angry, fearful); a sung file with another
  emotion code is returned with that label, and the task refuses it unless the config maps or
  drops it.

There is no official split; CARE draws singers for train / validation / test.

Sources: the name fields and codes from the owners' README (Zenodo) and Livingstone & Russo
(2018); 1012 files of 23 singers, the empty Actor_18 and the 2-channel file checked against a
public copy of the song archive (issue 16).
"""
from __future__ import annotations

from pathlib import Path

from care_superb.downstream.corpus import CorpusError, Excluded, Parsed, Utterance, require_root
from care_superb.downstream.facts.ravdess import EMOTIONS, FOLDER, LANGUAGE, parse_name  # shared by every RAVDESS task

SONG_EMOTIONS = ("01", "02", "03", "04", "05", "06")  # songs are never disgusted or surprised
NO_SONG_ACTOR = "18"  # Actor_18 sang nothing: the song archive's folder is empty or absent
LAYOUT = "Actor_NN/ folders of MM-VV-EE-II-SS-RR-AA.wav files (e.g. Actor_01/03-02-01-01-01-01-01.wav)"


def prepare(root: str | Path) -> Parsed:
    """The song files; speech files found in the same folders are left out (and counted)."""
    root = require_root(root, "RAVDESS-Song", LAYOUT)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and FOLDER.match(p.name))
    if not folders:
        raise CorpusError(f"{root} holds no Actor_NN folders; a RAVDESS-Song root holds {LAYOUT}")
    utterances, speech = [], []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() != ".wav":
                continue  # macOS resource forks, the audio-visual .mp4 files
            fields = parse_name(path.name)
            if fields["actor"] != FOLDER.match(folder.name).group(1):
                raise CorpusError(f"{path}: actor {fields['actor']} in the name, but the file is in {folder.name}")
            if fields["channel"] != "song":
                speech.append(Excluded(path.stem, "speech file (the task is song)", str(path)))
                continue
            utterances.append(Utterance(key=path.stem, path=path, label=fields["emotion"], speaker=fields["actor"]))
    if not utterances:
        raise CorpusError(f"{root}: the Actor_NN folders hold no song files (vocal channel 02); "
                          f"expected {LAYOUT} from Audio_Song_Actors_01-24.zip")
    return Parsed(utterances, speech)
