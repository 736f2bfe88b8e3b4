"""The leaderboard on result rows written in the contracts' format (tests/leaderboard_rows.py)."""
from __future__ import annotations

import json
import statistics
import zlib

import numpy as np
import pandas as pd
import pytest

from care_superb.leaderboard import figures, stats
from care_superb.leaderboard.aggregate import build_cells
from care_superb.leaderboard.make import make_leaderboard
from care_superb.leaderboard.rows import LeaderboardError, find_row_files, load_rows
from care_superb.leaderboard.scoring import Scorer, known_tasks
from care_superb.leaderboard.tables import TABLES, build_table
from leaderboard_rows import labels, predict, write_row

TASK_CLASSES = {"emodb": 7, "ravdess_song": 6, "cafe": 7, "meld": 7, "cmu_mosi": 2, "iemocap4": 4, "iemocap6": 6}


def table_csv(out, name="table2") -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", comment="#")


def cell(df: pd.DataFrame, upstream: str, column: str) -> pd.Series:
    found = df[(df.upstream == upstream) & (df.column == column)]
    assert len(found) == 1, (upstream, column, df)
    return found.iloc[0]


def classification_row(root, task, upstream, accuracy, n=120, seed=1337, data_seed=0, **kw):
    k = TASK_CLASSES[task]
    y = labels(n, k, seed=data_seed)
    return write_row(root / upstream / task / f"{kw.get('fold')}-{seed}", task, upstream, y,
                     predict(y, accuracy, k, seed=zlib.crc32(f"{upstream}/{seed}/{kw.get('fold')}".encode())), seed=seed, **kw)


def daic_row(root, upstream, accuracy, seed=1337, objective=None, **kw):
    """Interview segments: keys <recording>/segNN, outputs [class, probabilities]."""
    keys, targets = [], []
    for rec in range(12):
        label = rec % 2
        for s in range(5):
            keys.append(f"{300 + rec}_P/seg{s:02d}")
            targets.append(label)
    classes = predict(targets, accuracy, 2, seed=seed)
    outputs = [[c, [0.3, 0.7] if c else [0.7, 0.3]] for c in classes]
    return write_row(root / upstream / "daic_woz" / str(seed), "daic_woz", upstream, targets, outputs, keys,
                     seed=seed, objective=objective or {}, units=[k.split("/")[0] for k in keys], unit="interview", **kw)


# -- aggregation -----------------------------------------------------------------------------------

def test_folds_are_averaged_within_a_seed_then_mean_and_std_across_seeds(tmp_path):
    rows = tmp_path / "rows"
    for seed, base in ((1, 0.5), (2, 0.7)):
        for fold in range(1, 6):
            classification_row(rows, "iemocap4", "hubert", base + 0.04 * fold, n=60 + 10 * fold, seed=seed,
                               data_seed=fold, fold=fold)
    # a third seed lacking fold 5: left out, and said so
    for fold in range(1, 5):
        classification_row(rows, "iemocap4", "hubert", 0.9, n=60 + 10 * fold, seed=3, data_seed=fold, fold=fold)
    text, _ = make_leaderboard([rows], tmp_path / "out")

    wf1 = {}
    for path in sorted(rows.rglob("result-test-*.json")):
        row = json.loads(path.read_text())
        wf1.setdefault(row["seed"], {})[row["protocol"]["fold"]] = row["metrics"]["weighted_f1"]
    per_seed = [statistics.fmean(wf1[s].values()) for s in (1, 2)]
    got = cell(table_csv(tmp_path / "out"), "hubert", "IEMOCAP-4")
    assert got["mean"] == pytest.approx(100 * statistics.fmean(per_seed), abs=1e-8)
    assert got["std"] == pytest.approx(100 * statistics.stdev(per_seed), abs=1e-8)
    # not the std over all ten rows: the order of averaging matters
    assert got["std"] != pytest.approx(100 * statistics.stdev([*wf1[1].values(), *wf1[2].values()]), abs=1e-3)
    assert got["n_seeds"] == 2
    assert "seed 3 left out, it lacks fold 5, split seed 0" in text


