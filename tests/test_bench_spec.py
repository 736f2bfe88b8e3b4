"""care-superb bench: what a benchmark file may say, and the messages for what it may not."""
from __future__ import annotations

import os
import textwrap

import pytest
import yaml

from care_superb.benchmark import cells, spec
from care_superb.benchmark.run import build_random, plan
from care_superb.benchmark.spec import BenchmarkError
from care_superb.cli import main


def write(tmp_path, text: str, name: str = "bench.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def messages(path) -> str:
    with pytest.raises(BenchmarkError) as info:
        spec.load(path)
    return str(info.value)


def test_every_problem_of_a_file_is_named_at_once_with_its_fix(tmp_path):
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        seeds: [0, 0]
        colour: blue
        upstreams:
          - {{name: wavlm_bse, label: W}}
          - {{name: fbank_no_cmvn, label: F, category: medium, runner: {{total_steps: 10}}}}
          - {{name: hf_wavlm, label: R, random: {{family: wavlm, size: huge}}}}
          - {{name: sonar_local, label: S, ckpt: /path/to/EDIT/spenc.eng.pt,
              tasks: {{emodb: {{ckpt: /path/to/EDIT/spenc.v3ap.deu.pt}}, cafe: {{lr: 1}}}}}}
        tasks:
          emodb: {{root: {tmp_path}, folds: 3}}
          emodbb: {{}}
          cafe: {{datarc: {{split: 2}}}}
        executor: {{kind: slurm, jobs: 2, partitions: gpu}}
        """)
    text = messages(path)
    assert str(path) in text
    for expected in [
        "top level: unknown key 'colour'",
        "seeds: [0, 0] repeats a seed",
        "unknown upstream 'wavlm_bse'", "did you mean", "wavlm_base",
        "upstreams[1] (F).runner: downstream settings are shared by every upstream",
        "upstreams[1] (F).category: 'medium' is not one of base, large",
        "wavlm has sizes tiny, base",
        "/path/to/EDIT/spenc.eng.pt does not exist (this is a placeholder: put the path of your copy",
        "upstreams[3] (S).tasks.cafe: only ckpt, random, model_config may differ per task (got lr)",
        "tasks.emodb.folds: expected a non-empty list",
        "tasks.emodbb: unknown task; the tasks are cafe, cmu_mosi, daic_woz, emobox, emodb",
        "tasks.cafe.datarc.split: set it with tasks.cafe.split_seeds",
        "executor: unknown key 'partitions'",
    ]:
        assert expected in text, f"missing {expected!r} in:\n{text}"


def test_labels_must_differ_and_random_builders_must_match_the_reader(tmp_path):
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        upstreams:
          - {{name: fbank_no_cmvn, label: same}}
          - {{name: fbank_no_cmvn, label: same}}
          - {{name: care_local, label: C, random: {{family: wavlm, size: tiny}}}}
        tasks: {{emodb: {{root: {tmp_path}}}}}
        """)
    text = messages(path)
    assert "label: 'same' is used twice" in text
    assert "-u care_local does not read a wavlm checkpoint; use one of hf_speech, hf_wavlm" in text


def test_a_missing_corpus_stops_the_run_before_anything_trains(tmp_path, capsys):
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        upstreams: [{{name: fbank_no_cmvn}}]
        tasks: {{emodb: {{root: {tmp_path}/no-such-emodb}}}}
        """)
    assert main(["bench", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "tasks.emodb" in err
    assert f"{tmp_path}/no-such-emodb does not exist" in err and "care-superb synth" in err
    assert not (tmp_path / "out" / "cells").exists()


def test_the_cached_engine_refuses_attentive_pooling_and_names_the_s3prl_engine(tmp_path, synth_root):
    root = synth_root("emodb")
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        upstreams: [{{name: fbank_no_cmvn}}]
        tasks: {{emodb: {{root: {root}, downstream: {{downstream_expert: {{modelrc: {{pooling: attentive}}}}}}}}}}
        """)
    bench = spec.load(path)
    with pytest.raises(BenchmarkError, match="pooling attentive is not linear over frames.*engine: s3prl"):
        plan(bench, cells.expand(bench), retry_failed=False)
    s3prl = spec.load(path, engine="s3prl")  # the s3prl engine runs it
    todo, used = plan(s3prl, cells.expand(s3prl), retry_failed=False)
    assert len(todo) == 1 and len(used[todo[0].id]) == 280


