"""Synthetic DAIC-WOZ in its layout: ``NNN_P/NNN_AUDIO.wav`` + ``NNN_P/NNN_TRANSCRIPT.csv`` per
interview and the AVEC 2017 label files (train LF; dev CRLF without a final newline; the test
labels ``full_test_split.csv`` with its ``\r\r\n`` line ends).

An interview: Ellie (one fixed voice, neutral) asks questions, the participant answers in two
transcript lines with a short pause between them. Depression is carried by the participant's
prosody only (the words are drawn from one pool for everyone): a depressed participant speaks
with a sadness/boredom-like flat, slow, quiet prosody whose strength follows the PHQ-8 score,
and pauses longer; a non-depressed one between neutral and happy; each interview gets its own
mix and offsets, and its own voice.

The rendered turns are assembled into each interview's long wav, with silences, by ``finish``
(the transcript's times are only known then). One of each of the real corpus's known defects
(``corpus.py`` lists them) is reproduced with its real session and numbers: someone else talking
inside a participant line, a transcript without Ellie lines (her audio is there; 451 and 480),
transcript times running early, a PHQ8_Binary that disagrees with its PHQ8_Score; besides, one
listed session lacks its transcript and one its audio.

The transcripts carry what the real ones carry: a participant sync marker line at the start
(``<sync>``, ``<synch>``, ``<sync.`` or ``[syncing]``, over a clap), in some an ``<ellie starts>``
line, ``<talking to experimenter>`` after Ellie's closing (the participant's voice), answers
transcribed as only ``scrubbed_entry``, ``xxx`` or nothing, and (in test-list sessions) a
``<laughter>`` line; CRLF in some files and LF in others, blank lines in some.
"""
from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import soundfile as sf

from care_superb.downstream.daic_woz.corpus import (
    BINARY_DISAGREES_WITH_SCORE, INTERRUPTIONS, LABEL_FILES, LABEL_HEADER, NO_ELLIE_LINES, SESSIONS, TEST_LABEL_COLUMNS,
    TEST_LABEL_FILE, TRANSCRIPT_HEADER, TRANSCRIPT_OFFSETS)
from care_superb.synth import Clip, Plan, speakers
from care_superb.synth.espeak import EMOTIONS, Prosody, Speaker, write_wav

VERSION = 2  # 2: transcript markers, line ends and the AVEC 2017 test list
# interviews per (AVEC list, class); the defect sessions come on top (so that "full" has the real
# train and dev lists' sizes, its test list is smaller: 189 sessions exist).
SIZES = {
    "demo": {("train", 1): 12, ("train", 0): 18, ("dev", 1): 6, ("dev", 0): 6, ("test", 1): 4, ("test", 0): 5},
    "full": {("train", 1): 30, ("train", 0): 77, ("dev", 1): 12, ("dev", 0): 23, ("test", 1): 10, ("test", 0): 24},
}
SYNC_MARKERS = ("<sync>", "<synch>", "<sync.", "[syncing]")  # the forms real transcripts hold
LAUGHTER = "ha ha ha"
TO_EXPERIMENTER = "okay so is that it should i go now"
TEST_HEADER = (*TEST_LABEL_COLUMNS, "Gender")
QUESTIONS = [
    "how are you doing today",
    "where are you from originally",
    "what do you do to relax",
    "how have you been feeling lately",
    "when was the last time you felt really happy",
    "what are you most proud of in your life",
    "how easy is it for you to get a good night's sleep",
]
GREETING = "hi i'm ellie thanks for coming in today"
CLOSING = "okay i think i have asked everything i need to thanks for sharing your thoughts with me"
ANSWERS = [
    "i grew up in a small town not far from here",
    "i work at a warehouse during the week",
    "most days i just go home after work and watch television",
    "my family lives about an hour away from me",
    "i like to go for long walks in the park",
    "i have been sleeping about six hours a night",
    "last summer i went camping with some friends",
    "i moved to the city about three years ago",
    "i try to cook dinner for myself most evenings",
    "my brother calls me every couple of weeks",
    "i used to play the guitar when i was younger",
    "on weekends i usually clean the apartment",
    "i am thinking about going back to school next year",
    "the drive to work takes about forty minutes",
    "i spend a lot of time reading the news",
    "we had a big dinner together for my birthday",
]
INTRUDER = "sorry sorry i just need to grab my bag from the corner it will only take a second"
ELLIE = Speaker(id="ellie", sex="f", language="en-us", variant="f2", pitch=62, rate=165)
LEVEL = 0.05  # RMS of a neutral voice's speech in the interview recordings
# The defects reproduced (one of each kind), as the corpus's facts give them.
INTERRUPTION = (373, *INTERRUPTIONS[373])
OFFSET = (318, TRANSCRIPT_OFFSETS[318])
NO_ELLIE, RELABELLED = NO_ELLIE_LINES[0], BINARY_DISAGREES_WITH_SCORE[0]
# Sessions with a known defect in the real corpus never stand in for an ordinary interview.
KNOWN_DEFECTS = {*INTERRUPTIONS, *TRANSCRIPT_OFFSETS, *NO_ELLIE_LINES, *BINARY_DISAGREES_WITH_SCORE}