def test_tables_have_the_papers_shape_and_missing_cells_stay_missing(tmp_path):
    rows = tmp_path / "rows"
    for task in ("iemocap4", "iemocap6", "meld", "cmu_mosi", "ravdess_song", "cafe", "emodb"):
        classification_row(rows, task, "care", 0.8, n=40, category="base")
        classification_row(rows, task, "sonar", 0.6, n=40, category="large")
        classification_row(rows, task, "care_acoustic", 0.7, n=40, category="base")
    daic_row(rows, "care", 0.8, category="base")
    daic_row(rows, "care_acoustic", 0.7, category="base")
    classification_row(rows, "emodb", "fbank_no_cmvn", 0.4, n=40, category=None)  # no benchmark block
    y = np.random.default_rng(0).normal(size=(40, 3))
    write_row(rows / "care" / "msp", "msp_improv", "care", y.tolist(), (0.8 * y).tolist(), fold=0, split_seed=0)
    text, written = make_leaderboard([rows], tmp_path / "out")
    out = tmp_path / "out"

    header = (out / "table2.md").read_text().splitlines()[2]
    titles = [c.strip() for c in header.strip("|").split("|")]
    assert titles == ["group", "upstream", "IEMOCAP-4", "IEMOCAP-6", "MELD", "CMU-MOSI", "DAIC-WOZ", "RAVDESS-Song",
                      "CaFE", "EmoDB", "Average"]
    t2 = table_csv(out)
    assert list(dict.fromkeys(t2.group)) == ["base", "large", "uncategorised"]
    assert "care_acoustic" not in set(t2.upstream)  # ablations are Table IV's
    assert "uncategorised: rows without benchmark.category" in text
    # the average of all eight columns, and missing where one is missing (never a zero)
    care = t2[t2.upstream == "care"].set_index("column")
    assert care.loc["Average", "mean"] == pytest.approx(care["mean"].drop("Average").mean(), abs=1e-8)
    assert pd.isna(cell(t2, "sonar", "DAIC-WOZ")["mean"]) and pd.isna(cell(t2, "sonar", "Average")["mean"])
    sonar_line = next(line for line in (out / "table2.md").read_text().splitlines() if "| sonar" in line)
    assert sonar_line.count("–") == 2 and " 0.0 " not in sonar_line
    assert "--" in (out / "table2.tex").read_text()

    t4 = table_csv(out, "table4")
    assert list(dict.fromkeys(t4.group)) == ["CARE", "acoustic + common"]
    assert set(t4.upstream) == {"care", "care_acoustic"}
    t3 = table_csv(out, "table3")
    assert list(t3.column) == ["Valence", "Arousal", "Dominance", "Average"]
    assert t3.set_index("column").loc["Average", "mean"] == pytest.approx(
        json.loads((rows / "care" / "msp" / "result-test-dev-best.json").read_text())["metrics"]["mean_ccc"])
    assert {p.name for p in written} >= {"table2.md", "table2.csv", "table2.tex", "table3.tex", "table4.md",
                                         "table2_scores.png", "table2_scores.pdf", "leaderboard.md"}


def test_table_iv_needs_an_ablation_and_a_rerun_removes_what_it_no_longer_makes(tmp_path):
    rows, out = tmp_path / "rows", tmp_path / "out"
    classification_row(rows, "emodb", "care", 0.7)
    ablation = classification_row(rows, "emodb", "care_semantic_local", 0.6)
    make_leaderboard([rows], out)
    assert set(table_csv(out, "table4").group) == {"CARE", "semantic + common"}
    ablation.unlink()
    text, _ = make_leaderboard([rows], out)
    assert not (out / "table4.md").exists() and not (out / "table4_scores.png").exists()
    assert "Table IV: CARE and its encoders: not made" in text


