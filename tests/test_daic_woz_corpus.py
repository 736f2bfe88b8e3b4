"""DAIC-WOZ as distributed: transcripts, labels, every known defect, and Ellie's audio provably
kept away from the model.

The fixture tree is written in the owners' layout with tones instead of voices: Ellie speaks at
1 kHz, participants at 200 Hz, the intruder of session 373 and whatever sounds under a marker
line (sync, talking to the experimenter) at 3 kHz. Every segment that reaches the model must hold
the 200 Hz tone and nothing at 1 kHz or 3 kHz.
"""
from __future__ import annotations

from dataclasses import replace


import numpy as np
import pytest
import soundfile as sf

from care_superb.downstream import splits
from care_superb.downstream.corpus import CorpusError, count_reasons
from care_superb.downstream.daic_woz import corpus as daic
from care_superb.downstream.dataset import UtteranceDataset
from care_superb.downstream.registry import TASKS

RATE = 16000
ELLIE_HZ, PARTICIPANT_HZ, INTRUDER_HZ = 1000.0, 200.0, 3000.0
HEADER = "Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,PHQ8_NoInterest,PHQ8_Depressed"
# participant: (AVEC list, PHQ8_Binary, PHQ8_Score)
TRAIN = {302: (1, 15), 303: (0, 3), 304: (1, 12), 305: (0, 2), 306: (0, 4), 307: (1, 20), 308: (0, 1),
         310: (1, 13), 311: (0, 6), 373: (0, 5), 451: (1, 14), 409: (0, 10), 318: (0, 6), 312: (1, 11), 313: (0, 0)}
DEV = {330: (1, 16), 331: (0, 2), 332: (1, 18), 335: (0, 1), 333: (0, 5)}
NO_TRANSCRIPT, NO_AUDIO, NO_FOLDER, UNLABELLED = 312, 333, 313, 315
# the AVEC 2017 test labels, full_test_split.csv: (PHQ_Binary, PHQ_Score)
TEST = {300: (0, 2), 301: (1, 14), 309: (1, 15), 314: (0, 1)}
TEST_HEADER = "Participant_ID,PHQ_Binary,PHQ_Score,Gender"

# (start, stop, speaker) of an ordinary session; the audio holds the matching tones. The second
# answer runs 0.5 s into Ellie's next line (her tone overlaps it); the first is two lines with
# a 0.3 s pause.
ORDINARY = [(1.0, 3.0, "Ellie"), (3.5, 6.0, "Participant"), (6.3, 9.5, "Participant"),
            (10.0, 12.0, "Ellie"), (12.5, 17.5, "Participant"), (17.0, 19.0, "Ellie")]


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(int(round(seconds * RATE))) / RATE
    return 0.3 * np.sin(2 * np.pi * hz * t)


def write_session(root, pid, events, duration, transcript_lines=None, shift=0.0, audio=True, transcript=True,
                  newline="\n"):
    """``events``: (start, stop, source) -> tones in the audio (a ``Marker`` source sounds at the
    intruder's 3 kHz); transcript lines (start, stop, speaker[, value]) from ``transcript_lines``
    (default: the events), their times minus ``shift``; a ``None`` line is a blank line."""
    folder = root / f"{pid}_P"
    folder.mkdir(parents=True)
    signal = 1e-4 * np.random.default_rng(pid).standard_normal(int(duration * RATE))
    hz = {"Ellie": ELLIE_HZ, "Participant": PARTICIPANT_HZ, "Intruder": INTRUDER_HZ, "Marker": INTRUDER_HZ}
    for start, stop, source, *_ in events:
        first = int(round(start * RATE))
        piece = tone(hz[source], stop - start)
        signal[first:first + len(piece)] += piece
    if audio:
        sf.write(folder / f"{pid}_AUDIO.wav", signal.astype(np.float32), RATE, subtype="PCM_16")
    if transcript:
        lines = ["start_time\tstop_time\tspeaker\tvalue"]
        for line in transcript_lines if transcript_lines is not None else events:
            if line is None:
                lines.append("")
                continue
            start, stop, speaker, *value = line
            lines.append(f"{start - shift:.3f}\t{stop - shift:.3f}\t{speaker}\t{value[0] if value else 'some words'}")
        with open(folder / f"{pid}_TRANSCRIPT.csv", "w", newline="") as f:
            f.write(newline.join(lines) + newline)