@dataclass
class Interview:
    pid: int
    split: str  # AVEC list: train or dev
    binary: int
    score: int
    gender: int
    questions: list[str]
    lead: float  # seconds of silence before Ellie's greeting
    pauses: list[tuple[float, float, float]]  # per exchange: after question, inside answer, after answer
    answers: list[tuple[str, str]] = field(default_factory=list)
    transcript: bool = True
    audio: bool = True
    ellie_lines: bool = True
    loudness: float = 1.0  # the participant's vocal effort (the prosody's volume)
    prosody: Prosody | None = None
    voice: Speaker | None = None
    # what the transcript carries besides the interview's speech (drawn in ``plan``)
    sync: str = "<sync>"
    ellie_starts: bool = False
    laughter: bool = False
    to_experimenter: bool = False
    values: dict = field(default_factory=dict)  # (exchange, line) -> the value a line is transcribed as
    crlf: bool = False
    blank_lines: bool = False


def _mix(a: Prosody, b: Prosody, t: float) -> Prosody:
    return Prosody(**{f.name: (getattr(a, f.name) * (1 - t) + getattr(b, f.name) * t) if f.name != "variant" else None
                      for f in fields(Prosody)})


def participant_prosody(depressed: bool, severity: float, rng: random.Random) -> Prosody:
    """Depressed: between sadness and boredom, as strong as ``severity`` (0-1) over neutral;
    not depressed: between neutral and happiness. Plus a per-interview offset."""
    if depressed:
        low = _mix(EMOTIONS["sadness"], EMOTIONS["boredom"], rng.uniform(0.0, 0.6))
        base = _mix(EMOTIONS["neutral"], low, severity)
    else:
        base = _mix(EMOTIONS["neutral"], EMOTIONS["happiness"], rng.uniform(0.5, 1.0))
    return Prosody(pitch=int(round(base.pitch + rng.uniform(-3, 3))), range=int(round(base.range * rng.uniform(0.9, 1.1))),
                   rate=base.rate * rng.uniform(0.95, 1.05), volume=base.volume * rng.uniform(0.9, 1.1))