# -- statistics ------------------------------------------------------------------------------------

def comparisons_csv(out, name="table2") -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.comparisons.csv", comment="#")


def interval(tmp_path, name, n):
    rows = tmp_path / name
    classification_row(rows, "emodb", "hubert", 0.7, n=n, units=[f"spk{i % 25}" for i in range(n)], unit="speaker")
    make_leaderboard([rows], tmp_path / f"{name}-out")
    return cell(table_csv(tmp_path / f"{name}-out"), "hubert", "EmoDB")


def test_interval_brackets_the_score_narrows_with_more_utterances_and_is_the_same_every_time(tmp_path):
    small, large = interval(tmp_path, "small", 100), interval(tmp_path, "large", 1600)
    for c in (small, large):
        assert c["ci_low"] < c["mean"] < c["ci_high"] and c["testable"] and c["conditional_on_one_head"]
    # about sqrt(100 / 1600) = 0.25 as wide
    assert (large["ci_high"] - large["ci_low"]) < 0.5 * (small["ci_high"] - small["ci_low"])
    again = interval(tmp_path, "small", 100)
    assert (again["ci_low"], again["ci_high"]) == (small["ci_low"], small["ci_high"])


def test_seeds_on_one_test_set_share_its_clusters(tmp_path):
    """Two seeds with the same predictions are one seed twice: no seed variance, and the clusters'
    variance is not halved as if the seeds were two test sets."""
    rows = tmp_path / "rows"
    y = labels(200, 7, seed=4)
    p = predict(y, 0.6, 7, seed=4)
    units = [f"spk{i % 20}" for i in range(200)]
    write_row(rows / "one", "emodb", "one", y, p, seed=1, units=units, unit="speaker")
    for seed in (1, 2):
        write_row(rows / f"two-{seed}", "emodb", "two", y, p, seed=seed, units=units, unit="speaker")
    make_leaderboard([rows], tmp_path / "out")
    one, two = (cell(table_csv(tmp_path / "out"), u, "EmoDB") for u in ("one", "two"))
    assert two["ci_high"] - two["ci_low"] == pytest.approx(one["ci_high"] - one["ci_low"], rel=1e-6)
    assert two["std"] == 0 and two["se_seeds"] == 0 and pd.isna(one["std"])


def test_interview_metric_is_linearised_over_recordings_not_segments(tmp_path):
    path = daic_row(tmp_path, "care", 0.75, objective={"selection": "interview_weighted_f1"})
    (row,) = load_rows([path], known_tasks())
    scorer = Scorer([row], "interview_weighted_f1")
    assert scorer.n_units == 12 and scorer.batched is None  # the objective itself scores each resample
    contributions = stats.jackknife(scorer)
    assert contributions.shape == (12,) and abs(contributions.sum()) < 1e-9 and contributions.std() > 0


def paired(tmp_path, name, acc_a, acc_b, shuffle_b=False, same=False, seeds=(1, 2, 3)):
    rows = tmp_path / name
    y = labels(300, 7, seed=3)
    keys = [f"u{i:03d}" for i in range(300)]
    units = [f"spk{i % 30}" for i in range(300)]
    order = np.random.default_rng(0).permutation(300) if shuffle_b else np.arange(300)
    for seed in seeds:
        a = predict(y, acc_a, 7, seed=10 + seed)
        b = a if same else predict(y, acc_b, 7, seed=20 + seed)
        write_row(rows / f"a{seed}", "emodb", "alpha", y, a, keys, seed=seed, units=units, unit="speaker")
        write_row(rows / f"b{seed}", "emodb", "beta", [y[i] for i in order], [b[i] for i in order],
                  [keys[i] for i in order], seed=seed, units=[units[i] for i in order], unit="speaker")
    text, _ = make_leaderboard([rows], tmp_path / f"{name}-out")
    out = tmp_path / f"{name}-out"
    t2 = table_csv(out)
    (test,) = comparisons_csv(out).query("column == 'EmoDB'").itertuples()
    return cell(t2, "alpha", "EmoDB"), cell(t2, "beta", "EmoDB"), test, text


