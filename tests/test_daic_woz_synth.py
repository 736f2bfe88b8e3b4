"""The synthetic DAIC-WOZ: the owners' layout with the real corpus's defects, depression in the
participant's prosody, and the shared expert configured from the task's config.yaml."""
from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from care_superb.downstream.corpus import count_reasons
from care_superb.downstream.daic_woz import corpus as daic
from care_superb.downstream.daic_woz.expert import DownstreamExpert
from care_superb.synth import MARKER
from care_superb.downstream.daic_woz import synth as layout
from helpers import REPO


def labels(root):
    return {split: pd.read_csv(root / name) for split, name in daic.LABEL_FILES.items()}


def test_layout_and_formats(synth_root):
    root = synth_root("daic_woz")
    assert json.loads((root / MARKER).read_text())["layout"] == "daic_woz"
    assert not (root / ".turns").exists()
    tables = labels(root)
    for table in tables.values():
        assert list(table.columns[:4]) == ["Participant_ID", "PHQ8_Binary", "PHQ8_Score", "Gender"]
        items = table[[c for c in table.columns if c.startswith("PHQ8_") and c not in ("PHQ8_Binary", "PHQ8_Score")]]
        assert items.shape[1] == 8 and (items.sum(axis=1) == table["PHQ8_Score"]).all()
    for audio in sorted(root.glob("*_P/*_AUDIO.wav"))[:5]:
        info = sf.info(str(audio))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        header = (audio.parent / audio.name.replace("AUDIO.wav", "TRANSCRIPT.csv")).read_text().splitlines()[0]
        assert header == "start_time\tstop_time\tspeaker\tvalue"


def test_the_known_defects_are_in_the_tree(synth_root):
    root = synth_root("daic_woz")
    speakers = {l.speaker for l in daic.read_transcript(root / "451_P/451_TRANSCRIPT.csv")}
    assert speakers == {"participant"}
    lines = daic.read_transcript(root / "373_P/373_TRANSCRIPT.csv")
    assert any(l.speaker == "participant" and 395 <= l.start < 428 for l in lines)
    assert sf.info(str(root / "373_P/373_AUDIO.wav")).duration > 430
    first = next(l for l in daic.read_transcript(root / "318_P/318_TRANSCRIPT.csv") if l.speaker == "ellie")
    audio, rate = sf.read(str(root / "318_P/318_AUDIO.wav"))
    at = lambda t: np.abs(audio[int(t * rate):int((t + 0.5) * rate)]).max()
    assert at(first.start) < 0.01 < at(first.start + 34.319917)  # the transcript runs early
    train = labels(root)["train"].set_index("Participant_ID")
    assert (train.loc[409, "PHQ8_Binary"], train.loc[409, "PHQ8_Score"]) == (0, 10)
    left_out = [e.detail for e in daic.prepare(root).excluded if e.reason == "session without transcript or audio"]
    assert sum(d.endswith("_TRANSCRIPT.csv") for d in left_out) == 1 and sum(d.endswith("_AUDIO.wav") for d in left_out) == 1
    listed = set(labels(root)["train"]["Participant_ID"]) | set(labels(root)["dev"]["Participant_ID"])
    assert any(int(p.name[:3]) not in listed for p in root.glob("*_P"))
    assert {l.speaker for l in daic.read_transcript(root / "480_P/480_TRANSCRIPT.csv")} == {"participant"}