def marked(events, *markers):
    """``events`` plus marker lines (start, stop, value): their sound in the audio, and a
    Participant line in the transcript."""
    audio = [*events, *((start, stop, "Marker") for start, stop, _ in markers)]
    lines = [*((a, b, "Participant" if who == "Marker" else who) for a, b, who in events),
             *((start, stop, "Participant", value) for start, stop, value in markers)]
    return audio, sorted(lines, key=lambda line: line[0])


def build_tree(root):
    for name, table in (("train", TRAIN), ("dev", DEV)):
        rows = [HEADER] + [f"{pid},{b},{s},1,1,1" for pid, (b, s) in table.items()]
        (root / f"{name}_split_Depression_AVEC2017.csv").write_text("\n".join(rows) + "\n")
    rows = [TEST_HEADER] + [f"{pid},{b},{s},1" for pid, (b, s) in TEST.items()]
    (root / daic.TEST_LABEL_FILE).write_bytes(("\r\r\n".join(rows) + "\r\r\n").encode())  # as released
    for pid in [*TRAIN, *DEV, *TEST, UNLABELLED]:
        if pid in (NO_FOLDER, 373, 451, 318, 310, *MARKED):
            continue
        write_session(root, pid, ORDINARY, 20.0, audio=pid != NO_AUDIO, transcript=pid != NO_TRANSCRIPT)
    for pid, (markers, newline) in MARKED.items():
        audio, lines = marked(ORDINARY, *markers)
        if pid == 305:
            lines = [lines[0], None, *lines[1:], None]  # blank lines
        write_session(root, pid, audio, 20.0, transcript_lines=lines, newline=newline)
    # 310: lines that are only laughter, a scrubbed word, unintelligible speech or nothing are the
    # participant's voice, and kept.
    events = [(1.0, 3.0, "Ellie"), (3.5, 6.0, "Participant", "scrubbed_entry"), (6.3, 9.5, "Participant", "xxx"),
              (9.6, 9.9, "Participant", "<laughter>"), (10.0, 12.0, "Ellie"), (12.5, 17.5, "Participant", ""),
              (17.0, 19.0, "Ellie")]
    write_session(root, 310, events, 20.0, newline="\r\n")
    # 451: no Ellie lines, but her voice is there, also inside the 0.6 s pause of an answer.
    events = [(1.0, 3.0, "Ellie"), (3.5, 6.0, "Participant"), (6.1, 6.7, "Ellie"), (6.8, 9.5, "Participant"),
              (10.0, 12.0, "Ellie"), (12.5, 17.0, "Participant")]
    write_session(root, 451, events, 20.0, transcript_lines=[e for e in events if e[2] == "Participant"])
    # 373: someone else talks from 395 s to 428 s, inside lines transcribed as the participant's.
    events = [(1.0, 3.0, "Ellie"), (3.5, 9.5, "Participant"), (380.0, 389.0, "Ellie"),
              (390.0, 395.0, "Participant"), (395.0, 428.0, "Intruder"), (428.0, 435.0, "Participant")]
    lines = [(1.0, 3.0, "Ellie"), (3.5, 9.5, "Participant"), (380.0, 389.0, "Ellie"),
             (390.0, 400.0, "Participant"), (400.5, 427.0, "Participant"), (427.5, 435.0, "Participant")]
    write_session(root, 373, events, 440.0, transcript_lines=lines)
    # 318: the transcript runs 34.319917 s early.
    events = [(40.0, 42.0, "Ellie"), (42.5, 48.5, "Participant"), (49.0, 51.0, "Ellie"), (51.5, 57.5, "Participant")]
    write_session(root, 318, events, 60.0, shift=34.319917)
    return root


