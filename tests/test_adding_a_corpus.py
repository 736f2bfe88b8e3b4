"""Adding a corpus is one new folder: facts + parser, synthetic layout, task, config, expert.

The test writes such a folder into downstream/ (and removes it), then uses it the way a user
would: `care-superb synth`, s3prl's runner through run_downstream.py, and the result row, which
counts what was left out and why.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from helpers import REPO, run_downstream

pytestmark = pytest.mark.slow  # end to end: s3prl's runner or care-superb in subprocesses

NAME = "toycorpus"
FILES = {
    "__init__.py": "",
    "corpus.py": '''"""A toy corpus: clips/<speaker>-<emotion>-<n>.wav. Clip a-anger-0 is known to be broken."""
from pathlib import Path

from care_superb.downstream.corpus import Excluded, Parsed, Utterance, require_root

LANGUAGE = "en"  # what is spoken, as Whisper codes it
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
''',
    "synth.py": '''from care_superb.downstream.toycorpus.corpus import EMOTIONS, SPEAKERS
from care_superb.synth import Clip, Plan, speakers

SIZES = {"demo": 3}


def plan(rng, size):
    clips = []
    for speaker, voice in speakers(SPEAKERS, "en-us", rng).items():
        for emotion in (*EMOTIONS, "neutral"):  # neutral is in the corpus, not in the task
            for n in range(SIZES[size] if emotion != "neutral" else 1):
                clips.append(Clip(f"clips/{speaker}-{emotion}-{n}.wav", "The cat sat on the mat.", voice, emotion))
    return Plan(clips)
''',
    "task.py": '''from care_superb.downstream import splits
from care_superb.downstream.objectives import Classification
from care_superb.downstream.registry import Task
from care_superb.downstream.toycorpus import corpus

TASK = Task("toycorpus", corpus, lambda: Classification(list(corpus.EMOTIONS)), splits.speaker_independent,
            "a toy corpus, 2 emotions")
''',
    "expert.py": '''from care_superb.downstream.expert import EmotionExpert


class DownstreamExpert(EmotionExpert):
    task = "toycorpus"
''',
    "config.yaml": '''runner:
  total_steps: 20
  gradient_clipping: 1
  gradient_accumulate_steps: 1
  log_step: 10
  eval_step: 10
  save_step: 20
  max_keep: 1
  eval_dataloaders: [dev]
optimizer:
  name: TorchOptim
  torch_optim_name: AdamW
  lr: 1.0e-3
downstream_expert:
  datarc:
    root: data/synthetic/toycorpus
    split_seed: 0
    valid_speakers: 1
    test_speakers: 1
    batch_size: 4
    num_workers: 0
    drop_labels: [neutral]
  modelrc:
    pooling: mean
''',
}


@pytest.fixture
def toy_folder():
    folder = REPO / "downstream" / NAME
    if folder.exists():
        pytest.fail(f"{folder} exists already; remove it (a previous run of this test was killed)")
    folder.mkdir()
    try:
        for name, text in FILES.items():
            (folder / name).write_text(text)
        yield folder
    finally:
        shutil.rmtree(folder)


def test_a_new_folder_is_a_corpus_a_layout_and_a_task(toy_folder, tmp_path):
    root = tmp_path / "toy"
    done = subprocess.run([sys.executable, "-m", "care_superb.cli", "synth", NAME, "--out", str(root)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(list((root / "clips").glob("*.wav"))) == 4 * 7

    listed = subprocess.run([sys.executable, "-c", "from care_superb.downstream.registry import TASKS; print(sorted(TASKS))"],
                            capture_output=True, text=True, check=True).stdout
    assert NAME in listed

    exp = tmp_path / "exp"
    run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", NAME, "-p", str(exp),
                   "-o", f"config.downstream_expert.datarc.root={root}", fresh_process=True)
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"), fresh_process=True)
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    assert row["task"] == NAME and row["data"]["synthetic"] is True
    # What was left out, and why, is counted where the result is (and listed in skipped.json).
    assert row["exclusions"] == {"known broken clip": 1, "label neutral dropped (drop_labels)": 4}
    skipped = json.loads((exp / "skipped.json").read_text())
    assert sorted(e["key"] for e in skipped["excluded"]) == ["a-anger-0", "a-neutral-0", "b-neutral-0",
                                                             "c-neutral-0", "d-neutral-0"]