def plan(rng: random.Random, size: str) -> Plan:
    counts = SIZES[size]
    pool = [s for s in SESSIONS if s not in KNOWN_DEFECTS]
    rng.shuffle(pool)
    interviews: list[Interview] = []

    def add(pid: int, split: str, binary: int, score: int | None = None, **flags) -> Interview:
        score = score if score is not None else (rng.randint(11, 22) if binary else rng.randint(0, 9))
        n = 3
        interview = Interview(
            pid=pid, split=split, binary=binary, score=score, gender=rng.randint(0, 1),
            questions=rng.sample(QUESTIONS, n), lead=rng.uniform(1.0, 2.5),
            # A depressed participant answers later and pauses longer inside an answer.
            pauses=[(rng.uniform(1.0, 2.0) if score >= 10 else rng.uniform(0.4, 0.9),
                     rng.uniform(0.55, 0.95) if score >= 10 else rng.uniform(0.15, 0.4),
                     rng.uniform(0.8, 1.5)) for _ in range(n)],
            answers=[tuple(rng.sample(ANSWERS, 2)) for _ in range(n)], **flags)
        interviews.append(interview)
        return interview

    def voice_and_clips(group: list[Interview]) -> list[Clip]:
        voices = speakers({str(i.pid): "m" if i.gender else "f" for i in group}, "en-us", rng)
        clips = []
        for interview in group:
            # PHQ-8 ranges 0-24: the higher, the stronger; 409's borderline 10 gives a mild prosody.
            severity = 0.3 if interview.score == 10 else min(1.0, 0.85 + (interview.score - 11) / 70)
            interview.prosody = participant_prosody(interview.score >= 10, severity, rng)
            interview.voice = voices[str(interview.pid)]
            interview.loudness = interview.prosody.volume
            clips += [Clip(f".turns/{interview.pid}/{k}{'ab'[j]}.wav", text, interview.voice, interview.prosody)
                      for k, pair in enumerate(interview.answers) for j, text in enumerate(pair)]
        return clips

    for (split, binary), n in counts.items():
        if split != "test":  # the test list comes last (below)
            for _ in range(n):
                add(pool.pop(), split, binary)
    add(OFFSET[0], "train", rng.randint(0, 1)).lead = OFFSET[1] + rng.uniform(1.0, 2.0)
    add(INTERRUPTION[0], "dev", rng.randint(0, 1))  # its lead is set in finish, around the interruption
    add(NO_ELLIE, "train", rng.randint(0, 1), ellie_lines=False)
    add(RELABELLED, "train", 0, score=10)  # labelled 0 with a score of 10, as the real row
    add(pool.pop(), "train", rng.randint(0, 1), transcript=False)
    add(pool.pop(), "dev", rng.randint(0, 1), audio=False)
    add(pool.pop(), "test", rng.randint(0, 1))
    clips = [Clip(f".turns/ellie/{k:02d}.wav", text, ELLIE, "neutral")
             for k, text in enumerate([GREETING, *QUESTIONS, CLOSING])]
    clips += voice_and_clips(interviews)
    clips.append(Clip(f".turns/{INTERRUPTION[0]}/intruder.wav", INTRUDER,
                      Speaker(id="intruder", sex="m", language="en-us", variant="m5", pitch=35, rate=175), "neutral"))
    text_files = {}
    for split in ("train", "dev"):
        rows = [",".join(LABEL_HEADER)]
        for i in sorted((i for i in interviews if i.split == split), key=lambda i: i.pid):
            rows.append(",".join(map(str, [i.pid, i.binary, i.score, i.gender, *_items(i.score, rng)])))
        # as released: train LF, dev CRLF without a final newline
        text_files[LABEL_FILES[split]] = "\n".join(rows) + "\n" if split == "train" else "\r\n".join(rows)
    seed = rng.randrange(2**32)

    # What version 2 added is drawn after all of the above, which it leaves as version 1 drew it:
    # the rest of the AVEC 2017 test list, then what each transcript carries besides speech.
    known = len(interviews)
    for (split, binary), n in counts.items():
        if split == "test":
            for _ in range(n):
                add(pool.pop(), split, binary)
    add(NO_ELLIE_LINES[2], "test", rng.randint(0, 1), ellie_lines=False)  # 480, on the real test list too
    clips += voice_and_clips(interviews[known:])
    for interview in interviews:
        interview.sync = rng.choice(SYNC_MARKERS)
        interview.ellie_starts, interview.laughter, interview.to_experimenter = (rng.random() < 0.3 for _ in range(3))
        # A kept line changes the speech regions: laughter only on the test list (new in version 2), so
        # that the default protocol's train and dev lists keep version 1's regions, segment for segment.
        interview.laughter &= interview.split == "test"
        for value in ("scrubbed_entry", "xxx", ""):  # an answer line transcribed as only this
            if rng.random() < 0.2:
                interview.values[(rng.randrange(len(interview.answers)), rng.randrange(2))] = value
        interview.crlf, interview.blank_lines = rng.random() < 0.4, rng.random() < 0.3
        clips += [Clip(f".turns/{interview.pid}/{name}.wav", text, interview.voice, interview.prosody)
                  for wanted, name, text in ((interview.laughter, "laughter", LAUGHTER),
                                             (interview.to_experimenter, "experimenter", TO_EXPERIMENTER)) if wanted]
    rows = [",".join(TEST_HEADER)] + [f"{i.pid},{i.binary},{i.score},{i.gender}"
                                      for i in sorted((i for i in interviews if i.split == "test"), key=lambda i: i.pid)]
    text_files[TEST_LABEL_FILE] = "\r\r\n".join(rows) + "\r\r\n"
    return Plan(clips, text_files, finish=lambda root: _assemble(root, interviews, seed))


def _items(score: int, rng: random.Random) -> list[int]:
    """Eight PHQ-8 item scores (0-3) that add up to ``score``."""
    items = [0] * 8
    for _ in range(score):
        items[rng.choice([k for k in range(8) if items[k] < 3])] += 1
    return items


def _read(path: Path, loudness: float = 1.0) -> np.ndarray:
    """A rendered turn at the level of ``loudness``: espeak-ng's voices differ in level, and a
    recording's level should follow the speaker's effort, not the synthesiser's voice."""
    audio, rate = sf.read(str(path), dtype="float32")
    assert rate == 16000, path
    voiced = audio[np.abs(audio) > 1e-3]
    rms = float(np.sqrt(np.mean(voiced ** 2))) if len(voiced) else 1.0
    return audio * (LEVEL * loudness / rms)


