"""EmoBox through s3prl's own runner, as the issue's command runs it: `run_downstream.py -m train
-u fbank_no_cmvn -d emobox -o root/dataset/fold`, then evaluate; the test row holds exactly the
fold's test list, EmoBox's metrics, and what the row checks left out or flagged."""
from __future__ import annotations

import json
import shutil

import pytest
import soundfile as sf

from care_superb.downstream.registry import TASKS
from helpers import FEW_STEPS, run_downstream

pytestmark = pytest.mark.slow  # end to end: s3prl's runner


def emobox_run(root, dataset, fold, exp, *more):
    overrides = ",,".join([f"config.downstream_expert.datarc.root={root}",
                           f"config.downstream_expert.datarc.dataset={dataset}",
                           f"config.downstream_expert.datarc.fold={fold}", FEW_STEPS, *more])
    run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", "emobox", "-p", str(exp), "-o", overrides)
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    return json.loads((exp / "result-test-dev-best.json").read_text())


def listed(root, dataset, fold, split="test"):
    path = root / "data" / dataset / f"fold_{fold}" / f"{dataset}_{split}_fold_{fold}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_ravdess_fold_1_counts_exactly_its_test_list_with_emobox_metrics(synth_root, tmp_path):
    root, exp = synth_root("emobox"), tmp_path / "exp"
    row = emobox_run(root, "ravdess", 1, exp)
    test = {r["key"] for r in listed(root, "ravdess", 1)}
    predictions = json.loads((exp / "predictions-test-dev-best.json").read_text())["predictions"]
    assert row["n_utterances"] == len(test) and {p["key"] for p in predictions} == test
    assert set(json.loads((exp / "split.json").read_text())["utterances"]["test"]) == test
    assert row["primary_metric"] == "unweighted_accuracy"
    assert set(row["metrics"]) >= {"unweighted_accuracy", "accuracy", "macro_f1", "weighted_f1"}
    assert row["protocol"]["dataset"] == "ravdess" and row["protocol"]["fold"] == 1
    assert row["protocol"]["partition"] == "EmoBox ravdess fold 1"
    assert row["resampling"]["unit"] == "speaker" and {p["unit"] for p in predictions} == {"01", "02"}
    # The row records the classes it was built with: the leaderboard rebuilds the same objective.
    options = row["config"]["downstream_expert"]["objective"]
    assert options["classes"] == ["Angry", "Calm", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]
    objective = TASKS["emobox"].objective(**options)
    recomputed = objective.metrics([p["target"] for p in predictions], [p["output"] for p in predictions])
    assert recomputed["unweighted_accuracy"] == pytest.approx(row["metrics"]["unweighted_accuracy"])
    assert row["exclusions"] == {} and "flagged" not in row


def test_a_cropped_emodb_copy_is_counted_in_the_row(synth_root, tmp_path):
    root = tmp_path / "EmoBox"
    shutil.copytree(synth_root("emobox"), root)
    test = listed(root, "emodb", 1)
    for entry in test[:3]:  # three test files cropped by 0.3 s, one missing
        path = root / entry["wav"]
        audio, rate = sf.read(str(path))
        sf.write(str(path), audio[: len(audio) - int(0.3 * rate)], rate)
    (root / test[3]["wav"]).unlink()
    row = emobox_run(root, "emodb", 1, tmp_path / "exp", "config.downstream_expert.datarc.on_mismatch=warn")
    assert row["flagged"] == {"duration differs from manifest": 3}
    assert row["exclusions"] == {"missing file": 1}
    assert row["n_utterances"] == len(test) - 1
    skipped = json.loads((tmp_path / "exp" / "skipped.json").read_text())
    assert [e["key"] for e in skipped["excluded"]] == [test[3]["key"]]
    assert sorted(e["key"] for e in skipped["flagged"]) == sorted(e["key"] for e in test[:3])