def test_the_cached_engine_refuses_upstreams_whose_padded_batch_is_not_each_utterance_alone(tmp_path, synth_root):
    """s3prl's own wavlm_local runs padding through its GroupNorm: its features in s3prl's runner
    depend on the batch; a name never checked is refused too. The s3prl engine runs both."""
    root = synth_root("emodb")
    ckpt = tmp_path / "WavLM-Base.pt"
    ckpt.write_bytes(b"")
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        upstreams: [{{name: wavlm_local, ckpt: {ckpt}}}, {{name: apc, label: A}}, {{name: fbank_no_cmvn}}]
        tasks: {{emodb: {{root: {root}}}}}
        """)
    bench = spec.load(path)
    with pytest.raises(BenchmarkError) as info:
        plan(bench, cells.expand(bench), retry_failed=False)
    message = str(info.value)
    assert message.startswith("2 problem(s) before running")
    assert "upstream wavlm_local gives an utterance of a padded batch other features" in message
    assert "--engine s3prl" in message and "use hf_wavlm" in message
    assert "upstream apc was never checked" in message and "fbank_no_cmvn" not in message
    s3prl = spec.load(path, engine="s3prl")
    assert len(plan(s3prl, cells.expand(s3prl), retry_failed=False)[0]) == 3


def test_cells_share_one_head_config_and_carry_per_task_checkpoints(tmp_path, synth_root):
    """Every upstream of a task trains with the same config; an upstream differs only by what it
    loads (SONAR's per-language encoders); folds x split seeds x seeds give the cells."""
    emodb, cafe = synth_root("emodb"), synth_root("cafe")
    deu, fra = tmp_path / "spenc.v3ap.deu.pt", tmp_path / "spenc.v3ap.fra.pt"
    deu.write_bytes(b"x"), fra.write_bytes(b"y")
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        seeds: [0, 1]
        downstream: {{schedule: paper, optimizer: {{lr: 5.0e-4}}}}  # the paper's fixed schedule: the file's lr applies
        upstreams:
          - {{name: fbank_no_cmvn, label: mel}}
          - {{name: sonar_local, label: SONAR, ckpt: {deu}, tasks: {{cafe: {{ckpt: {fra}}}}}}}
        tasks:
          emodb: {{root: {emodb}, split_seeds: [0, 1], downstream: {{runner: {{total_steps: 30}}}}}}
          cafe: {{root: {cafe}}}
        """)
    bench = build_random(spec.load(path))
    made = cells.expand(bench)
    assert len(made) == 2 * (2 * 2 + 1 * 2)
    by_id = {c.id: c for c in made}
    assert by_id["SONAR/emodb/split1/seed0"].upstream.ckpt == str(deu)
    assert by_id["SONAR/cafe/default/seed1"].upstream.ckpt == str(fra)
    for task in ("emodb", "cafe"):
        configs = [yaml.safe_dump(c.config) for c in made if c.task == task and c.split_seed in (None, 1) and c.seed == 0]
        assert len(configs) == 2 and configs[0] == configs[1]  # the same config for both upstreams
    emodb_cell = by_id["mel/emodb/split1/seed1"]
    assert emodb_cell.config["optimizer"]["lr"] == 5.0e-4 and emodb_cell.config["runner"]["total_steps"] == 30
    assert emodb_cell.config["downstream_expert"]["datarc"]["split_seed"] == 1
    assert emodb_cell.config["downstream_expert"]["datarc"]["root"] == str(emodb)
    assert by_id["mel/cafe/default/seed0"].config["runner"]["total_steps"] == 1000  # cafe's own config


def test_a_file_can_start_from_a_base_file(tmp_path, synth_root, capsys):
    """base: keys given replace the base's; a task given starts from the base's settings for it,
    and only the tasks given run; a base that leads back to the file is refused."""
    emodb, cafe = synth_root("emodb"), synth_root("cafe")
    (tmp_path / "configs").mkdir()
    write(tmp_path / "configs", f"""
        output: {tmp_path}/base-out
        seeds: [0]
        downstream: {{schedule: paper, optimizer: {{lr: 5.0e-4}}}}  # the paper's fixed schedule: the file's lr applies
        upstreams: [{{name: fbank_no_cmvn, label: mel}}]
        tasks:
          emodb: {{root: {emodb}, downstream: {{runner: {{total_steps: 30}}}}}}
          cafe: {{root: {cafe}}}
        """, "base.yaml")
    path = write(tmp_path, f"""
        base: configs/base.yaml
        output: {tmp_path}/out
        seeds: [0, 1]
        tasks:
          emodb: {{splits: [0, 1]}}
        """)
    bench = spec.load(path)  # splits: split_seeds' earlier name, still read
    assert "tasks.emodb.splits is deprecated" in capsys.readouterr().out
    made = cells.expand(bench)
    assert bench.output == tmp_path / "out" and {c.task for c in made} == {"emodb"} and len(made) == 2 * 2
    config = made[0].config
    assert config["optimizer"]["lr"] == 5.0e-4 and config["runner"]["total_steps"] == 30  # from the base
    assert config["downstream_expert"]["datarc"]["root"] == str(emodb)
    write(tmp_path / "configs", "base: ../bench.yaml\noutput: x\n", "base.yaml")
    assert "leads back to this file" in messages(path)


def test_the_shipped_files_are_valid_but_for_what_the_demo_makes_and_the_papers_placeholders(tmp_path, monkeypatch):
    from care_superb.benchmark.run import REPO_CONFIGS

    made_by_demo = ["result/pretrain/care-tiny-init.pt", "result/pretrain/demo/best.pt"]
    monkeypatch.chdir(tmp_path)  # the demo files' paths are relative to the repository root
    for name, n_upstreams, needs in [("demo.yaml", 4, made_by_demo), ("demo_all.yaml", 6, made_by_demo[1:]),
                                     ("care_pretraining.yaml", 2, made_by_demo)]:
        problems = [line for line in messages(REPO_CONFIGS / name).splitlines() if line.startswith("- ")]
        assert len(problems) == len(needs) and all(
            f"{path} does not exist" in line for path, line in zip(needs, problems)), (name, problems)
        for path in needs:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_bytes(b"")
        loaded = spec.load(REPO_CONFIGS / name)
        assert len(loaded.upstreams) == n_upstreams and len({u.label for u in loaded.upstreams}) == n_upstreams
        for path in needs:
            (tmp_path / path).unlink()
    for path in made_by_demo:
        (tmp_path / path).write_bytes(b"")
    demo = spec.load(REPO_CONFIGS / "demo.yaml")
    assert len(cells.expand(demo)) == 4 * 9 * 2
    assert {u.default.random.family for u in demo.upstreams if u.default.random} == {"wavlm"}
    assert len(cells.expand(spec.load(REPO_CONFIGS / "demo_all.yaml"))) == 6 * 9 * 3
    text = messages(REPO_CONFIGS / "paper.yaml")
    problems = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(problems) == 11 and all("this is a placeholder" in p for p in problems), text


def test_slurm_keys_reach_submitit(tmp_path, monkeypatch):
    from care_superb.benchmark import executor as ex
    from care_superb.benchmark.spec import Executor

    srun = tmp_path / "bin" / "srun"  # submitit looks for srun before it builds a SLURM executor
    srun.parent.mkdir()
    srun.write_text("#!/bin/sh\n")
    srun.chmod(0o755)
    monkeypatch.setenv("PATH", f"{srun.parent}:{os.environ['PATH']}")
    made = ex.make(Executor("slurm", jobs=4, threads_per_job=4, timeout_min=120,
                            slurm={"partition": "gpu", "gpus_per_job": 1, "mem_gb": 32}), tmp_path)
    params = made._executor.parameters
    assert (params["partition"], params["gpus_per_node"], params["cpus_per_task"], params["mem"], params["time"]) == \
        ("gpu", 1, 4, "32GB", 120)
    assert "export OMP_NUM_THREADS=4" in params["setup"]
    assert ex.divide([5, 1, 4, 2, 3], 2, float) == [[5, 1, 2], [4, 3]]  # longest first to the least loaded
