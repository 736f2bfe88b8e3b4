"""tools/care_controls.py: settings are chosen on dev once and never remade, the test
benchmarks are valid benchmark files that test exactly the chosen checkpoints, and the table's
paired differences are what an independent calculation gives."""
from __future__ import annotations

import json

import numpy as np
import pytest

import care_controls as controls  # tools/care_controls.py


def fake_dev(seeds, splits, snapshots, best: dict) -> dict:
    """Dev scores where ``best[(condition, split)]`` is the best snapshot (by 0.1)."""
    dev = {f"random-seed{s}": {str(k): {"all": 0.2} for k in splits} for s in seeds}
    for condition in controls.PRETRAINED:
        for s in seeds:
            for n in snapshots:
                dev[f"{condition}-seed{s}-step{n}"] = {
                    str(k): {"all": 0.3 + (0.1 if best[(condition, k)] == n else 0.0) + 0.01 * s} for k in splits}
    return dev


def test_the_choice_is_made_on_dev_once_and_never_remade(tmp_path):
    seeds, splits, snapshots = [0, 1, 2], [0, 1], [50, 100, 150]
    best = {(c, k): snapshots[(i + k) % 3] for i, c in enumerate(controls.PRETRAINED) for k in splits}
    choice = controls.choose(tmp_path, seeds, splits, snapshots, fake_dev(seeds, splits, snapshots, best))
    for (condition, k), n in best.items():
        assert choice["conditions"][condition][str(k)]["steps"] == n
    assert json.loads((tmp_path / "choice.json").read_text()) == choice
    # other dev scores later change nothing: the choice was made before any test score existed
    flipped = {key: (50 if n != 50 else 150) for key, n in best.items()}
    assert controls.choose(tmp_path, seeds, splits, snapshots, fake_dev(seeds, splits, snapshots, flipped)) == choice
    with pytest.raises(SystemExit, match="never remade"):
        controls.choose(tmp_path, [0, 1], splits, snapshots, {})


def test_the_test_benchmarks_are_valid_files_of_the_chosen_checkpoints(tmp_path, monkeypatch):
    from care_superb.benchmark import cells, spec

    seeds, splits, snapshots = [0, 1, 2], [0, 2], [50, 100]
    best = {(c, k): snapshots[k == 2] for c in controls.PRETRAINED for k in splits}
    monkeypatch.setattr(controls, "init_checkpoint", lambda out, s: out / "init" / f"care-tiny-seed{s}.pt")
    for s in seeds:
        (tmp_path / "init").mkdir(exist_ok=True)
        (tmp_path / "init" / f"care-tiny-seed{s}.pt").write_bytes(b"")
        for c in controls.PRETRAINED:
            for n in snapshots:
                controls.snapshot(tmp_path, c, s, n).parent.mkdir(parents=True, exist_ok=True)
                controls.snapshot(tmp_path, c, s, n).write_bytes(b"")
    choice = controls.choose(tmp_path, seeds, splits, snapshots, fake_dev(seeds, splits, snapshots, best))
    (tmp_path / "emodb").mkdir()
    files = controls.test_benchmarks(tmp_path, tmp_path / "emodb", [0, 1], choice)
    assert [f.name for f in files] == ["split0.yaml", "split2.yaml"]
    for k, path in zip(splits, files):
        bench = spec.load(path)
        planned = cells.expand(bench)
        assert len(planned) == len(controls.CONDITIONS) * len(seeds) * 2
        assert {c.split_seed for c in planned} == {k} and {c.task for c in planned} == {"emodb"}
        for cell in planned:
            condition, seed = cell.label.split(" seed")
            expected = (tmp_path / "init" / f"care-tiny-seed{seed}.pt" if condition == "random"
                        else controls.snapshot(tmp_path, condition, int(seed), best[(condition, k)]))
            assert cell.upstream.ckpt == str(expected)
        # the head and schedule are the demo's, the same for every upstream
        assert {c.config["runner"]["total_steps"] for c in planned} == {300}


def test_paired_differences_and_their_interval():
    from scipy import stats

    rng = np.random.default_rng(0)
    rows = [{"condition": c, "seed": s, "split": k, "downstream_seed": d, "test": rng.uniform(0.1, 0.4), "dev": 0.2}
            for c in controls.CONDITIONS for s in range(3) for k in range(3) for d in range(2)]
    import pandas as pd

    frame = pd.DataFrame(rows)
    mean, low, high, n = controls.paired(frame, "recipe", "random")
    by = {(r["condition"], r["seed"], r["split"]): [] for r in rows}
    for r in rows:
        by[(r["condition"], r["seed"], r["split"])].append(r["test"])
    differences = [np.mean(by[("recipe", s, k)]) - np.mean(by[("random", s, k)]) for s in range(3) for k in range(3)]
    interval = stats.t.interval(0.95, len(differences) - 1, loc=np.mean(differences), scale=stats.sem(differences))
    assert n == 9 and mean == pytest.approx(np.mean(differences))
    assert (low, high) == pytest.approx(interval)
