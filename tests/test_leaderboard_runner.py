"""The leaderboard on rows that s3prl's runner really wrote: train, `-m evaluate`, tabulate."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from care_superb.cli import main
from helpers import run_downstream

pytestmark = pytest.mark.slow  # end to end: s3prl's runner or care-superb in subprocesses


def train_and_evaluate(exp, root, upstream, steps):
    run_downstream("-m", "train", "-u", upstream, "-d", "emodb", "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={root},,config.runner.total_steps={steps},,"
                   f"config.runner.eval_step={steps // 2},,config.runner.save_step={steps},,"
                   "config.downstream_expert.datarc.batch_size=8")
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"))
    return json.loads((exp / "result-test-dev-best.json").read_text())


def test_leaderboard_from_rows_written_by_the_runner(synth_root, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    subprocess.run([sys.executable, "-m", "care_superb.cli", "care-init", "--size", "tiny",
                    "--out", str(home / "checkpoints" / "care.pt")], check=True, capture_output=True)
    monkeypatch.setenv("CARE_SUPERB_HOME", str(home))
    root, results = synth_root("emodb"), tmp_path / "results"
    fbank = train_and_evaluate(results / "fbank", root, "fbank_no_cmvn", 20)
    care = train_and_evaluate(results / "care", root, "care", 20)  # the same head and schedule

    for row in (fbank, care):
        assert row["schema_version"] == 3 and row["engine"] == "s3prl"
        assert row["predictions"] == "predictions-test-dev-best.json"
    assert fbank["layer_weights"] is None  # one layer: s3prl's Featurizer learns no weights
    assert len(care["layer_weights"]) == 13 and abs(sum(care["layer_weights"]) - 1) < 1e-6

    out = tmp_path / "board"
    assert main(["leaderboard", str(results), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "table2.csv", comment="#").set_index("upstream")
    for name, row in (("fbank_no_cmvn", fbank), ("care", care)):
        got = table[table.column == "EmoDB"].loc[name]
        assert got["mean"] == round(100 * row["metrics"]["weighted_f1"], 10)
        # two test speakers, one seed: no interval, the speakers' range, and nothing tested
        assert not got["testable"] and got["range_low"] <= got["range_high"] and pd.isna(got["ci_low"])
        assert got["conditional_on_one_head"] and got["synthetic_data"]
    (test,) = pd.read_csv(out / "table2.comparisons.csv", comment="#").query("column == 'EmoDB'").itertuples()
    assert {test.a, test.b} == {"care", "fbank_no_cmvn"} and test.not_tested.startswith("not testable (smallest possible p = 0.5")
    assert "| uncategorised | care§" in printed or "| uncategorised | fbank_no_cmvn§" in printed
    assert "No learned layer weights in the rows of fbank_no_cmvn" in printed
    assert (out / "layer_weights.png").is_file() and (out / "table2_scores.pdf").is_file()