def test_transcripts_carry_the_real_ones_markers_and_line_ends(synth_root):
    """Markers are dropped and counted (their time too); laughter, scrubbed, unintelligible and
    empty answers are kept; CRLF and LF files, blank lines, the test labels' \\r\\r\\n."""
    root = synth_root("daic_woz")
    raw = [p.read_bytes() for p in sorted(root.glob("*_P/*_TRANSCRIPT.csv"))]
    assert any(b"\r\n" in r for r in raw) and any(b"\r\n" not in r for r in raw)
    assert any(b"\n\n" in r or b"\r\n\r\n" in r for r in raw)
    assert (root / daic.TEST_LABEL_FILE).read_bytes().endswith(b"\r\r\n")
    values = {}
    for path in sorted(root.glob("*_P/*_TRANSCRIPT.csv")):
        for line in daic.read_transcript(path):
            if line.speaker == "participant":
                values.setdefault(line.text, []).append((path.name[:3], line))
    assert {"<sync>", "<synch>", "<sync.", "[syncing]", "<ellie starts>", "<talking to experimenter>", "<laughter>",
            "scrubbed_entry", "xxx", ""} <= set(values)
    parsed = daic.prepare(root, test_list="test")  # every list scored
    counts = count_reasons(parsed.excluded)
    listed = [*labels(root)["train"]["Participant_ID"], *labels(root)["dev"]["Participant_ID"],
              *pd.read_csv(root / daic.TEST_LABEL_FILE)["Participant_ID"]]
    scored = {str(p) for p in listed if (root / f"{p}_P/{p}_AUDIO.wav").is_file()}  # no audio: left out whole
    marked = lambda *texts: sum(1 for t in texts for pid, _ in values[t] if pid in scored)
    assert counts["sync marker line"] == marked("<sync>", "<synch>", "<sync.", "[syncing]")
    assert counts["<ellie starts> marker line"] == marked("<ellie starts>")
    assert counts["talking to the experimenter"] == marked("<talking to experimenter>")
    regions = {}
    for u in parsed.utterances:
        regions.setdefault(u.speaker, []).append((u.start, u.end))
    shift = lambda pid, line: (line.start + daic.TRANSCRIPT_OFFSETS.get(int(pid), 0.0),
                               line.stop + daic.TRANSCRIPT_OFFSETS.get(int(pid), 0.0))  # 318's times run early
    inside = lambda pid, line: any(s <= shift(pid, line)[0] + 1e-3 and shift(pid, line)[1] <= e + 1e-3
                                   for s, e in regions.get(pid, []))
    overlaps = lambda pid, line: any(s < shift(pid, line)[1] and shift(pid, line)[0] < e for s, e in regions.get(pid, []))
    for text in ("<sync>", "<synch>", "<sync.", "[syncing]", "<ellie starts>", "<talking to experimenter>"):
        assert not any(overlaps(pid, line) for pid, line in values[text]), text
    for text in ("<laughter>", "scrubbed_entry", "xxx", ""):
        kept = [inside(pid, line) for pid, line in values[text] if pid in scored and pid != "373"]  # 373: cut
        assert kept and all(kept), text


def test_the_avec_test_list_reads_from_the_synthetic_tree(synth_root, tmp_path):
    root = synth_root("daic_woz")
    test_list = pd.read_csv(root / daic.TEST_LABEL_FILE)
    assert list(test_list.columns) == ["Participant_ID", "PHQ_Binary", "PHQ_Score", "Gender"]
    block = conf(root)
    block["datarc"]["corpus"]["test_list"] = "test"
    expert = DownstreamExpert(240, 160, block, str(tmp_path / "exp"))
    written = json.loads((tmp_path / "exp" / "split.json").read_text())
    assert written["test_list"] == "test" and written["partition"].endswith("full_test_split.csv (test_list: test)")
    assert {k.split("/")[0] for k in written["utterances"]["test"]} == {str(p) for p in test_list["Participant_ID"]}
    assert {k.split("/")[0] for k in written["utterances"]["dev"]} <= {str(p) for p in labels(root)["dev"]["Participant_ID"]}
    assert {u.label for u in expert.splits["test"]} == {"depressed", "not_depressed"}


