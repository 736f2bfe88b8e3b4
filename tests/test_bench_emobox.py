"""care-superb bench over EmoBox's corpora: tasks.emobox.datasets lists the corpora (and their folds)."""
from __future__ import annotations

import textwrap

import pytest

from care_superb.benchmark import cells, spec
from care_superb.benchmark.run import plan
from care_superb.benchmark.spec import BenchmarkError


def write(tmp_path, text: str):
    path = tmp_path / "bench.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_cell_per_corpus_and_fold_each_with_its_dataset_and_fold(tmp_path, synth_root):
    root = synth_root("emobox")
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        seeds: [0]
        upstreams: [{{name: fbank_no_cmvn, label: mel}}]
        tasks:
          emobox: {{root: {root}, folds: [1, 2], datasets: {{emodb: [1, 2, 3], ravdess: null, cafe: [3]}}}}
        """)
    bench = spec.load(path)
    made = cells.expand(bench)
    assert [c.id for c in made] == ["mel/emobox/emodb-fold1/seed0", "mel/emobox/emodb-fold2/seed0",
                                    "mel/emobox/emodb-fold3/seed0", "mel/emobox/ravdess-fold1/seed0",
                                    "mel/emobox/ravdess-fold2/seed0", "mel/emobox/cafe-fold3/seed0"]
    datarc = {c.id: c.config["downstream_expert"]["datarc"] for c in made}
    assert (datarc["mel/emobox/cafe-fold3/seed0"]["dataset"], datarc["mel/emobox/cafe-fold3/seed0"]["fold"]) == ("cafe", 3)
    assert cells.record(made[0], {})["dataset"] == "emodb"
    todo, used = plan(bench, made, retry_failed=False)  # every corpus parsed and split before training
    assert len(todo) == 6 and all(used[c.id] for c in made)


def test_a_list_of_corpora_runs_each_on_the_tasks_folds(tmp_path, synth_root):
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        upstreams: [{{name: fbank_no_cmvn}}]
        tasks: {{emobox: {{root: {synth_root("emobox")}, folds: [1], datasets: [emodb, cafe]}}}}
        """)
    assert [c.dataset for c in cells.expand(spec.load(path))] == ["emodb", "cafe"]


def test_datasets_is_refused_where_it_means_nothing_or_is_malformed(tmp_path):
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        upstreams: [{{name: fbank_no_cmvn}}]
        tasks:
          emodb: {{datasets: [emodb]}}
          emobox: {{datasets: {{emodb: 3}}, datarc: {{dataset: ravdess}}}}
        """)
    with pytest.raises(BenchmarkError) as err:
        spec.load(path)
    text = str(err.value)
    assert "tasks.emodb.datasets: emodb reads one corpus; datasets is for a task over several" in text
    assert "tasks.emobox.datasets: expected a list of corpora or a mapping corpus -> list of folds" in text
    assert "tasks.emobox.datarc.dataset: set it with tasks.emobox.datasets" in text


def test_a_corpus_missing_from_the_checkout_stops_the_plan_naming_it(tmp_path, synth_root):
    path = write(tmp_path, f"""
        output: {tmp_path}/out
        upstreams: [{{name: fbank_no_cmvn}}]
        tasks: {{emobox: {{root: {synth_root("emobox")}, datasets: {{iemocap: [1]}}}}}}
        """)
    bench = spec.load(path)
    with pytest.raises(BenchmarkError, match=r"tasks.emobox \(iemocap\) \(fold 1\): .*not a corpus of this EmoBox checkout"):
        plan(bench, cells.expand(bench), retry_failed=False)