def test_paired_test_finds_a_clearly_better_system_and_pairs_utterances_by_key(tmp_path):
    alpha, beta, test, text = paired(tmp_path, "clear", 0.8, 0.55)
    assert test.family == "every pair of upstreams" and test.p_holm < 0.05 and test.better == "alpha"
    assert alpha["marker"] == "*" and beta["marker"] == "†"
    assert "| alpha" in text and "]*" in text and "]†" in text and "Holm" in text
    _, _, shuffled, _ = paired(tmp_path, "shuffled", 0.8, 0.55, shuffle_b=True)
    assert shuffled.p_value == pytest.approx(test.p_value, rel=1e-9)


def test_paired_test_finds_nothing_between_identical_systems(tmp_path):
    alpha, beta, test, text = paired(tmp_path, "same", 0.7, 0.7, same=True)
    assert test.p_value == 1.0 and test.difference == 0 and not test.significant
    assert pd.isna(alpha["marker"]) and pd.isna(beta["marker"])
    assert "significantly better" not in text  # no marker, so no footnote for it


def test_with_one_seed_nothing_is_tested_and_the_interval_says_it_is_conditional(tmp_path):
    alpha, beta, test, text = paired(tmp_path, "one", 0.9, 0.3, seeds=(1,))
    assert pd.isna(test.p_value) and "one training seed" in test.not_tested
    assert pd.isna(alpha["marker"]) and alpha["conditional_on_one_head"]
    assert "conditional on that one trained head" in text


@pytest.mark.parametrize("task", ["emodb", "daic_woz", "msp_improv"])
@pytest.mark.parametrize("cluster", [1, 4])  # utterances per resampled unit
def test_batched_metrics_equal_the_objective_on_any_resample(tmp_path, task, cluster):
    rng = np.random.default_rng(5)
    units = lambda n: [f"c{i // cluster}" for i in range(n)]  # noqa: E731
    if task == "emodb":
        y = labels(25, 7, seed=1)  # small: resamples miss classes
        paths = [write_row(tmp_path / s, task, s, y, predict(y, acc, 7, seed=i), units=units(25)) for i, (s, acc) in
                 enumerate((("a", 0.6), ("b", 0.3)))]
        metric = "weighted_f1"
    elif task == "daic_woz":
        paths = [daic_row(tmp_path, s, acc) for s, acc in (("a", 0.8), ("b", 0.5))]
        metric = "weighted_f1"
    else:
        y = rng.normal(size=(30, 3))
        paths = [write_row(tmp_path / s, task, s, y.tolist(), (w * y + rng.normal(size=y.shape)).tolist(), fold=0,
                           units=units(30)) for s, w in (("a", 0.9), ("b", 0.2))]
        metric = "arousal_ccc"
    rows = load_rows(paths, known_tasks())
    scorer = Scorer(rows, metric)
    assert scorer.batched is not None
    units = rng.integers(0, scorer.n_units, size=(40, scorer.n_units))
    source = rng.integers(0, 2, size=units.shape)
    np.testing.assert_allclose(scorer.batched(units, source), scorer._generic(units, source), rtol=0, atol=1e-12)


def test_a_batched_metric_that_disagrees_with_the_objective_is_dropped(tmp_path):
    y = labels(40, 7)
    (row,) = load_rows([write_row(tmp_path, "emodb", "a", y, predict(y, 0.6, 7))], known_tasks())
    scorer = Scorer([row], "weighted_f1")
    scorer.batched = lambda units, source: np.zeros(len(units))
    units = np.random.default_rng(0).integers(0, scorer.n_units, size=(5, scorer.n_units))
    with pytest.warns(UserWarning, match="disagrees with the Classification objective"):
        values = scorer(units)
    np.testing.assert_allclose(values, scorer._generic(units, np.zeros_like(units)))


