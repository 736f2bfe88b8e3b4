"""Settings that do not exist are refused: a benchmark file's ``downstream:`` (top level and per
task) and run_downstream.py's ``-o`` name the closest valid key instead of adding one nobody reads."""
from __future__ import annotations

import builtins
import runpy
import sys
import textwrap
import warnings

import pytest

from care_superb.benchmark import spec
from care_superb.benchmark.spec import BenchmarkError
from care_superb.cli import main
from care_superb.downstream.config_keys import PROJECT_KEYS, UnknownSetting, check_override, unknown
from care_superb.downstream.registry import TASKS
from helpers import FEW_STEPS, REPO, learning_schedule, run_downstream


def bench_file(tmp_path, downstream: str = "", tasks: str = "emodb: {}") -> str:
    path = tmp_path / "bench.yaml"
    path.write_text(textwrap.dedent(f"""
        output: {tmp_path}/out
        upstreams: [{{name: fbank_no_cmvn}}]
        {downstream}
        tasks: {{{tasks}}}
        """))
    return path


def problems(path) -> list[str]:
    with pytest.raises(BenchmarkError) as info:
        spec.load(path)
    return [line[2:] for line in str(info.value).splitlines() if line.startswith("- ")]


def test_the_issues_example_is_refused_by_bench_check_naming_optimizer(tmp_path, capsys):
    path = bench_file(tmp_path, "downstream: {schedule: paper, optimzer: {lr: 1.0e-3}}")
    assert main(["bench", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "downstream.optimzer: not a setting of emodb" in err and "did you mean optimizer?" in err
    assert "schedule" not in err  # a key this project defines
    assert ("schedule",) in PROJECT_KEYS


def test_per_task_and_datarc_keys_are_checked_and_each_problem_names_its_fix(tmp_path):
    path = bench_file(tmp_path, "downstream: {runner: {total_step: 10}, downstream_expert: {modelrc: {hiden_dim: 8}}}",
                      "emodb: {downstream: {optimizer: {lrr: 0.1}}}, "
                      "cmu_mosi: {datarc: {corpus: {drop_zeros: true}, batchsize: 8}, "
                      "downstream: {downstream_expert: {datarc: {corpus: {drop_zero: true}}}}}")
    found = problems(path)
    assert len(found) == 5, found
    expected = ["downstream.runner.total_step: not a setting of emodb, cmu_mosi", "did you mean runner.total_steps?",
                "downstream.downstream_expert.modelrc.hiden_dim: not a setting of emodb, cmu_mosi",
                "tasks.emodb.downstream.optimizer.lrr: not a setting of emodb", "did you mean optimizer.lr?",
                "tasks.cmu_mosi.datarc.corpus.drop_zeros: not a setting of cmu_mosi", "did you mean corpus.drop_zero?",
                "tasks.cmu_mosi.datarc.batchsize: not a setting of cmu_mosi", "did you mean batch_size?"]
    text = "\n".join(found)
    for part in expected:
        assert part in text, (part, text)


def test_a_top_level_key_only_some_tasks_read_names_the_others(tmp_path):
    path = bench_file(tmp_path, "downstream: {downstream_expert: {datarc: {corpus: {drop_zero: true}}}}",
                      "cmu_mosi: {}, emodb: {}, cafe: {}")
    [line] = problems(path)
    assert line.startswith("downstream.downstream_expert.datarc.corpus.drop_zero: not a setting of emodb, cafe ")
    assert "set it under tasks.cmu_mosi.downstream" in line


def test_what_the_tables_allow_passes_on_every_task():
    """What no config.yaml lists but the run reads: a torch optimizer's own arguments, s3prl's
    optional runner keys and blocks, the expert's datarc keys, a corpus parser's options, labels."""
    for task in TASKS:
        config = spec.task_config(task)
        given = {"schedule": "converge", "optimizer": {"weight_decay": 0.01, "betas": [0.9, 0.98]},
                 "runner": {"fp16": False, "gradient_accumulate_steps": 2},
                 "scheduler": {"name": "linear_schedule_with_warmup", "num_warmup_steps": 10},
                 "downstream_expert": {"datarc": {"label_map": {"exc": "hap"}, "drop_labels": ["xxx"],
                                                  "on_bad_audio": "skip", "num_workers": 0},
                                       "modelrc": {"pooling": "attentive"}}}
        assert unknown(given, config, task) == [], task
    assert unknown({"optimizer": {"torch_optim_name": "SGD", "momentum": 0.9}}, spec.task_config("emodb"), "emodb") == []
    # the torch optimizer named decides: SGD has no betas
    assert unknown({"optimizer": {"torch_optim_name": "SGD", "betas": [0.9, 0.9]}}, spec.task_config("emodb"),
                   "emodb")[0][0] == ("optimizer", "betas")
    # an objective's options are its own: DAIC-WOZ's interview decision; CMU-MOSI's takes none
    assert unknown({"downstream_expert": {"objective": {"decision": "mean"}}}, spec.task_config("daic_woz"),
                   "daic_woz") == []
    assert unknown({"downstream_expert": {"objective": {"decision": "mean"}}}, spec.task_config("cmu_mosi"),
                   "cmu_mosi") == [(("downstream_expert", "objective", "decision"), "cmu_mosi takes no setting there")]
    # a corpus parser's options are its prepare()'s: MSP-IMPROV's config lists none
    assert unknown({"downstream_expert": {"datarc": {"corpus": {"speaker": "session"}}}},
                   spec.task_config("msp_improv"), "msp_improv") == []


def test_the_test_suites_own_overrides_pass():
    for task in TASKS:
        config = spec.task_config(task)
        for overrides in (FEW_STEPS, learning_schedule(200)):
            check_override(f"config.downstream_expert.datarc.root=/data,,{overrides}",
                           type("Args", (), {"downstream": task})(), config)


def test_a_misspelt_override_stops_run_downstream_naming_the_key(tmp_path):
    root = tmp_path / "emodb"  # never read: the run stops before
    with pytest.raises(UnknownSetting, match=r"config\.optimzer: emodb has no such setting.*did you mean optimizer\?"):
        run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", "emodb", "-p", str(tmp_path / "a"),
                       "-o", f"config.downstream_expert.datarc.root={root},,config.optimzer.lr=1.0e-3")
    with pytest.raises(UnknownSetting, match=r"args\.sed: run_downstream.py has no such argument; did you mean args\.seed"):
        run_downstream("-m", "train", "-u", "fbank_no_cmvn", "-d", "emodb", "-p", str(tmp_path / "b"),
                       "-o", f"config.downstream_expert.datarc.root={root},,args.sed=3")
    assert not list((tmp_path / "a").glob("*.ckpt")) and not list((tmp_path / "b").glob("*.ckpt"))


def test_run_downstream_py_prints_the_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(sys, "argv", ["run_downstream.py", "-m", "train", "-u", "fbank_no_cmvn", "-d", "cmu_mosi",
                                      "-p", str(tmp_path / "exp"), "-o", "config.downstream_expert.datarc.corpus.fold=x"])
    saved = builtins.isinstance  # s3prl's main() wraps it (hack_isinstance)
    try:
        with warnings.catch_warnings(), pytest.raises(SystemExit) as exit:
            runpy.run_path(str(REPO / "run_downstream.py"), run_name="__main__")
    finally:
        builtins.isinstance = saved
    message = str(exit.value.code)
    assert message.startswith("run_downstream.py: error: -o: config.downstream_expert.datarc.corpus.fold")
    assert "did you mean downstream_expert.datarc.corpus.folds?" in message
