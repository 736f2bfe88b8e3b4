"""MELD layout (``MELD.Raw``): ``train_sent_emo.csv`` ``dev_sent_emo.csv`` ``test_sent_emo.csv`` and
``dia{D}_utt{U}.mp4`` clips in ``train_splits/``, ``dev_splits_complete/``,
``output_repeated_splits_test/``, all at the root (the other known arrangement, each split's CSV
and clips under ``train/ dev/ test/``, is the same files moved).

Dialogues between the show's six friends; emotion is carried by prosody and by the words (joy
says "this is wonderful, I love it"), as in the real corpus, where text alone is informative.
Clips are rendered as wavs, then encoded by ffmpeg as audio-only mp4 (AAC, 48 kHz, 1, 2 or 6
channels). The real corpus's known defects are reproduced: ``train dia125_utt3.mp4`` is corrupt
(truncated), ``dev dia110_utt7`` is listed but missing, and clips without a CSV row exist (dev
``dia66_utt9 dia66_utt10 dia49_utt4 dia49_utt5``, test ``dia108_utt2``,
``final_videos_testdia101_utt0``).
"""
from __future__ import annotations

import csv
import io
import os
import random
import shutil
from pathlib import Path

from tqdm import tqdm

from care_superb.downstream.meld.corpus import (
    CLIP_FOLDERS, CSV_NAMES, DIALOGUE_IDS, HEADER, KNOWN_CORRUPT, KNOWN_MISSING, KNOWN_UNLABELLED)
from care_superb.synth import Clip, Plan, speakers

CHARACTERS = {"Chandler": "m", "Joey": "m", "Ross": "m", "Monica": "f", "Rachel": "f", "Phoebe": "f"}
TEXTS = {
    "neutral": ("We are meeting at the coffee house at five.", "I think the key is on the table.",
                "He moved to the apartment across the hall.", "The paper says it will rain on Sunday."),
    "joy": ("This is wonderful, I love it!", "Oh, I’m so happy for you, that’s great news!",
            "Yes! We won, this is the best day ever!", "I love you guys, you’re the best!"),
    "sadness": ("I miss her so much, it really hurts.", "I’m sorry, I just feel so alone right now.",
                "It’s over, she left me, and I’m heartbroken.", "Nobody came to my party, I’m so sad."),
    "anger": ("Get out, I am so mad at you!", "How dare you, that is my sandwich!",
              "I hate this, stop lying to me!", "You ruined everything, I’m furious!"),
    "surprise": ("What? No way, really?", "Oh my God, you’re kidding me!",
                 "Wait, you’re getting married? Seriously?", "Whoa, I did not see that coming!"),
    "fear": ("I’m scared, something is wrong in there.", "Please don’t leave me, I’m terrified.",
             "Oh no, what was that noise?", "I’m afraid they will find out."),
    "disgust": ("Ew, that is disgusting, gross!", "Yuck, what is that smell?",
                "That’s revolting, get it away from me.", "Eww, you licked it? Nasty."),
}
PROSODY = {"neutral": "neutral", "joy": "happiness", "sadness": "sadness", "anger": "anger",
           "surprise": "surprise", "fear": "fear", "disgust": "disgust"}
SENTIMENT = {"neutral": "neutral", "joy": "positive", "surprise": "positive", "sadness": "negative",
             "anger": "negative", "fear": "negative", "disgust": "negative"}
EMOTION_WEIGHTS = {"neutral": 2, "joy": 1, "sadness": 1, "anger": 1, "surprise": 1, "fear": 1, "disgust": 1}
# dialogue -> number of labelled utterances, where a known defect needs it
REQUIRED = {"train": {125: 6}, "dev": {110: 9, 49: 4, 66: 9}, "test": {108: 2, 101: 5}}
MP4_ARGS = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-f", "mp4"]
STAGING = ".render"  # wavs wait here for their mp4 encoding
SAMPLE_RATE = 48000
# dialogues per split (train, dev, test), utterances per dialogue 4-9
SIZES = {"demo": (28, 7, 10), "full": (160, 30, 60)}