# sessions with marker lines (start, stop, value) -> their sound is not the participant's
MARKED = {
    304: ([(0.2, 0.7, "<sync>"), (19.2, 19.8, "<talking to experimenter>")], "\r\n"),
    305: ([(0.2, 0.7, "<synch>"), (0.75, 0.95, "<ellie starts>")], "\n"),
    # [syncing] in the 0.3 s pause of an answer: the merged stretch is cut around it
    306: ([(0.2, 0.7, "<sync."), (6.05, 6.25, "[syncing]")], "\r\n"),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return build_tree(tmp_path_factory.mktemp("daic"))


DATARC = {"split_seed": 0, "train_split": "train", "test_split": "dev", "valid_fraction": 0.25,
          "segment_seconds": 2.0, "segments_per_label": {"depressed": 6, "not_depressed": 3}}


def band_fraction(wav: np.ndarray, hz: float, width: float = 60.0) -> float:
    spectrum = np.abs(np.fft.rfft(wav)) ** 2
    freqs = np.fft.rfftfreq(len(wav), 1 / RATE)
    return float(spectrum[np.abs(freqs - hz) < width].sum() / spectrum.sum())


# -- parsing -----------------------------------------------------------------------------------
def test_every_known_defect_is_reported_by_name(tree):
    parsed = daic.prepare(tree)
    utterances = parsed.utterances
    defects = [f"{e.key}: {e.reason}: {e.detail}" for e in parsed.excluded] + parsed.notes
    report = "\n".join(defects)
    for pid, words in [(373, "interruption cut out: 395 s to 428 s"), (451, "no Ellie lines"),
                       (318, "34.3199 s early"), (409, "PHQ8_Binary=0 but PHQ8_Score=10"),
                       (NO_TRANSCRIPT, "no 312_TRANSCRIPT.csv"), (NO_AUDIO, "no 333_AUDIO.wav"),
                       (NO_FOLDER, "313_P is missing")]:
        assert any(d.startswith(f"{pid}:") and words in d for d in defects), (pid, report)
    assert {u.speaker for u in utterances} == {str(p) for p in [*TRAIN, *DEV]} - {"312", "333", "313"}


def test_what_is_left_out_is_counted_by_reason(tree):
    counts = count_reasons(daic.prepare(tree).excluded)
    assert counts["interruption cut out"] == 1  # 373
    assert counts["session without transcript or audio"] == 2 and counts["session folder missing"] == 1


def test_regions_are_the_participants_lines_minus_ellie(tree):
    regions = {u.key: (u.start, u.end) for u in daic.prepare(tree).utterances if u.speaker == "303"}
    # Two lines 0.3 s apart are one stretch; the overlap with Ellie's line at 17.0 s is cut.
    assert regions == {"303/turn000": (3.5, 9.5), "303/turn001": (12.5, 17.0)}
    u = next(u for u in daic.prepare(tree).utterances if u.speaker == "303")
    assert u.label == "not_depressed" and u.split == "train" and u.path.name == "303_AUDIO.wav"


def test_special_sessions(tree):
    by = {}
    for u in daic.prepare(tree).utterances:
        by.setdefault(u.speaker, []).append((u.start, u.end))
    assert by["451"] == [(3.5, 6.0), (6.8, 9.5), (12.5, 17.0)]  # not merged across Ellie's 0.6 s
    assert by["373"] == [(3.5, 9.5), (390.0, 395.0), (428.0, 435.0)]  # the intrusion is cut out
    assert by["318"] == [(42.5, 48.5), (51.5, 57.5)]  # shifted back onto the audio


def test_merging_and_options(tree):
    utts = daic.prepare(tree, merge_gap_seconds=0.0).utterances
    assert [(u.start, u.end) for u in utts if u.speaker == "303"] == [(3.5, 6.0), (6.3, 9.5), (12.5, 17.0)]
    # Options arrive from YAML or -o overrides with string keys; an interruption can be changed.
    utts = daic.prepare(tree, interruptions={"373": [390, 400]}, transcript_offsets={}).utterances
    assert [(u.start, u.end) for u in utts if u.speaker == "373"][1:] == [(400.0, 435.0)]
    assert all(u.end < 40 for u in utts if u.speaker == "318")  # without its offset, 318 misses its audio


def test_labels_from_binary_or_score(tree):
    assert {u.label for u in daic.prepare(tree).utterances if u.speaker == "409"} == {"not_depressed"}
    assert {u.label for u in daic.prepare(tree, binary_from_score=True).utterances if u.speaker == "409"} == {"depressed"}


def test_sessions_outside_the_label_lists_are_not_used(tree):
    parsed = daic.prepare(tree)
    assert not {str(p) for p in [*TEST, UNLABELLED]} & {u.speaker for u in parsed.utterances}
    reasons = {e.key: e.reason for e in parsed.excluded}
    assert {pid: reasons[str(pid)] for pid in [*TEST, UNLABELLED]} == {
        **{pid: "AVEC 2017 test list (test_list: dev)" for pid in TEST}, UNLABELLED: "session in no label list"}


# -- transcript markers ----------------------------------------------------------------------------
@pytest.mark.parametrize("value, reason", [
    ("<sync>", "sync marker line"), ("<synch>", "sync marker line"), ("<sync.", "sync marker line"),
    ("[syncing]", "sync marker line"), ("[Sync]", "sync marker line"), (" [synching] ", "sync marker line"),
    ("<ellie starts>", "<ellie starts> marker line"), ("<talking to experimenter>", "talking to the experimenter"),
    ("<laughter>", None), ("scrubbed_entry", None), ("xxx", None), ("", None), ("<sync> yeah", None),
    ("i was in sync with them", None),
])
def test_which_participant_lines_are_markers(value, reason):
    assert daic.marker(daic.Line(1.0, 2.0, "participant", value)) == reason


def test_marker_lines_are_left_out_and_counted_by_reason(tree):
    parsed = daic.prepare(tree)
    markers = [e for e in parsed.excluded if "marker" in e.reason or "experimenter" in e.reason]
    assert count_reasons(markers) == {"<ellie starts> marker line": 1, "sync marker line": 4,
                                      "talking to the experimenter": 1}
    first = next(e for e in markers if e.key == "304/line2")  # line 1 is the header
    assert first.reason == "sync marker line" and "304_TRANSCRIPT.csv:2: '<sync>', 0.2 s to 0.7 s" in first.detail
    regions = {u.speaker: [] for u in parsed.utterances}
    for u in parsed.utterances:
        regions[u.speaker].append((u.start, u.end))
    assert regions["304"] == regions["305"] == [(3.5, 9.5), (12.5, 17.0)]  # CRLF, LF, blank lines alike
    assert regions["306"] == [(3.5, 6.05), (6.25, 9.5), (12.5, 17.0)]  # a marker's time is cut out
    # laughter, a scrubbed word, unintelligible speech and an empty value are the participant's voice
    assert regions["310"] == [(3.5, 9.9), (12.5, 17.0)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_crlf_and_lf_transcripts_read_alike(tmp_path, newline):
    path = tmp_path / "303_TRANSCRIPT.csv"
    rows = ["start_time\tstop_time\tspeaker\tvalue", "1.0\t2.0\tEllie\thi", "", "2.5\t4.0\tParticipant\t",
            "4.5\t5.0\tParticipant\t<sync>"]
    path.write_bytes((newline.join(rows) + newline).encode())
    assert [(l.start, l.speaker, l.text, l.line) for l in daic.read_transcript(path)] == [
        (1.0, "ellie", "hi", 2), (2.5, "participant", "", 4), (4.5, "participant", "<sync>", 5)]


# -- the AVEC 2017 test list as the scored list -----------------------------------------------------
TEST_DATARC = {**DATARC, "corpus": {"test_list": "test"}}


def test_the_avec_test_list_is_read_with_its_own_columns_and_line_ends(tree):
    parsed = daic.prepare(tree, test_list="test")
    by = {}
    for u in parsed.utterances:
        by.setdefault(u.speaker, set()).add((u.split, u.label))
    assert {pid: by[str(pid)] for pid in TEST} == {
        300: {("test", "not_depressed")}, 301: {("test", "depressed")}, 309: {("test", "depressed")},
        314: {("test", "not_depressed")}}
    assert parsed.partition == "AVEC 2017 lists, tested on full_test_split.csv (test_list: test)"
    assert daic.prepare(tree).partition == "AVEC 2017 lists, tested on dev_split_Depression_AVEC2017.csv (test_list: dev)"
    assert "AVEC 2017 test list (test_list: dev)" not in count_reasons(parsed.excluded)


def test_test_list_protocol_is_the_challenge_partition(tree):
    drawn, description = TASKS["daic_woz"].protocol(daic.prepare(tree, test_list="test").utterances, TEST_DATARC)
    splits.check_disjoint(drawn)
    units = {name: {u.speaker for u in drawn[name]} for name in splits.SPLITS}
    assert units == {"train": {str(p) for p in TRAIN} - {"312", "313"},  # nothing held out: the dev list selects
                     "dev": {str(p) for p in DEV} - {"333"}, "test": {str(p) for p in TEST}}
    assert description["test_list"] == "test" and description["test_labels"] == "full_test_split.csv"
    assert description["split_seed"] == 0 and description["segments"]["evaluation"] == "tile"
    assert_tiled(daic.prepare(tree, test_list="test").utterances, drawn)
    _, default = TASKS["daic_woz"].protocol(daic.prepare(tree).utterances, DATARC)
    assert (default["test_list"], default["test_labels"]) == ("dev", "dev_split_Depression_AVEC2017.csv")


def test_the_test_list_protocol_without_its_labels_is_refused(tmp_path, tree):
    import shutil

    root = tmp_path / "daic"
    shutil.copytree(tree, root, ignore=shutil.ignore_patterns("373_P", daic.TEST_LABEL_FILE))
    with pytest.raises(CorpusError, match=r"full_test_split.csv is missing under .*test_list: test.*use test_list: dev"):
        daic.prepare(root, test_list="test")
    assert {u.split for u in daic.prepare(root).utterances} == {"train", "dev"}  # the default needs no test labels
    with pytest.raises(CorpusError, match="test_list='eval'; choose dev"):
        daic.prepare(root, test_list="eval")


@pytest.mark.parametrize("content, complaint", [
    ("start\tstop\twho\tvalue\n", "header"),
    ("start_time\tstop_time\tspeaker\tvalue\n1.0\t2.0\tEllie\thi\n2.5\tthree\tParticipant\tyes\n", r"TRANSCRIPT.csv:3: cannot read"),
    ("start_time\tstop_time\tspeaker\tvalue\n1.0\t2.0\tInterviewer\thi\n", r"TRANSCRIPT.csv:2: unknown speaker 'Interviewer'"),
])
def test_a_bad_transcript_stops_with_file_and_line(tmp_path, content, complaint):
    path = tmp_path / "303_TRANSCRIPT.csv"
    path.write_text(content)
    with pytest.raises(CorpusError, match=complaint):
        daic.read_transcript(path)


def test_lowercase_speakers_and_blank_lines_are_read(tmp_path):
    path = tmp_path / "303_TRANSCRIPT.csv"
    path.write_text("start_time\tstop_time\tspeaker\tvalue\n1.0\t2.0\tellie\thi\n\n2.5\t4.0\tparticipant\tyes\n")
    assert [(l.speaker, l.start) for l in daic.read_transcript(path)] == [("ellie", 1.0), ("participant", 2.5)]


def test_missing_label_file_and_root(tmp_path, tree):
    with pytest.raises(CorpusError, match="datarc.root"):
        daic.prepare(tmp_path / "nowhere").utterances
    (tmp_path / "303_P").mkdir()
    with pytest.raises(CorpusError, match="train_split_Depression_AVEC2017.csv is missing"):
        daic.prepare(tmp_path).utterances


def test_label_files_one_folder_down_are_found(tmp_path, tree):
    import shutil

    root = tmp_path / "daic"
    shutil.copytree(tree, root, ignore=shutil.ignore_patterns("373_P"))
    (root / "labels").mkdir()
    for name in daic.LABEL_FILES.values():
        (root / name).rename(root / "labels" / name)
    assert {u.speaker for u in daic.prepare(root).utterances} >= {"302", "330"}


def test_bad_label_rows(tmp_path):
    path = tmp_path / "train_split_Depression_AVEC2017.csv"
    path.write_text("Participant_ID,PHQ8_Score\n303,3\n")
    with pytest.raises(CorpusError, match=r"missing columns \['PHQ8_Binary'\]"):
        daic.read_labels(path)
    path.write_text(HEADER + "\n303,2,3,1,1,1\n")
    with pytest.raises(CorpusError, match="303 has PHQ8_Binary=2"):
        daic.read_labels(path)


# -- protocol: splits and segments ---------------------------------------------------------------
def test_split_follows_the_avec_lists_and_no_speaker_is_in_two_splits(tree):
    drawn, description = TASKS["daic_woz"].protocol(daic.prepare(tree).utterances, DATARC)
    splits.check_disjoint(drawn)
    units = {name: {u.speaker for u in drawn[name]} for name in splits.SPLITS}
    assert units["test"] == {"330", "331", "332", "335"}
    assert units["dev"] and units["dev"] | units["train"] == {str(p) for p in TRAIN} - {"312", "313"}
    # dev is drawn per class: it holds a depressed and a non-depressed participant
    assert {u.label for u in drawn["dev"]} == {"depressed", "not_depressed"}
    assert description["speakers"]["test"] == sorted(units["test"])


def test_training_segments_are_fixed_length_and_balanced_by_label(tree):
    drawn, description = TASKS["daic_woz"].protocol(daic.prepare(tree).utterances, DATARC)
    per_unit = {}
    for u in drawn["train"]:
        per_unit.setdefault(u.speaker, []).append(u)
        assert u.key.startswith(f"{u.speaker}/seg")
    for speaker, segments in per_unit.items():
        assert len(segments) == DATARC["segments_per_label"][segments[0].label]
        assert all(s.end - s.start == pytest.approx(2.0) for s in segments)
    assert len({len(s) for s in per_unit.values()}) == 2  # the two classes get different counts
    assert description["segments"]["counts"] == {name: len(drawn[name]) for name in splits.SPLITS}
    assert description["segments"]["units_without_a_long_enough_region"] == []


def assert_tiled(utts, drawn):
    """Every scored interview (dev and test) is all its regions cut into consecutive 2 s windows,
    plus each region's last piece of at least 1 s."""
    for name in ("dev", "test"):
        for speaker in {u.speaker for u in drawn[name]}:
            expected = []
            for start, end in [(u.start, u.end) for u in utts if u.speaker == speaker]:
                while end - start >= 2.0 - 1e-9:
                    expected.append((round(start, 3), round(start + 2.0, 3)))
                    start += 2.0
                if end - start >= 1.0:
                    expected.append((round(start, 3), round(end, 3)))
            assert sorted((u.start, u.end) for u in drawn[name] if u.speaker == speaker) == sorted(expected), speaker


def test_evaluation_interviews_are_tiled_whole_whatever_their_label(tree):
    utts = daic.prepare(tree).utterances
    drawn, description = TASKS["daic_woz"].protocol(utts, DATARC)
    assert description["segments"]["evaluation"] == "tile"
    assert_tiled(utts, drawn)
    # The scored set does not depend on the labels being predicted: flip every label, and the test
    # set is the same segment for segment; every scored interview is still tiled whole. (Which
    # training participants are held out for validation is drawn per class, so that changes.)
    other = {"depressed": "not_depressed", "not_depressed": "depressed"}
    flipped_utts = [replace(u, label=other[u.label]) for u in utts]
    flipped, _ = TASKS["daic_woz"].protocol(flipped_utts, DATARC)
    where = lambda d, n: [(u.key, u.start, u.end) for u in d[n]]
    assert where(flipped, "test") == where(drawn, "test")
    assert_tiled(flipped_utts, flipped)
    for speaker in {u.speaker for u in flipped["train"]}:  # training is balanced by the (flipped) label
        segments = [u for u in flipped["train"] if u.speaker == speaker]
        assert len(segments) == DATARC["segments_per_label"][segments[0].label]


def test_a_fixed_number_of_evaluation_segments_is_the_same_for_every_label(tree):
    drawn, _ = TASKS["daic_woz"].protocol(daic.prepare(tree).utterances, {**DATARC, "eval_segments": 3})
    for name in ("dev", "test"):
        counts = {}
        for u in drawn[name]:
            counts[u.speaker] = counts.get(u.speaker, 0) + 1
        assert set(counts.values()) == {3}
    with pytest.raises(CorpusError, match="eval_segments='all'"):
        TASKS["daic_woz"].protocol(daic.prepare(tree).utterances, {**DATARC, "eval_segments": "all"})


def test_segment_draw_is_seeded(tree):
    utts = daic.prepare(tree).utterances
    again = TASKS["daic_woz"].protocol(utts, DATARC)[0]
    first = TASKS["daic_woz"].protocol(utts, DATARC)[0]
    other = TASKS["daic_woz"].protocol(utts, {**DATARC, "split_seed": 1})[0]
    windows = lambda s: [(u.key, u.start) for n in splits.SPLITS for u in s[n]]
    assert windows(first) == windows(again) and windows(first) != windows(other)


def test_units_without_a_long_enough_region_get_whole_regions(tree):
    drawn, description = TASKS["daic_woz"].protocol(daic.prepare(tree).utterances, {**DATARC, "segment_seconds": 5.5})
    short = description["segments"]["units_without_a_long_enough_region"]
    assert "451" in short and "303" not in short
    assert {(u.start, u.end) for n in splits.SPLITS for u in drawn[n] if u.speaker == "451"} <= {
        (3.5, 6.0), (6.8, 9.5), (12.5, 17.0)}


def test_no_ellie_and_no_intruder_in_any_segment(tree):
    """Every segment, loaded as the model gets it, is the participant's 200 Hz tone only."""
    drawn, _ = TASKS["daic_woz"].protocol(daic.prepare(tree).utterances, DATARC)
    utterances = [u for name in splits.SPLITS for u in drawn[name]]
    dataset = UtteranceDataset(utterances, [0] * len(utterances), {"sample_rate": RATE, "max_seconds": 20, "min_seconds": 1})
    seen = set()
    for i in range(len(dataset)):
        wav, _, key = dataset[i]
        assert band_fraction(wav, ELLIE_HZ) < 1e-4, key
        assert band_fraction(wav, INTRUDER_HZ) < 1e-4, key
        assert band_fraction(wav, PARTICIPANT_HZ) > 0.99, key
        seen.add(key.split("/")[0])
    assert {"451", "373", "318", *map(str, MARKED)} <= seen


def test_the_tone_check_would_see_ellie(tree):
    """The check above is not blind: a window over Ellie's overlap, or over 451's pause, shows her."""
    from care_superb.downstream.audio import load_audio

    wav = load_audio(tree / "303_P" / "303_AUDIO.wav", start=15.5, end=17.5)
    assert band_fraction(wav, ELLIE_HZ) > 0.1
    wav = load_audio(tree / "451_P" / "451_AUDIO.wav", start=4.0, end=8.0)
    assert band_fraction(wav, ELLIE_HZ) > 0.05
    wav = load_audio(tree / "373_P" / "373_AUDIO.wav", start=393.0, end=397.0)
    assert band_fraction(wav, INTRUDER_HZ) > 0.1
