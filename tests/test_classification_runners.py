"""RAVDESS-Song, CaFE, MELD, CMU-MOSI and IEMOCAP 4/6 end to end through s3prl's own runner on
their synthetic corpora: train, evaluate, a result row above chance, and the split written
beside it with no speaker / dialogue / video in two splits."""
from __future__ import annotations

import itertools
import json

import pytest

from care_superb.downstream.meld.prepare import prepare_cache
from care_superb.downstream.registry import TASKS
from helpers import assert_learned, learning_schedule, run_downstream

pytestmark = pytest.mark.slow  # end to end: s3prl's runner or care-superb in subprocesses

# task: (synthetic corpus, number of classes, protocol, weighted F1 the test must beat, steps, lr).
# Chance weighted F1 is about 1/classes (0.5 for the binary task); the floors leave a clear margin.
# The steps: the fewest of 200 / 400 that passed on head seeds 1337, 1, 2 and 3 (helpers.learning_schedule).
# CMU-MOSI at lr 1e-3 jumped between 0.5 and 1.0 on its 29 dev utterances from one evaluation to the
# next, and dev-best kept whichever spike came last: test weighted F1 0.66-0.79 over 10 head seeds
# (a 44-segment video is 43% of its 102 test utterances), 0.603 on another machine. At 1e-4 for
# 800 steps dev rises smoothly: see docs/development.md for its margins over seeds and threads.
# IEMOCAP-6 likewise: at 1e-3 for 200 steps its margin was +0.038 on head seed 1 (0.34-0.53 over
# seeds 1337, 1, 2, 3); at 1e-4 for 800, +0.105 at worst on the same seeds.
CASES = {
    "ravdess_song": ("ravdess_song", 6, "speaker_independent", 0.30, 400, 1e-3),
    "cafe": ("cafe", 7, "speaker_independent", 0.30, 200, 1e-3),
    "meld": ("meld", 7, "official", 0.35, 400, 1e-3),
    "cmu_mosi": ("cmu_mosi", 2, "official, dev held out of train", 0.65, 800, 1e-4),  # Poria et al.'s folds: no dev videos
    "iemocap4": ("iemocap", 4, "leave_one_session_out", 0.38, 200, 1e-3),
    "iemocap6": ("iemocap", 6, "leave_one_session_out", 0.30, 800, 1e-4),  # the same IEMOCAP tree
}


@pytest.mark.parametrize("task", CASES)
def test_train_then_evaluate_beats_chance(task, synth_root, tmp_path):
    corpus, _, protocol, floor, steps, lr = CASES[task]
    root, exp = synth_root(corpus), tmp_path / "exp"
    overrides = [f"config.downstream_expert.datarc.root={root}", learning_schedule(steps, lr=lr)]
    options = {}
    if task == "meld":
        options["cache"] = tmp_path / "meld-16k"
        prepare_cache(root, options["cache"], progress=False)
        overrides.append(f"config.downstream_expert.datarc.corpus.cache={options['cache']}")
    run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", task, "-p", str(exp), "-o", ",,".join(overrides))
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    row = json.loads((exp / "result-test-dev-best.json").read_text())

    assert row["task"] == task and row["split"] == "test" and row["primary_metric"] == "weighted_f1"
    assert row["protocol"]["protocol"] == protocol and row["data"]["synthetic"] is True
    if task == "cmu_mosi":
        assert row["protocol"]["partition"] == "cmu_mosi poria2017"
    assert row["config"]["downstream_expert"]["datarc"]["root"] == str(root)
    assert_learned(task, row["metrics"], {"weighted_f1": floor})

    split = json.loads((exp / "split.json").read_text())["utterances"]
    assert len(split["test"]) == row["n_utterances"]
    unit = {u.key: (u.unit, u.split) for u in TASKS[task].corpus.prepare(root, **options).utterances}
    units = {name: {unit[key][0] for key in keys} for name, keys in split.items()}
    for a, b in itertools.combinations(units, 2):
        assert not units[a] & units[b], (a, b, units[a] & units[b])
    if protocol == "leave_one_session_out":  # the test session is nowhere else
        sessions = {name: {unit[key][1] for key in keys} for name, keys in split.items()}
        assert sessions["test"] == {"Session1"} and not sessions["test"] & (sessions["train"] | sessions["dev"])