def plan(rng: random.Random, size: str) -> Plan:
    voices = speakers(CHARACTERS, "en-us", rng)
    clips, text_files = [], {}
    emotions = [e for e, w in EMOTION_WEIGHTS.items() for _ in range(w)]
    serial = 0
    for split, n_dialogues in zip(("train", "dev", "test"), SIZES[size]):
        chosen = set(REQUIRED[split])
        while len(chosen) < n_dialogues:
            dialogue = rng.randrange(DIALOGUE_IDS[split][-1] + 1)
            if dialogue in DIALOGUE_IDS[split]:  # train has no dialogue 60
                chosen.add(dialogue)
        rows = []
        for dialogue in sorted(chosen):
            cast = rng.sample(sorted(CHARACTERS), 3)
            season, episode, clock = rng.randint(1, 9), rng.randint(1, 24), rng.uniform(60, 1200)
            for utterance in range(REQUIRED[split].get(dialogue, rng.randint(4, 9))):
                name, speaker, emotion = f"dia{dialogue}_utt{utterance}", rng.choice(cast), rng.choice(emotions)
                text = rng.choice(TEXTS[emotion])
                start, clock = clock, clock + rng.uniform(1.0, 4.0)
                serial += 1
                rows.append([serial, text, speaker, emotion, SENTIMENT[emotion], dialogue, utterance, season,
                             episode, _time(start), _time(clock)])
                if name not in KNOWN_MISSING.get(split, ()):
                    clips.append(_clip(split, name, text, voices[speaker], PROSODY[emotion], rng))
        for name in KNOWN_UNLABELLED.get(split, ()):  # clips that no CSV row names
            clips.append(_clip(split, name, rng.choice(TEXTS["neutral"]), voices[rng.choice(sorted(voices))],
                               "neutral", rng))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([list(HEADER), *rows])
        text_files[CSV_NAMES[split]] = out.getvalue()
    return Plan(clips, text_files, finish=encode_mp4)


def _clip(split: str, name: str, text: str, voice, prosody: str, rng: random.Random) -> Clip:
    channels = rng.choices((1, 2, 6), weights=(2, 5, 1))[0]
    return Clip(f"{STAGING}/{CLIP_FOLDERS[split]}/{name}.wav", text, voice, prosody, SAMPLE_RATE, channels)


def _time(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d},{int((seconds - whole) * 1000):03d}"


def encode_mp4(root: Path) -> None:
    """Every staged wav -> ``<clip folder>/<name>.mp4`` (AAC), each written atomically, a batch of
    clips per ffmpeg run; the corrupt clip is then cut in half, before the index that mp4 keeps at
    its end, which makes it undecodable as the real one."""
    from care_superb.downstream.meld.prepare import convert, require_ffmpeg

    ffmpeg = require_ffmpeg()
    todo = []
    for wav in sorted((root / STAGING).glob("*/*.wav")):
        mp4 = root / wav.parent.name / f"{wav.stem}.mp4"
        if mp4.is_file():  # encoded by an interrupted run
            wav.unlink()
        else:
            todo.append((wav, mp4))
    with tqdm(total=len(todo), desc="synth meld: wav -> mp4", unit="clip") as bar:
        for first in range(0, len(todo), 16):
            batch = todo[first:first + 16]
            # A corrupt clip is encoded under another name and appears only in its cut form.
            broken = {mp4: mp4.with_name(f".{mp4.stem}.full.mp4") for _, mp4 in batch
                      if mp4.stem in KNOWN_CORRUPT.get(_split_of(mp4.parent.name), ())}
            convert([(wav, broken.get(mp4, mp4)) for wav, mp4 in batch], MP4_ARGS, ffmpeg)
            for mp4, full in broken.items():
                part = mp4.with_name(f".{mp4.name}.part")
                data = full.read_bytes()
                part.write_bytes(data[: len(data) // 2])
                os.replace(part, mp4)
                full.unlink()
            for wav, _ in batch:
                wav.unlink()
            bar.update(len(batch))
    shutil.rmtree(root / STAGING, ignore_errors=True)


def _split_of(folder: str) -> str:
    return {v: k for k, v in CLIP_FOLDERS.items()}[folder]
