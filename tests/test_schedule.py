"""Training schedules (paper | converge), the convergence verdict of a dev curve, the linear probe,
and how the leaderboard shows them (issue 26). Unit checks; the end-to-end runs are in
test_convergence_bench.py."""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from care_superb.benchmark import probe, spec
from care_superb.benchmark.spec import BenchmarkError
from care_superb.downstream import comparability, convergence, schedule
from care_superb.downstream.objectives import Classification, InterviewClassification, Regression
from care_superb.leaderboard.make import make_leaderboard
from leaderboard_rows import labels, predict, write_row


# -- the convergence verdict ---------------------------------------------------------------------

def curve(scores, every=10):
    return {"dev": [[every * (i + 1), s, 1.0 - s] for i, s in enumerate(scores)], "train": []}


def test_a_dev_curve_still_rising_at_the_end_is_not_converged():
    rising = curve(np.linspace(0.2, 0.6, 50))  # the paper's schedule on real features (issue 26)
    verdict = convergence.summarise(rising, 500)
    assert verdict["converged"] is False and "first reached at step 500 of 500" in verdict["reason"]
    assert verdict["dev_rise_last_20pct"] == pytest.approx(0.6 - np.linspace(0.2, 0.6, 50)[39], abs=1e-6)


def test_a_curve_that_peaked_early_and_plateaued_is_converged():
    scores = np.r_[np.linspace(0.2, 0.6, 15), np.full(35, 0.58)]
    verdict = convergence.summarise(curve(scores), 500)
    assert verdict["converged"] is True and verdict["dev_best_step"] == 150 and verdict["reason"] is None


def test_a_rise_over_the_last_fifth_flags_a_best_that_is_not_in_the_last_tenth():
    # best at 88% of training: not in the last 10%, but 0.06 above anything before the last 20%
    scores = [0.40] * 40 + [0.43, 0.45, 0.45, 0.46, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45]
    verdict = convergence.summarise(curve(scores), 500)
    assert verdict["dev_best_fraction"] == pytest.approx(0.88)
    assert verdict["converged"] is False and "rose by 0.0600" in verdict["reason"]


def test_a_late_tie_won_on_dev_loss_is_not_a_rising_score():
    """A constant score (a head that cannot do better) whose dev loss still falls: the expert's
    checkpoint follows the tie, the verdict follows when the score was first reached."""
    flat = {"dev": [[10 * (i + 1), 0.3, 2.0 - 0.01 * i] for i in range(50)], "train": []}
    verdict = convergence.summarise(flat, 500)
    assert verdict["dev_best_step"] == 500 and verdict["best_score_first_step"] == 10
    assert verdict["converged"] is True


def test_the_train_loss_trend_is_recorded():
    data = curve(np.r_[np.linspace(0.2, 0.6, 15), np.full(35, 0.58)])
    data["train"] = [[50 * (i + 1), 1.0 - 0.05 * i] for i in range(10)]
    trend = convergence.summarise(data, 500)["train_loss_change_last_20pct"]
    assert trend == pytest.approx(((0.55 + 0.6) / 2 - (0.65 + 0.7) / 2) / ((0.65 + 0.7) / 2), abs=1e-6)


# -- the schedules -------------------------------------------------------------------------------

TASK = {"runner": {"total_steps": 500, "eval_step": 10}, "optimizer": {"name": "TorchOptim", "lr": 1e-4}}


def test_converge_resolves_to_a_cap_patience_and_the_grids_first_rate_paper_changes_nothing():
    resolved = schedule.resolve(TASK)  # the benchmark's default
    assert resolved["schedule"] == {"name": "converge", "lr_grid": [1e-4, 1e-3, 1e-2], "patience_steps": 250,
                                    "max_steps": 4000}
    assert resolved["runner"]["total_steps"] == 4000 and resolved["optimizer"]["lr"] == 1e-4
    assert schedule.resolve(resolved) == resolved  # resolving twice changes nothing
    paper = schedule.resolve({**TASK, "schedule": "paper"})
    assert paper["schedule"] == {"name": "paper"} and paper["runner"] == TASK["runner"]
    mine = schedule.resolve({**TASK, "schedule": {"lr_grid": [0.1], "max_steps": 60}})
    assert mine["schedule"] == {"name": "converge", "lr_grid": [0.1], "patience_steps": 250, "max_steps": 60}
    assert schedule.plan(TASK) == {"name": "paper"}  # a task config run directly by s3prl