def _assemble(root: Path, interviews: list[Interview], seed: int) -> None:
    """Each interview's long wav (turns placed on a timeline with silences) and its transcript."""
    rate = 16000
    ellie = {k: _read(root / f".turns/ellie/{k:02d}.wav") for k in range(len(QUESTIONS) + 2)}
    question_index = {q: k + 1 for k, q in enumerate(QUESTIONS)}
    for n, interview in enumerate(interviews):
        pid = interview.pid
        events: list[tuple[float, np.ndarray, str, str]] = []  # start, audio, speaker, text

        def place(t: float, audio: np.ndarray, speaker: str, text: str) -> float:
            events.append((t, audio, speaker, text))
            return t + len(audio) / rate

        answers = [[_read(root / f".turns/{pid}/{k}{s}.wav", interview.loudness) for s in "ab"]
                   for k in range(len(interview.answers))]
        text = lambda k, j: interview.values.get((k, j), interview.answers[k][j])
        lead = interview.lead
        if pid == INTERRUPTION[0]:
            # The second answer's first line ends just before the intruder starts at 395 s.
            before = len(ellie[0]) / rate + 1.0 + sum(
                len(ellie[question_index[q]]) / rate + p[0] + sum(len(a) for a in ans) / rate + p[1] + p[2]
                for q, p, ans in zip(interview.questions[:1], interview.pauses[:1], answers[:1]))
            before += len(ellie[question_index[interview.questions[1]]]) / rate + interview.pauses[1][0]
            lead = INTERRUPTION[1] - 0.5 - before - len(answers[1][0]) / rate
        # The assistant's sync clap before Ellie starts: a participant line in the transcript.
        clap = np.random.default_rng([seed, n, 1]).uniform(-1, 1, int(0.12 * rate))
        place(lead - 0.8, 0.3 * clap * np.exp(-np.arange(len(clap)) / 300), "Participant", interview.sync)
        if interview.ellie_starts:
            place(lead - 0.3, np.zeros(int(0.25 * rate), np.float32), "Participant", "<ellie starts>")
        t = place(lead, ellie[0], "Ellie", GREETING) + 1.0
        for k, (question, pauses) in enumerate(zip(interview.questions, interview.pauses)):
            t = place(t, ellie[question_index[question]], "Ellie", question) + pauses[0]
            t = place(t, answers[k][0], "Participant", text(k, 0)) + pauses[1]
            if pid == INTERRUPTION[0] and k == 1:
                # Someone else talks; the transcriber gave it to the participant.
                intruder = _read(root / f".turns/{pid}/intruder.wav")
                place(INTERRUPTION[1] + 1.0, intruder, "Participant", "<someone enters the room>")
                t = INTERRUPTION[2] + 0.5
            t = place(t, answers[k][1], "Participant", text(k, 1))
            if interview.laughter and k == 0:
                t = place(t + 0.3, _read(root / f".turns/{pid}/laughter.wav", interview.loudness), "Participant",
                          "<laughter>")
            t += pauses[2]
        t = place(t, ellie[len(QUESTIONS) + 1], "Ellie", CLOSING) + 1.0
        if interview.to_experimenter:  # the participant's voice, but no longer the interview
            t = place(t, _read(root / f".turns/{pid}/experimenter.wav", interview.loudness), "Participant",
                      "<talking to experimenter>") + 1.0

        noise = np.random.default_rng([seed, n])
        audio = (1e-4 * noise.standard_normal(int(t * rate))).astype(np.float32)
        lines = ["\t".join(TRANSCRIPT_HEADER)]
        shift = OFFSET[1] if pid == OFFSET[0] else 0.0
        for start, clip, speaker, text in events:
            first = int(round(start * rate))
            audio[first:first + len(clip)] += clip
            if speaker == "Ellie" and not interview.ellie_lines:
                continue
            lines.append(f"{start - shift:.3f}\t{start + len(clip) / rate - shift:.3f}\t{speaker}\t{text}")
        folder = root / f"{pid}_P"
        folder.mkdir(parents=True, exist_ok=True)
        if interview.audio:
            write_wav(folder / f"{pid}_AUDIO.wav", audio)
        if interview.blank_lines:
            lines = [lines[0], "", *lines[1:], ""]
        if interview.transcript:
            newline = "\r\n" if interview.crlf else "\n"
            (folder / f"{pid}_TRANSCRIPT.csv").write_bytes((newline.join(lines) + newline).encode("utf-8"))
    shutil.rmtree(root / ".turns")
