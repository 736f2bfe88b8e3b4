"""The leaderboard shows every task it has rows for: EmoBox's corpora get a table of their own, a
column per corpus with its folds averaged, and published numbers can be set beside ours."""
from __future__ import annotations

import statistics
import subprocess
import sys

import pytest

from care_superb.leaderboard.aggregate import build_cells
from care_superb.leaderboard.make import make_leaderboard
from care_superb.leaderboard.rows import LeaderboardError, find_row_files, load_rows
from care_superb.leaderboard.scoring import known_tasks
from care_superb.leaderboard.tables import TABLES, build_table
from care_superb.leaderboard.task_tables import tables_for
from leaderboard_rows import labels, predict, write_row

CLASSES = {"emodb": ["Angry", "Boredom", "Disgust", "Fear", "Happy", "Neutral", "Sad"],
           "ravdess": ["Angry", "Calm", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]}
FOLDS = {"emodb": (1, 2, 3), "ravdess": (1, 2)}
SKILL = {"wavlm": 0.8, "fbank": 0.4}


def emobox_rows(root, datasets=("emodb", "ravdess")):
    paths = []
    for label, skill in SKILL.items():
        for seed in (1, 2):
            for dataset in datasets:
                k = len(CLASSES[dataset])
                for fold in FOLDS[dataset]:
                    n = 40
                    y = labels(n, k, seed=fold)
                    # every test list has two speakers, as EmoBox's speaker folds do
                    paths.append(write_row(
                        root / label / dataset / f"fold{fold}" / f"seed{seed}", "emobox", label, y,
                        predict(y, skill, k, seed=seed * 10 + fold), keys=[f"{dataset}-{fold}-{i}" for i in range(n)],
                        seed=seed, fold=fold, units=[f"spk{fold}{i % 2}" for i in range(n)], unit="speaker",
                        objective={"classes": CLASSES[dataset], "selection": "unweighted_accuracy"},
                        protocol={"protocol": "published fold", "split_seed": 0, "fold": fold, "dataset": dataset}))
    return paths


def test_emobox_rows_make_a_table_with_a_column_per_corpus_and_folds_averaged(tmp_path):
    emobox_rows(tmp_path)
    rows = load_rows(find_row_files([tmp_path]), known_tasks())  # the same fold of two corpora is two cells
    assert {r.task for r in rows} == {"emobox/emodb", "emobox/ravdess"}
    specs = tables_for(rows)
    assert specs[:len(TABLES)] == list(TABLES) and len(specs) == len(TABLES) + 1
    spec = specs[-1]
    assert spec.name == "table_emobox" and [c.title for c in spec.columns] == ["emodb", "ravdess"]
    assert spec.what == "unweighted_accuracy (%)"
    cells = build_cells(rows, list(spec.columns))
    table = build_table(spec, rows, cells, allow_mixed_heads=False)
    for label in SKILL:
        mine = [r for r in rows if r.label == label and r.dataset == "emodb"]
        per_seed = [statistics.fmean(r.data["metrics"]["unweighted_accuracy"] for r in mine if r.seed == s) for s in (1, 2)]
        assert table.cell(label, "emobox/emodb").mean == pytest.approx(statistics.fmean(per_seed))
    assert table.cell("wavlm", "average").present


def test_without_rows_of_other_tasks_only_the_papers_tables_are_listed(tmp_path):
    assert tables_for([]) == list(TABLES)


def test_the_leaderboard_writes_the_emobox_table_and_published_numbers_beside_ours(tmp_path):
    emobox_rows(tmp_path / "rows")
    published = tmp_path / "emobox.csv"
    published.write_text("task,upstream,metric,value,source\n"
                         "emobox/emodb,wavlm,unweighted_accuracy,85.0,EmoBox intra-corpus\n"
                         "emobox/ravdess,wavlm,macro_f1,70.5,EmoBox intra-corpus\n"
                         "emobox/cremad,wavlm,unweighted_accuracy,75.0,EmoBox intra-corpus\n")
    out = tmp_path / "board"
    text, written = make_leaderboard([tmp_path / "rows"], out, published=published)
    assert (out / "table_emobox.md").is_file() and (out / "table_emobox.csv").is_file() and (out / "index.html").is_file()
    assert "emobox: 2 corpora" in text and "Table II: classification: not made" in text
    assert "Published numbers beside ours" in text
    beside = (out / "published.csv").read_text().splitlines()
    emodb = next(line for line in beside if line.startswith("emobox/emodb,wavlm,unweighted_accuracy"))
    rows = [r for r in load_rows(find_row_files([tmp_path / "rows"]), known_tasks())
            if r.label == "wavlm" and r.dataset == "emodb"]
    ours = 100 * statistics.fmean(statistics.fmean(r.data["metrics"]["unweighted_accuracy"] for r in rows if r.seed == s)
                                  for s in (1, 2))
    assert emodb.split(",")[3:5] == ["85.0", f"{round(ours, 2)}"]
    assert next(line for line in beside if line.startswith("emobox/cremad")).split(",")[4] == ""  # no rows of ours
    # A later run without the file removes what the earlier one wrote.
    make_leaderboard([tmp_path / "rows"], out)
    assert not (out / "published.md").exists()


def test_a_published_file_without_the_columns_is_refused_naming_them(tmp_path):
    emobox_rows(tmp_path / "rows", datasets=("emodb",))
    bad = tmp_path / "bad.csv"
    bad.write_text("dataset,model,ua\nemodb,wavlm,85\n")
    with pytest.raises(LeaderboardError, match="lacks the column"):
        make_leaderboard([tmp_path / "rows"], tmp_path / "board", published=bad)
    done = subprocess.run([sys.executable, "-m", "care_superb.cli", "leaderboard", str(tmp_path / "rows"), "--out",
                           str(tmp_path / "b2"), "--published", str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "task,upstream,metric,value" in done.stderr