def test_depressed_participants_sound_quieter_and_slower(synth_root):
    root = synth_root("daic_woz")
    level, share = {0: [], 1: []}, {0: [], 1: []}
    by_pid = {}
    for utt in daic.prepare(root).utterances:
        by_pid.setdefault(utt.speaker, []).append(utt)
    for pid, utts in by_pid.items():
        audio, rate = sf.read(str(utts[0].path))
        speech = np.concatenate([audio[int(u.start * rate):int(u.end * rate)] for u in utts])
        depressed = int(utts[0].label == "depressed")
        level[depressed].append(np.sqrt(np.mean(speech ** 2)))
        share[depressed].append(np.mean(np.abs(speech) > 0.01))  # voiced share: more pauses, less of it
    assert np.mean(level[1]) < 0.75 * np.mean(level[0])
    assert np.mean(share[1]) < np.mean(share[0])


def test_plan_is_deterministic_and_covers_the_demo_counts():
    a, b = layout.plan(random.Random("0:plan"), "demo"), layout.plan(random.Random("0:plan"), "demo")
    assert [(c.path, c.text, c.emotion) for c in a.clips] == [(c.path, c.text, c.emotion) for c in b.clips]
    assert a.text_files == b.text_files
    train = a.text_files["train_split_Depression_AVEC2017.csv"].splitlines()[1:]
    assert sum(row.split(",")[1] == "1" for row in train) >= layout.SIZES["demo"][("train", 1)]


def conf(root, **objective):
    block = yaml.safe_load((REPO / "downstream/daic_woz/config.yaml").read_text())["downstream_expert"]
    block["datarc"].update(root=str(root))
    block["objective"].update(objective)
    return block


def test_expert_builds_segments_and_takes_objective_options_from_the_config(synth_root, tmp_path):
    root = synth_root("daic_woz")
    expert = DownstreamExpert(240, 160, conf(root, decision="mean_probability", selection="depressed_f1"),
                              str(tmp_path / "exp"))
    assert expert.objective.decision == "mean_probability" and expert.objective.selection == "depressed_f1"
    written = json.loads((tmp_path / "exp" / "split.json").read_text())
    assert written["segments"]["seconds"] == 4.0 and written["test_split"] == "dev" and written["test_list"] == "dev"
    assert written["partition"] == "AVEC 2017 lists, tested on dev_split_Depression_AVEC2017.csv (test_list: dev)"
    dev_list = {str(p) for p in labels(root)["dev"]["Participant_ID"]}
    assert {k.split("/")[0] for k in written["utterances"]["test"]} <= dev_list
    short = set(written["segments"]["units_without_a_long_enough_region"])  # whole regions instead
    wavs, targets, keys = next(iter(expert.get_dataloader("train")))
    assert all(len(w) == 4 * 16000 or k.split("/")[0] in short for w, k in zip(wavs, keys))
    assert all("/seg" in k for k in keys)
    wavs, targets, keys = next(iter(expert.get_dataloader("test")))  # tiled: 4 s windows and last pieces
    assert all(16000 <= len(w) <= 4 * 16000 for w in wavs) and all("/seg" in k for k in keys)
    with pytest.raises(ValueError, match="decision"):
        DownstreamExpert(240, 160, conf(root, decision="vote"), str(tmp_path / "bad"))


def test_log_records_reports_interview_metrics_and_selects_on_the_configured_one(synth_root, tmp_path):
    import torch

    class Logger:
        def __init__(self):
            self.scalars = {}

        def add_scalar(self, name, value, global_step):
            self.scalars[name] = value

    expert = DownstreamExpert(240, 160, conf(synth_root("daic_woz"), selection="interview_depressed_f1"),
                              str(tmp_path / "exp"))
    segments = expert.splits["dev"]
    true = [expert.objective.target(u.label) for u in segments]
    records = {"loss": [0.5], "true": true, "key": [u.key for u in segments],
               "pred": expert.objective.predict(torch.nn.functional.one_hot(torch.tensor(true), 2).float() * 5)}
    logger = Logger()
    saved = expert.log_records("dev", records, logger, 10, None, None)
    assert saved == ["dev-best.ckpt"] and logger.scalars["daic_woz/dev-interview_depressed_f1"] == 1.0
    assert json.loads((tmp_path / "exp" / "dev-best.json").read_text())["metrics"]["interview_weighted_f1"] == 1.0