def test_patience_grows_with_the_dev_best_step_and_paper_never_stops():
    plan = schedule.plan({**TASK, "schedule": "converge"})
    assert not schedule.stop_now(plan, 349, 100) and schedule.stop_now(plan, 350, 100)  # 250 steps
    assert not schedule.stop_now(plan, 2000 + 499, 2000) and schedule.stop_now(plan, 2500, 2000)  # 25% of 2000
    assert not schedule.stop_now({"name": "paper"}, 10_000, 10)


def test_a_stop_by_patience_is_never_judged_not_converged():
    plan = schedule.plan({**TASK, "schedule": "converge"})
    for best in (10, 300, 1000, 2000, 3000):
        step = best
        while not schedule.stop_now(plan, step, best):
            step += 10
        scores = [0.1 + 0.5 * min(s, best) / best for s in range(10, step + 1, 10)]
        assert convergence.summarise(curve(scores), step)["converged"] is True, (best, step)


def test_the_lr_with_the_best_dev_score_is_chosen_ties_to_the_lower_loss():
    runs = [{"lr": 1e-4, "dev_score": 0.5, "dev_loss": 1.0}, {"lr": 1e-3, "dev_score": 0.6, "dev_loss": 1.2},
            {"lr": 1e-2, "dev_score": 0.6, "dev_loss": 1.1}]
    assert schedule.choose(runs)["lr"] == 1e-2