# -- provenance markers, determinism, heads ----------------------------------------------------------

def test_synthetic_data_and_random_weights_are_marked_in_every_format_and_figure(tmp_path):
    rows = tmp_path / "rows"
    classification_row(rows, "emodb", "care", 0.7, synthetic=True, random_weights=True, layer_weights=[0.5, 0.25, 0.25])
    classification_row(rows, "cafe", "hubert", 0.6)  # real data: another corpus (never compared with synthetic)
    out = tmp_path / "out"
    make_leaderboard([rows], out)
    md, tex, raw_csv = ((out / f"table2.{s}").read_text() for s in ("md", "tex", "csv"))
    assert "| care§¶" in md and "| hubert " in md
    assert "§ results computed on SYNTHETIC data" in md and "¶ upstream with RANDOM (never trained) weights" in md
    assert "care\\S\\P" in tex and "\\S results computed on SYNTHETIC data" in tex and "\\P upstream with RANDOM" in tex
    assert "# § results computed on SYNTHETIC data" in raw_csv and "# ¶ upstream with RANDOM" in raw_csv
    t2 = table_csv(out)
    assert cell(t2, "care", "EmoDB")["synthetic_data"] and cell(t2, "care", "EmoDB")["random_weights"]
    assert not cell(t2, "hubert", "CaFE")["synthetic_data"]

    loaded = load_rows(find_row_files([rows]), known_tasks())
    table = build_table(TABLES[0], loaded, build_cells(loaded, list(TABLES[0].columns)), False)
    assert "SYNTHETIC DATA + RANDOM UPSTREAM WEIGHTS" in figures.scores(table).get_suptitle()
    profiles, notes = figures.layer_weights(loaded)
    assert "SYNTHETIC DATA" in profiles.get_suptitle()
    assert [line.get_label() for line in profiles.axes[0].get_lines()][0] == "care (synthetic data, random upstream weights)"
    assert any("No learned layer weights in the rows of hubert" in n for n in notes)
    assert (out / "layer_weights.png").is_file() and (out / "layer_weights.pdf").is_file()
    page = (out / "index.html").read_text()
    assert "care<span class=\"mark\"" in page and ">§¶</span>" in page and "RANDOM (never trained) weights" in page
    assert '<td data-value="synthetic data, random weights">' in page  # care's row says it in words
    assert '<td data-value="real data, trained weights">' in page  # and hubert's


def test_layer_weights_are_drawn_as_their_ratio_to_uniform_so_small_differences_show(tmp_path):
    """A short run moves s3prl's Featurizer little from uniform: 0.071-0.082 over 13 layers must not
    render as one flat colour (the old heatmap's 0..max scale did)."""
    rows = tmp_path / "rows"
    flat = np.linspace(0.071, 0.082, 13)
    for upstream, weights in (("care", flat), ("hubert", flat[::-1])):
        for seed in (1, 2):
            shifted = weights + (seed - 1.5) * 0.001
            classification_row(rows, "emodb", upstream, 0.7, seed=seed, layer_weights=(shifted / shifted.sum()).tolist())
    loaded = load_rows(find_row_files([rows]), known_tasks())
    fig, notes = figures.layer_weights(loaded)
    (ax,) = [a for a in fig.axes if a.get_lines()]
    lines = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert set(lines) == {"care", "hubert"} and notes == []
    for upstream, line in lines.items():
        weights = np.array([r.layer_weights for r in loaded if r.label == upstream])
        np.testing.assert_allclose(line.get_ydata(), 13 * weights.mean(0))  # mean over seeds, times the layers
    low, high = ax.get_ylim()
    # the axis spans the profiles (about 0.92-1.07), not 0..max: the two opposite slopes are plain to see
    assert 0.85 < low < 0.93 and 1.06 < high < 1.15
    assert any(round(line.get_ydata()[0], 6) == 1.0 for line in ax.get_lines())  # the uniform reference


