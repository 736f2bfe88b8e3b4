"""care-superb bench end to end (submitit's local executor, real subprocesses): killed and
restarted it loses only the cells in flight and ends with the same rows; a failing cell records
its error and the run goes on; a corrupt cache shard is redone; the s3prl engine writes the same
rows as the cached one."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from care_superb.cli import main

pytestmark = pytest.mark.slow  # end to end: s3prl's runner or care-superb in subprocesses

ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
RUNNER = {"total_steps": 40, "eval_step": 10, "log_step": 20, "save_step": 40}


def bench_file(path: Path, out: Path, upstreams: list, tasks: dict, seeds=(0, 1), **extra) -> Path:
    # The paper's fixed schedule (one training of RUNNER's steps per cell): these tests are about the
    # runner's plumbing; the converge schedule is test_convergence_bench.py's.
    path.write_text(yaml.safe_dump({
        "name": "test", "output": str(out), "seeds": list(seeds), "upstreams": upstreams, "tasks": tasks,
        "extraction": {"batch_size": 1, "shard_size": 8}, "executor": {"jobs": 1},
        "downstream": {"schedule": "paper"}, **extra}))
    return path


def bench(*args, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "care_superb.cli", "bench", *map(str, args)], env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def start(file: Path, log: Path, ignore_sigint: bool = False) -> subprocess.Popen:
    # Its own session: killing it kills the bench process and its submitit jobs, as a lost
    # terminal or a cluster's OOM killer would. ignore_sigint: as `care-superb bench ... &` in a
    # shell script starts it.
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    return subprocess.Popen([sys.executable, "-m", "care_superb.cli", "bench", str(file)], env=ENV,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=ignore)


def kill_when(process: subprocess.Popen, ready, timeout=600) -> None:
    deadline = time.time() + timeout
    while not ready():
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def signal_when(process: subprocess.Popen, signum: int, ready, timeout=600) -> list[int]:
    """Sends ``signum`` to the bench process alone once ``ready()``; returns what still runs in its
    session (its jobs and theirs) once it has exited."""
    deadline = time.time() + timeout
    while not ready():
        assert process.poll() is None, "the run ended before it could be signalled"
        assert time.time() < deadline
        time.sleep(0.05)
    assert len(session(process.pid)) >= 3, "no jobs were running"  # bench, a job's controller, its task
    process.send_signal(signum)
    process.wait(timeout=120)
    time.sleep(1.0)  # an orphan would still be running; a process being reaped is not counted
    left = session(process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever was left, not to outlive a failing test
    except ProcessLookupError:
        pass
    return left


def session(sid: int) -> list[str]:
    found = []
    for p in psutil.process_iter(["pid", "status", "cmdline"]):
        try:
            if os.getsid(p.pid) == sid and p.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(" ".join(p.info["cmdline"] or [])[:200])
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return found


def rows(out: Path) -> dict:
    found = {}
    for path in sorted((out / "cells").rglob("result-test-dev-best.json")):
        row = json.loads(path.read_text())
        predictions = json.loads((path.parent / row["predictions"]).read_text())["predictions"]
        found[row["benchmark"]["cell"]] = (row["metrics"], [(p["key"], p["pred"]) for p in predictions])
    return found


def assert_same_rows(got: dict, expected: dict) -> None:
    """The same cells, each on the same test utterances with the same predictions, but for a near
    tie: the runs' features and heads were computed in other processes, whose floating point may
    differ in the last bits on some CPUs, and a near tie can then break the other way. A cell from
    a wrong or half-written cache, or trained twice on mixed data, differs far more."""
    assert got.keys() == expected.keys()
    for cell, (_, predictions) in expected.items():
        mine = got[cell][1]
        assert [k for k, _ in mine] == [k for k, _ in predictions], cell
        differ = sum(a != b for (_, a), (_, b) in zip(mine, predictions))
        assert differ <= max(1, len(predictions) // 50), (cell, differ, len(predictions))


def test_killed_twice_and_restarted_it_ends_with_the_same_rows(tmp_path, synth_root):
    root = synth_root("emodb")
    ups = [{"name": "fbank_no_cmvn", "label": "mel", "category": "base"},
           {"name": "care_local", "label": "care", "category": "base", "random": {"family": "care", "size": "tiny"}}]
    tasks = {"emodb": {"root": str(root), "downstream": {"runner": RUNNER}}}
    reference = bench_file(tmp_path / "ref.yaml", tmp_path / "ref", ups, tasks)
    done = bench(reference)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    expected = rows(tmp_path / "ref")
    assert len(expected) == 4

    file = bench_file(tmp_path / "run.yaml", tmp_path / "run", ups, tasks)
    cache = tmp_path / "run" / "cache"
    # 1. killed during the extraction, once some shards are written
    kill_when(start(file, tmp_path / "1.log"), lambda: len(list(cache.glob("*/shard-*.pt"))) >= 2)
    # 2. restarted: it extracts only what is missing; killed again once a cell has finished
    kill_when(start(file, tmp_path / "2.log"), lambda: len(rows(tmp_path / "run")) >= 1)
    second = (tmp_path / "2.log").read_text()
    counts = [line.split(": ")[1].split(" utterances")[0] for line in second.splitlines()
              if line.startswith("[bench] cache ") and " of 280 utterances cached" in line]
    assert counts and any(0 < int(c.split(" of ")[0]) < 280 for c in counts), second[-3000:]
    finished = len(rows(tmp_path / "run"))
    assert 1 <= finished < 4
    # 3. restarted to the end: the finished cells are skipped, the rest run
    done = bench(file)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"4 cells ({finished} done, 0 failed)" in done.stdout
    assert f"[bench] {4 - finished} cells in 1 local jobs" in done.stdout
    assert_same_rows(rows(tmp_path / "run"), expected)
    assert "primary metric per upstream and task" in done.stdout and (tmp_path / "run" / "summary.csv").is_file()

    # The rows feed the leaderboard, labelled and grouped by the benchmark file.
    assert main(["leaderboard", str(tmp_path / "run" / "cells"), "--out", str(tmp_path / "board")]) == 0
    table = (tmp_path / "board" / "table2.md").read_text()
    assert "mel" in table and "care" in table and "base" in table
    row = json.loads(next((tmp_path / "run" / "cells" / "care").rglob("result-test-dev-best.json")).read_text())
    assert row["engine"] == "cached" and row["benchmark"]["category"] == "base"
    assert row["upstream"]["provenance"]["random_weights"] is True
    assert list((tmp_path / "run" / "cells" / "care").rglob("events.out.tfevents.*"))  # TensorBoard per cell


def test_sigterm_and_sighup_stop_its_jobs_as_ctrl_c_does_and_a_restart_resumes(tmp_path, synth_root):
    ups = [{"name": "fbank_no_cmvn", "label": "mel", "category": "base"},
           {"name": "care_local", "label": "care", "category": "base", "random": {"family": "care", "size": "tiny"}}]
    tasks = {"emodb": {"root": str(synth_root("emodb")), "downstream": {"runner": RUNNER}}}
    out = tmp_path / "run"
    file = bench_file(tmp_path / "run.yaml", out, ups, tasks, executor={"jobs": 2})
    # 1. SIGTERM (`kill`, a scheduler) during the extraction, the run started with SIGINT ignored
    #    as from a background shell: before, its two extraction jobs went on running.
    first = start(file, tmp_path / "1.log", ignore_sigint=True)
    left = signal_when(first, signal.SIGTERM, lambda: len(list((out / "cache").glob("*/shard-*.pt"))) >= 2)
    log = (tmp_path / "1.log").read_text()
    assert left == [], log[-3000:]
    assert first.returncode == 130 and "interrupted; finished cells and cached features are kept" in log
    # 2. SIGHUP (the terminal closed) once a cell has finished; the extraction is resumed first
    second = start(file, tmp_path / "2.log")
    left = signal_when(second, signal.SIGHUP, lambda: len(rows(out)) >= 1)
    log = (tmp_path / "2.log").read_text()
    assert left == [], log[-3000:]
    assert second.returncode == 130
    cached = [int(line.split(": ")[1].split(" of ")[0]) for line in log.splitlines()
              if line.startswith("[bench] cache ") and " of 280 utterances cached" in line]
    assert cached and any(0 < c < 280 for c in cached), log[-3000:]
    # 3. run again: the finished cells are skipped and the rest complete
    finished = len(rows(out))
    assert 1 <= finished < 4
    done = bench(file)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"4 cells ({finished} done, 0 failed)" in done.stdout and len(rows(out)) == 4


def test_a_failed_cell_is_recorded_the_run_goes_on_and_retry_redoes_it(tmp_path, synth_root):
    ups = [{"name": "fbank_no_cmvn", "label": "mel"}]
    good = {"emodb": {"root": str(synth_root("emodb")), "downstream": {"runner": RUNNER}},
            "cafe": {"root": str(synth_root("cafe")), "downstream": {"runner": RUNNER}}}
    bad = json.loads(json.dumps(good))
    bad["cafe"]["downstream"]["optimizer"] = {"name": "NoSuchOptimizer", "lr": 1e-4}
    file = bench_file(tmp_path / "b.yaml", tmp_path / "out", ups, bad, seeds=[0])
    first = bench(file)
    assert first.returncode == 1
    assert "1 of 2 cells done, 1 failed" in first.stdout
    assert "FAILED mel/cafe/default/seed0: NameError: name 'get_NoSuchOptimizer' is not defined" in first.stdout
    assert "rerun with --retry-failed" in first.stdout
    assert (tmp_path / "out/cells/mel/emodb/default/seed0/result-test-dev-best.json").is_file()

    bench_file(file, tmp_path / "out", ups, good, seeds=[0])  # the user fixes the file
    skipped = bench(file)
    assert skipped.returncode == 1 and "skipped: --retry-failed reruns them" in skipped.stdout
    # ... and meanwhile a cache shard got truncated on disk
    shard = sorted((tmp_path / "out" / "cache").glob("fbank_no_cmvn-*/shard-*.pt"))[0]
    shard.write_bytes(shard.read_bytes()[:-500])
    retried = bench(file, "--retry-failed")
    assert retried.returncode == 0, retried.stdout[-3000:] + retried.stderr[-3000:]
    assert f"{shard}: unreadable cache shard" in retried.stdout and "will be extracted again" in retried.stdout
    assert "2 of 2 cells done, 0 failed" in retried.stdout
    assert not (tmp_path / "out/cells/mel/cafe/default/seed0/bench-error.json").exists()


def test_the_s3prl_engine_runs_s3prls_runner_and_writes_the_same_row_schema(tmp_path, synth_root):
    root = synth_root("emodb")
    ups = [{"name": "fbank_no_cmvn", "label": "mel"}]
    tasks = {"emodb": {"root": str(root), "downstream": {"runner": {**RUNNER, "total_steps": 20}}}}
    file = bench_file(tmp_path / "b.yaml", tmp_path / "s3prl", ups, tasks, seeds=[3])
    done = bench(file, "--engine", "s3prl")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cell = tmp_path / "s3prl/cells/mel/emodb/default/seed3"
    log = (cell / "bench-log.txt").read_text()
    assert "$ python run_downstream.py -m train -u fbank_no_cmvn -d emodb" in log and "--seed 3" in log
    assert f"$ python run_downstream.py -m evaluate -e {cell}/dev-best.ckpt" in log
    s3prl_row = json.loads((cell / "result-test-dev-best.json").read_text())
    assert s3prl_row["engine"] == "s3prl" and s3prl_row["seed"] == 3
    assert s3prl_row["benchmark"]["cell"] == "mel/emodb/default/seed3"
    assert not list((tmp_path / "s3prl").rglob("shard-*.pt"))  # no cache: the forward ran at every step
    bench_file(file, tmp_path / "cached", ups, tasks, seeds=[3])
    assert bench(file).returncode == 0
    cached_row = json.loads((tmp_path / "cached/cells/mel/emodb/default/seed3/result-test-dev-best.json").read_text())
    assert set(cached_row) == set(s3prl_row) and cached_row["engine"] == "cached"
    assert cached_row["config"] == s3prl_row["config"]  # one head config, whichever engine
    # The same seed: the same head and batches in both engines, so the same predictions up to
    # floating point (s3prl's runner builds the upstream first, which must not matter).
    theirs = rows(tmp_path / "s3prl")["mel/emodb/default/seed3"]
    ours = rows(tmp_path / "cached")["mel/emodb/default/seed3"]
    agree = sum(a == b for a, b in zip(theirs[1], ours[1]))
    assert [k for k, _ in theirs[1]] == [k for k, _ in ours[1]] and agree >= 0.95 * len(theirs[1])
    assert ours[0]["weighted_f1"] == pytest.approx(theirs[0]["weighted_f1"], abs=0.02)