def test_a_benchmark_file_names_its_schedule_and_a_wrong_one_is_refused(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text(textwrap.dedent(f"""
        output: {tmp_path}/out
        downstream: {{schedule: fast}}
        upstreams: [{{name: fbank_no_cmvn, schedule: paper}}]
        tasks:
          emodb: {{downstream: {{schedule: {{name: converge, lr_grid: [], patience: 3}}}}}}
        """))
    with pytest.raises(BenchmarkError) as info:
        spec.load(path)
    text = str(info.value)
    assert "downstream.schedule: 'fast' is not one of paper, converge" in text
    assert "tasks.emodb.downstream.schedule.patience: unknown key" in text
    assert "tasks.emodb.downstream.schedule.lr_grid: expected a non-empty list" in text
    assert "upstreams[0] (fbank_no_cmvn).schedule: downstream settings are shared by every upstream" in text


def test_a_learning_rate_where_converge_chooses_it_is_refused(tmp_path):
    path = tmp_path / "bench.yaml"
    path.write_text(textwrap.dedent(f"""
        output: {tmp_path}/out
        downstream: {{optimizer: {{lr: 1.0e-3}}}}
        upstreams: [{{name: fbank_no_cmvn}}]
        tasks:
          emodb: {{}}
          cafe: {{downstream: {{schedule: paper}}}}
        """))
    with pytest.raises(BenchmarkError) as info:
        spec.load(path)
    text = str(info.value)
    assert "downstream.optimizer.lr: emodb trains with schedule converge" in text and "cafe" not in text


def test_the_comparability_key_covers_the_schedule_but_not_the_lr_converge_chose():
    def key(config):
        return comparability.settings(config, normalize=False, engine="cached", synthetic=False)

    converge = schedule.resolve(TASK)
    assert key(schedule.with_lr(converge, 1e-2)) == key(schedule.with_lr(converge, 1e-4))
    paper = schedule.resolve({**TASK, "schedule": "paper"})
    assert key(paper) == key(TASK)  # a row from before schedules trained the paper's
    assert key(schedule.with_lr(paper, 1e-3)) != key(paper)
    assert any(d.startswith("schedule.name") for d in comparability.differences(key(paper), key(converge)))


# -- the probe -----------------------------------------------------------------------------------

def probe_data(n_layers=4, informative=2, seed=0, shuffle=False):
    """Layer ``informative`` holds the class (well above noise); the others are noise."""
    rng = np.random.default_rng(seed)
    data = {}
    for split, n in (("train", 300), ("dev", 150), ("test", 150)):
        y = rng.integers(0, 4, n)
        x = rng.normal(size=(n, n_layers, 16)) * 3.0 + 5.0  # unstandardised scale and offset
        x[:, informative, :4] += 8.0 * np.eye(4)[y]
        targets = rng.permutation(y) if shuffle and split == "train" else y
        data[split] = (x, targets.tolist(), [f"{split}{i}" for i in range(n)])
    return data


def test_the_probe_chooses_the_informative_layer_on_dev_and_scores_test_with_the_tasks_metrics():
    record = probe.fit(Classification(list("abcd")), probe_data())
    assert record["layer"] == 2 and record["model"] == "LogisticRegression" and record["standardised"]
    assert set(record["metrics"]) == {"weighted_f1", "accuracy", "unweighted_accuracy", "macro_f1"}
    assert record["metrics"]["weighted_f1"] > 0.8
    control = probe.fit(Classification(list("abcd")), probe_data(shuffle=True))  # labels shuffled in train
    assert control["metrics"]["weighted_f1"] < 0.45


def test_the_probe_of_a_regression_is_ridge_scored_in_ccc_and_of_interviews_in_interview_f1():
    rng = np.random.default_rng(1)
    data = {}
    for split, n in (("train", 200), ("dev", 80), ("test", 80)):
        x = rng.normal(size=(n, 3, 8))
        y = np.c_[x[:, 1, 0], x[:, 1, 1] - x[:, 1, 2], x[:, 1, 3]] + 0.1 * rng.normal(size=(n, 3))
        data[split] = (x, y.tolist(), [f"{split}{i}" for i in range(n)])
    record = probe.fit(Regression(["valence", "arousal", "dominance"]), data)
    assert record["model"] == "Ridge" and record["layer"] == 1 and record["metrics"]["mean_ccc"] > 0.9

    data = {}
    for split, (x, y, _) in probe_data(n_layers=2, informative=1).items():  # 5 segments per interview, one label
        binary = [int(t > 1) for t in y]
        data[split] = (x, [binary[5 * (i // 5)] for i in range(len(y))], [f"{i // 5}_P/seg{i % 5}" for i in range(len(y))])
    record = probe.fit(InterviewClassification(["no", "yes"], "yes"), data)
    assert "interview_weighted_f1" in record["metrics"] and "dev" in record


# -- the leaderboard -----------------------------------------------------------------------------

def test_a_head_that_had_not_converged_and_one_below_its_probe_are_marked_in_every_format(tmp_path):
    rows = tmp_path / "rows"
    y = labels(120, 7)
    for upstream, accuracy, converged, probe_f1 in (("whisper", 0.3, False, 0.8), ("logmel", 0.45, True, 0.46)):
        for seed in (1, 2):
            write_row(rows / upstream / str(seed), "emodb", upstream, y, predict(y, accuracy, 7, seed=seed), seed=seed,
                      convergence={"converged": converged, "reason": "dev score rose" if not converged else None,
                                   "dev_best_step": 500, "steps_trained": 500},
                      probe={"metrics": {"weighted_f1": probe_f1, "accuracy": probe_f1}})
    out = tmp_path / "out"
    make_leaderboard([rows], out)
    md, tex = (out / "table2.md").read_text(), (out / "table2.tex").read_text()
    assert "°↓" in next(line for line in md.splitlines() if "| whisper" in line)
    assert "°" not in next(line for line in md.splitlines() if "| logmel" in line)
    assert "° the head had NOT CONVERGED" in md and "↓ more than 5 below a standardised linear probe" in md
    assert "$^{\\circ}$$^{\\downarrow}$" in tex
    csv = pd.read_csv(out / "table2.csv", comment="#")
    emodb = csv[csv.column == "EmoDB"].set_index("upstream")
    assert emodb.loc["whisper", "not_converged_rows"] == 2 and emodb.loc["logmel", "not_converged_rows"] == 0
    assert emodb.loc["whisper", "probe_mean"] == pytest.approx(80.0)
    from care_superb.leaderboard import figures
    from care_superb.leaderboard.aggregate import build_cells
    from care_superb.leaderboard.rows import find_row_files, load_rows
    from care_superb.leaderboard.scoring import known_tasks
    from care_superb.leaderboard.tables import TABLES, build_table

    loaded = load_rows(find_row_files([rows]), known_tasks())
    table = build_table(TABLES[0], loaded, build_cells(loaded, list(TABLES[0].columns)), False)
    figure = figures.scores(table)
    assert "hollow, °: head not converged; x: linear probe" in figure.get_suptitle()
    assert {t.get_text() for t in figure.axes[0].get_yticklabels()} == {"logmel", "whisper °"}
    page = (out / "index.html").read_text()
    assert "probe 80.0" in page and "NO °: dev score rose" in page and "(linear probe 80.0)" in page


# -- the expert's early stop -----------------------------------------------------------------------

def test_the_expert_stops_on_dev_when_patience_is_exhausted_and_records_its_curve(synth_root, tmp_path):
    import json

    import yaml

    from care_superb.downstream.emodb.expert import DownstreamExpert
    from helpers import REPO

    class Logger:
        def add_scalar(self, *args, **kwargs):
            pass

        def flush(self):
            pass

    block = yaml.safe_load((REPO / "downstream/emodb/config.yaml").read_text())["downstream_expert"]
    block["datarc"]["root"] = str(synth_root("emodb"))
    plan = {"name": "converge", "lr_grid": [1e-3], "patience_steps": 30, "max_steps": 1000}
    expert = DownstreamExpert(40, 160, block, str(tmp_path / "exp"), mode="train", schedule=plan,
                              runner={"total_steps": 1000}, optimizer={"lr": 1e-3})
    keys = [u.key for u in expert.splits["dev"]]
    true = [i % 7 for i in range(len(keys))]

    def log(step, n_right, loss):
        records = {"true": true, "pred": true[:n_right] + [(t + 1) % 7 for t in true[n_right:]], "key": keys,
                   "loss": [loss]}
        return expert.log_records("dev", records, Logger(), step, None, None)

    log(10, 10, 2.0), log(20, 20, 1.8)
    log(30, 20, 1.5)  # a tie won on loss: a new checkpoint, but no progress of the score
    log(40, 5, 1.9)
    with pytest.raises(schedule.EarlyStop):
        log(50, 5, 1.9)  # 30 steps after the last better score (20)
    curve = json.loads((tmp_path / "exp" / "curve.json").read_text())
    assert [e[0] for e in curve["dev"]] == [10, 20, 30, 40, 50]
    assert curve["stop"] == {"step": 50, "reason": "patience", "best_score_step": 20}
    assert json.loads((tmp_path / "exp" / "dev-best.json").read_text())["step"] == 30
    record = expert._training_record()
    assert record["steps_trained"] == 50 and record["stopped"] == "patience" and record["lr"] == 1e-3
    paper = DownstreamExpert(40, 160, block, str(tmp_path / "paper"), mode="train", runner={"total_steps": 1000})
    expert = paper
    for step in range(10, 200, 10):
        log(step, 5, 1.9)  # never better, never stopped: the paper schedule runs its total_steps
    assert "stop" not in json.loads((tmp_path / "paper" / "curve.json").read_text())