def test_the_same_input_gives_byte_identical_output(tmp_path):
    rows = tmp_path / "rows"
    for seed in (1, 2):
        classification_row(rows, "emodb", "care", 0.7, seed=seed, synthetic=True, layer_weights=[0.2, 0.8])
        classification_row(rows, "emodb", "hubert", 0.6, seed=seed, synthetic=True, layer_weights=[0.6, 0.4])
    y = np.random.default_rng(0).normal(size=(30, 3))
    write_row(rows / "msp", "msp_improv", "care", y.tolist(), (0.5 * y).tolist(), fold=0)
    files = sorted(str(p) for p in rows.rglob("result-test-*.json"))
    make_leaderboard([rows], tmp_path / "one")
    make_leaderboard(list(reversed(files)), tmp_path / "two")  # same rows, other order
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert one.keys() == two.keys() and {"table2_scores.png", "layer_weights.pdf", "table3.tex", "index.html"} <= one.keys()
    assert [name for name in one if one[name] != two[name]] == []
    assert b"CreationDate" not in one["layer_weights.pdf"]
    # the page inlines SVG figures (ids from svg.hashsalt) and a regression scatter; no date in it
    assert one["index.html"].count(b"<svg") >= 3 and b"dc:date" not in one["index.html"]


def test_rows_with_different_heads_are_refused_unless_allowed(tmp_path):
    rows = tmp_path / "rows"
    a = classification_row(rows, "emodb", "care", 0.7)
    b = classification_row(rows, "emodb", "hubert", 0.6, head={"optimizer": {"name": "TorchOptim", "lr": 1e-3}})
    with pytest.raises(LeaderboardError) as err:
        make_leaderboard([rows], tmp_path / "out")
    message = str(err.value)
    assert str(a) in message and str(b) in message and "optimizer.lr = 0.0001 vs 0.001" in message
    assert "optimizer.torch_optim_name = \"AdamW\" vs absent" in message
    assert "--allow-mixed-heads" in message and "runner.total_steps" not in message
    text, _ = make_leaderboard([rows], tmp_path / "out", allow_mixed_heads=True)
    assert "Rows that are not comparable tabulated anyway (--allow-mixed-heads)" in text


# -- bad input -------------------------------------------------------------------------------------

def test_a_row_from_an_older_schema_names_the_file_and_the_fix(tmp_path):
    path = classification_row(tmp_path, "emodb", "care", 0.7)
    row = json.loads(path.read_text())
    for version in (None, 1):
        if version is None:
            row.pop("schema_version")
        else:
            row["schema_version"] = version
        path.write_text(json.dumps(row))
        with pytest.raises(LeaderboardError) as err:
            make_leaderboard([path], tmp_path / "out")
        assert str(path) in str(err.value) and "older schema" in str(err.value)
        assert f"python run_downstream.py -m evaluate -e {path.parent / 'dev-best.ckpt'}" in str(err.value)


def test_bad_rows_are_all_reported_at_once_with_their_files(tmp_path):
    missing = classification_row(tmp_path / "a", "emodb", "care", 0.7)
    (missing.parent / "predictions-test-dev-best.json").unlink()
    unknown = classification_row(tmp_path / "b", "emodb", "care", 0.7)
    unknown.write_text(json.dumps({**json.loads(unknown.read_text()), "task": "emodb2"}))
    first = classification_row(tmp_path / "c", "emodb", "hubert", 0.7)
    twin = tmp_path / "d" / "twin"
    twin.mkdir(parents=True)
    for f in first.parent.iterdir():
        (twin / f.name).write_bytes(f.read_bytes())
    with pytest.raises(LeaderboardError) as err:
        make_leaderboard([tmp_path], tmp_path / "out")
    message = str(err.value)
    assert "3 problem(s)" in message
    assert f"{missing}: its predictions file {missing.parent / 'predictions-test-dev-best.json'} is missing" in message
    assert f"{unknown}: unknown task 'emodb2'" in message
    assert f"{first} and {twin / first.name} are the same cell twice" in message


def test_predictions_that_do_not_give_the_rows_metric_are_refused(tmp_path):
    path = classification_row(tmp_path, "emodb", "care", 0.7)
    row = json.loads(path.read_text())
    row["metrics"]["weighted_f1"] += 0.1
    path.write_text(json.dumps(row))
    with pytest.raises(LeaderboardError, match="do not belong together"):
        make_leaderboard([path], tmp_path / "out")


def test_cli_prints_the_tables_and_reports_bad_input(tmp_path, capsys):
    from care_superb.cli import main

    classification_row(tmp_path / "rows", "emodb", "care", 0.7)
    assert main(["leaderboard", str(tmp_path / "rows"), "--out", str(tmp_path / "out"), "--resamples", "100"]) == 0
    printed = capsys.readouterr()
    assert "### Table II: classification" in printed.out and "| care" in printed.out
    assert "--resamples and --seed are ignored" in printed.err  # old scripts still run, and are told
    assert main(["leaderboard", str(tmp_path / "nothing"), "--out", str(tmp_path / "out")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


# -- resampling units, comparability, expected cells (issue 21) --------------------------------------

def edit_row(path, change) -> None:
    row = json.loads(path.read_text())
    change(row)
    path.write_text(json.dumps(row))


def test_clusters_are_named_and_a_column_with_too_few_is_not_tested_and_shows_its_range(tmp_path):
    rows = tmp_path / "rows"
    speakers = [f"spk{i % 2}" for i in range(120)]  # two test speakers, as an EmoDB split
    for upstream, accuracy in (("care", 0.8), ("hubert", 0.5)):
        for seed in (1, 2, 3):
            classification_row(rows, "emodb", upstream, accuracy, units=speakers, unit="speaker", seed=seed)
            classification_row(rows, "meld", upstream, accuracy, units=[f"dia{i // 4}" for i in range(120)],
                               unit="dialogue", seed=seed)
    text, _ = make_leaderboard([rows], tmp_path / "out")
    t2 = table_csv(tmp_path / "out")
    emodb, meld = cell(t2, "care", "EmoDB"), cell(t2, "care", "MELD")
    assert (emodb["resampling_unit"], emodb["min_clusters_per_test_set"]) == ("speaker", 2)
    assert (meld["resampling_unit"], meld["min_clusters_per_test_set"]) == ("dialogue", 30)
    assert ("EmoDB: metric weighted_f1; 1 fold(s) or split seed(s) per seed; 3 seed(s); clusters: speaker (2 per "
            "test set), 2 in all; not testable (smallest possible p = 0.5") in text
    md = (tmp_path / "out" / "table2.md").read_text()
    lines = md.splitlines()
    header = [c.strip() for c in lines[2].strip("|").split("|")]
    care = dict(zip(header, (c.strip() for c in next(x for x in lines if "| care " in x).strip("|").split("|"))))
    assert "[range " in care["EmoDB"] and care["EmoDB"].endswith("]‡") and "‡" not in care["MELD"], care
    assert "‡ not testable: fewer than 10 clusters" in md
    # the figures and the page say it too: a range drawn dotted, never a bar called a 95% interval
    page = (tmp_path / "out" / "index.html").read_text()
    assert figures.RANGE_NOTE in page and "[range " in page and "not testable (smallest possible p = 0.5" in page
    # each column is tested on its own test sets: 2 speakers are not tested at all, 30 dialogues are
    tests = comparisons_csv(tmp_path / "out").set_index("column")
    assert tests.loc["EmoDB", "not_tested"].startswith("not testable (smallest possible p = 0.5")
    assert tests.loc["MELD", "p_holm"] < 0.05 and cell(t2, "hubert", "MELD")["marker"] == "†"
    assert pd.isna(cell(t2, "hubert", "EmoDB")["marker"]) and not emodb["testable"] and pd.isna(emodb["ci_low"])
    # the range: each speaker's own score (averaged over the seeds), lowest and highest
    per_speaker = []
    for u in (0, 1):
        scores = [Scorer([r], "weighted_f1")._generic(np.array([[u]]), np.zeros((1, 1), int))[0]
                  for r in load_rows(find_row_files([rows / "care" / "emodb"]), known_tasks())]
        per_speaker.append(100 * statistics.fmean(scores))
    assert (emodb["range_low"], emodb["range_high"]) == pytest.approx((min(per_speaker), max(per_speaker)), abs=1e-8)


def test_rows_differing_in_data_protocol_or_test_utterances_are_refused_naming_the_setting(tmp_path):
    rows = tmp_path / "rows"
    a = classification_row(rows, "emodb", "care", 0.7)
    b = classification_row(rows, "emodb", "hubert", 0.6)
    edit_row(b, lambda r: r["config"]["downstream_expert"]["datarc"].update(label_map={"boredom": "neutral"},
                                                                           root="/elsewhere", num_workers=4))
    with pytest.raises(LeaderboardError) as err:
        make_leaderboard([rows], tmp_path / "out")
    message = str(err.value)
    assert str(a) in message and str(b) in message
    assert 'downstream_expert.datarc.label_map.boredom = absent vs "neutral"' in message
    assert "datarc.root" not in message and "num_workers" not in message  # where and how fast: not a protocol

    c = tmp_path / "other"
    classification_row(c, "emodb", "care", 0.7, n=120)
    classification_row(c, "emodb", "hubert", 0.6, n=110)  # same split, other test utterances
    with pytest.raises(LeaderboardError, match="are not on the same test utterances \\(120 vs 110"):
        make_leaderboard([c], tmp_path / "out")


def test_a_seed_missing_one_seeded_split_is_left_out_and_said_so(tmp_path):
    rows = tmp_path / "rows"
    made = {}
    for seed in (1, 2):
        for split in (0, 1):
            made[seed, split] = write_row(rows / f"s{seed}-{split}", "emodb", "care", labels(60, 7, split),
                                          predict(labels(60, 7, split), 0.6 + 0.1 * seed, 7, seed=split),
                                          seed=seed, split_seed=split)
    made[2, 1].unlink()
    text, _ = make_leaderboard([rows], tmp_path / "out")
    assert "care, EmoDB: seed 2 left out, it lacks split seed 1" in text
    got = cell(table_csv(tmp_path / "out"), "care", "EmoDB")
    assert got["n_seeds"] == 1


def test_cells_on_different_seeds_are_not_compared_and_say_why(tmp_path):
    """Issue 27's case: A on seeds 1, 2, 3 and B on 1, 2 must not be decided from their unequal means."""
    rows = tmp_path / "rows"
    units = [f"dia{i // 4}" for i in range(120)]
    for seed in (1, 2, 3):
        classification_row(rows, "meld", "care", 0.9, seed=seed, units=units, unit="dialogue")
    for seed in (1, 2):
        classification_row(rows, "meld", "hubert", 0.4, seed=seed, units=units, unit="dialogue")
    text, _ = make_leaderboard([rows], tmp_path / "out")
    (test,) = comparisons_csv(tmp_path / "out").query("column == 'MELD'").itertuples()
    assert pd.isna(test.p_value) and "different training seeds (1, 2, 3 vs 1, 2)" in test.not_tested
    assert "MELD, care vs hubert: not tested: different training seeds" in text
    t2 = table_csv(tmp_path / "out")
    assert pd.isna(cell(t2, "care", "MELD")["marker"]) and pd.isna(cell(t2, "hubert", "MELD")["marker"])
