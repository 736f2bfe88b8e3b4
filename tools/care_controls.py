"""Does CARE's pre-training recipe teach the tiny CARE something its controls do not? Four
conditions at equal compute, each from the same random initialisations, on SYNTHETIC speech:

    random    the care-init checkpoint itself, never pre-trained
    shuffled  the recipe on the synthetic MSP-PODCAST, each utterance trained on another one's
              teacher vector (pretrain --shuffle-targets): training, front end included, without
              what the targets say
    blind     the recipe on the corpus's emotion-blind twin (synth --size demo-blind): the same
              speakers, emotions and prosody turn by turn, words independent of the emotion
    recipe    the recipe on the synthetic MSP-PODCAST (its words lean with the emotion in 80% of
              turns), as scripts/demo.sh runs it

at each of --seeds (care-init --seed s, then pretrain --seed s from it), 150 steps each (the
demo's length; sized so that the whole table takes about two hours on a shared 2-core machine).

    nice -n 10 python tools/care_controls.py [--out result/care_controls] [--seeds 0 1 2]

Stages, each resumable: run the same command again after an interruption and finished work is
kept (corpora, checkpoints, snapshots, dev scores, the choice, finished cells).

1. corpora (care-superb synth) and the initial checkpoints (care-superb care-init);
2. pre-training, keeping the checkpoint of each of --snapshots (50, 100, 150) steps
   (pretrain --keep-checkpoints: the validation points of one run);
3. the choice, on dev only: for each pre-trained condition and EmoDB speaker split, the snapshot
   whose tools/care_probe.py score (a probe fitted on the split's train speakers, scored on
   its dev speakers; no test utterance is read) is best on average over the pre-training seeds.
   It is written to choice.json before any test score exists and is never remade;
4. test, once: the EmoDB task itself (care-superb bench; the demo's head and schedule, from
   benchmark/configs/care_pretraining.yaml) on each split's test speakers, for the chosen
   snapshots and the random initialisations, --downstream-seeds each;
5. the table (table.md): test weighted F1 per condition, and each contrast as a paired
   difference (same initialisation, split and downstream seeds) with a 95% t-interval over the
   (pre-training seed, split) pairs.

It also prints what the generator gives away before any model is trained: a nearest-centroid
classifier on mean/std log-mel fitted to the pre-training corpus's anger / happiness / sadness /
neutral turns, scored on synthetic EmoDB's utterances of those four emotions (chance 0.25).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "care_superb.cli"]
CONDITIONS = ("random", "shuffled", "blind", "recipe")
PRETRAINED = CONDITIONS[1:]
SNAPSHOTS = (50, 100, 150)
SPLITS = (0, 1, 2)
# the recipe as scripts/demo.sh runs it on the demo corpus (tiny CARE, offline targets)
RECIPE = ["--teacher", "minilm", "--teacher-projection", "pca", "--acoustic-target", "logmel", "--lr", "1e-3",
          "--save-every", "50", "--threads", "1", "--quiet", "--keep-checkpoints"]
CORPORA = {"recipe": ("msp_podcast", "demo"), "shuffled": ("msp_podcast", "demo"), "blind": ("msp_podcast_blind", "demo-blind")}


def env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


def log(message: str) -> None:
    print(f"[controls {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(command: list[str], logfile: Path) -> None:
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "a") as f:
        f.write(f"$ {' '.join(command)}\n")
        f.flush()
        done = subprocess.run(command, env=env(), cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = logfile.read_text().splitlines()[-15:]
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n" + "\n".join(tail)
                         + f"\n(log: {logfile}; run the same command again: finished work is kept)")


def atomic_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


# -- 1, 2: corpora, initial checkpoints, pre-training ---------------------------------------------
def corpora(data: Path) -> dict[str, Path]:
    from care_superb.synth import synthesize

    made = {"emodb": synthesize("emodb", data / "emodb", seed=0, size="demo")}
    for folder, size in set(CORPORA.values()):
        made[folder] = synthesize("msp_podcast", data / folder, seed=0, size=size)
    return made


def init_checkpoint(out: Path, seed: int) -> Path:
    path = out / "init" / f"care-tiny-seed{seed}.pt"
    if not path.is_file():
        run(CLI + ["care-init", "--size", "tiny", "--seed", str(seed), "--out", str(path), "--exist-ok"],
            out / "logs" / f"init-seed{seed}.log")
    return path


def snapshot(out: Path, condition: str, seed: int, steps: int) -> Path:
    return out / "pretrain" / f"{condition}-seed{seed}" / f"step{steps}.pt"  # pretrain --keep-checkpoints


def pretrain(out: Path, roots: dict[str, Path], condition: str, seed: int, snapshots: list[int]) -> str:
    folder, _ = CORPORA[condition]
    corpus = roots[folder]
    run_dir = out / "pretrain" / f"{condition}-seed{seed}"
    command = CLI + ["pretrain", str(corpus / "Audios"), "--transcripts", str(corpus / "Transcripts"),
                     "--corpus-name", f"MSP-PODCAST (synthetic, {CORPORA[condition][1]})",
                     "--init", str(init_checkpoint(out, seed)), "--out", str(run_dir),
                     "--cache", str(out / "pretrain" / f"cache-{folder}"), "--seed", str(seed), *RECIPE]
    if condition == "shuffled":
        command.append("--shuffle-targets")
    started = time.perf_counter()
    if not all(snapshot(out, condition, seed, n).is_file() for n in snapshots):
        every = np.gcd.reduce(snapshots)  # a validation point (and a kept checkpoint) at each snapshot
        run(command + ["--steps", str(max(snapshots)), "--valid-every", str(every)],
            out / "logs" / f"pretrain-{condition}-seed{seed}.log")
    return f"{condition} seed {seed}: {time.perf_counter() - started:.0f} s"


# -- 3: the choice on dev ------------------------------------------------------------------------
def dev_scores(checkpoint: str, emodb: str, splits: tuple[int, ...]) -> dict:
    """care_probe's dev score of one checkpoint on each split (train -> dev speakers)."""
    import torch

    from care_probe import Features, dev_scores as probe, selection_splits

    torch.set_num_threads(1)
    features = Features(checkpoint)
    return {str(k): probe(features, selection_splits(emodb, k)) for k in splits}


def score_dev(out: Path, emodb: Path, checkpoints: dict[str, Path], splits: list[int], jobs: int) -> dict[str, dict]:
    results, todo = {}, []
    for name, ckpt in checkpoints.items():
        path = out / "dev" / f"{name}.json"
        if path.is_file() and all(str(k) in json.loads(path.read_text()) for k in splits):
            results[name] = json.loads(path.read_text())
        else:
            todo.append(name)
    if todo:
        log(f"dev probe: {len(todo)} checkpoints x {len(splits)} splits ({len(results)} already scored)")
        with ProcessPoolExecutor(jobs) as pool:
            futures = {name: pool.submit(dev_scores, str(checkpoints[name]), str(emodb), tuple(splits)) for name in todo}
            for name, future in futures.items():
                results[name] = future.result()
                atomic_json(out / "dev" / f"{name}.json", results[name])
    return results


def choose(out: Path, seeds: list[int], splits: list[int], snapshots: list[int], dev: dict[str, dict]) -> dict:
    """Per pre-trained condition and split, the snapshot with the best mean dev score over the
    pre-training seeds; written once, before any test score, and reused from then on."""
    path = out / "choice.json"
    if path.is_file():
        choice = json.loads(path.read_text())
        asked = {"seeds": seeds, "splits": splits, "snapshots": snapshots}
        if {key: choice[key] for key in asked} != asked:
            raise SystemExit(f"{path} was chosen for {({key: choice[key] for key in asked})}, not {asked}; "
                             "use another --out (a choice is never remade after test scores exist)")
        log(f"the choice on dev was made before ({path}); reused")
        return choice
    choice = {"seeds": seeds, "splits": splits, "snapshots": snapshots, "criterion": "care_probe dev weighted F1 (all layers), mean over pre-training seeds",
              "made": time.strftime("%Y-%m-%d %H:%M:%S"), "conditions": {}}
    for condition in PRETRAINED:
        choice["conditions"][condition] = {}
        for k in splits:
            means = {str(n): float(np.mean([dev[f"{condition}-seed{s}-step{n}"][str(k)]["all"] for s in seeds]))
                     for n in snapshots}
            best = max(snapshots, key=lambda n: (means[str(n)], -n))  # a tie: the shorter run
            choice["conditions"][condition][str(k)] = {"steps": best, "dev": means}
    choice["random_dev"] = {str(k): float(np.mean([dev[f"random-seed{s}"][str(k)]["all"] for s in seeds]))
                            for k in splits}
    atomic_json(path, choice)
    return choice


# -- 4: test, once -------------------------------------------------------------------------------
def label(condition: str, seed: int) -> str:
    return f"{condition} seed{seed}"


def test_benchmarks(out: Path, emodb: Path, downstream_seeds: list[int], choice: dict) -> list[Path]:
    import yaml

    files, seeds = [], choice["seeds"]
    for k in choice["splits"]:
        upstreams = [{"name": "care_local", "label": label("random", s), "category": "base",
                      "ckpt": str(init_checkpoint(out, s))} for s in seeds]
        for condition in PRETRAINED:
            steps = choice["conditions"][condition][str(k)]["steps"]
            upstreams += [{"name": "care_local", "label": label(condition, s), "category": "base",
                           "ckpt": str(snapshot(out, condition, s, steps))} for s in seeds]
        bench = {"base": str(REPO / "benchmark" / "configs" / "care_pretraining.yaml"),
                 "name": f"care_controls_split{k}", "output": str(out / "test" / f"split{k}"),
                 "cache": str(out / "test" / "cache"), "seeds": downstream_seeds, "upstreams": upstreams,
                 "tasks": {"emodb": {"root": str(emodb), "split_seeds": [k]}}}
        path = out / "test" / f"split{k}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# written by tools/care_controls.py: the test of the settings chosen on dev\n"
                        + yaml.safe_dump(bench, sort_keys=False))
        files.append(path)
    return files


def test_rows(out: Path) -> list[dict]:
    rows = []
    for path in sorted((out / "test").glob("split*/cells/**/result-test-dev-best.json")):
        row = json.loads(path.read_text())
        condition, seed = row["benchmark"]["label"].split(" seed")
        dev = json.loads((path.parent / "dev-best.json").read_text())["metrics"][row["primary_metric"]]
        rows.append({"condition": condition, "seed": int(seed), "split": row["benchmark"].get("split_seed", row["benchmark"].get("split")),
                     "downstream_seed": row["seed"], "test": row["metrics"][row["primary_metric"]], "dev": dev})
    return rows


# -- 5: the table --------------------------------------------------------------------------------
def paired(frame, a: str, b: str) -> tuple[float, float, float, int]:
    """Mean of a - b over (pre-training seed, split), each a mean over downstream seeds, and its
    95% t-interval."""
    from scipy import stats

    cell = frame.groupby(["condition", "seed", "split"])["test"].mean()
    differences = (cell[a] - cell[b]).to_numpy()
    n = len(differences)
    mean, sem = float(differences.mean()), float(differences.std(ddof=1) / np.sqrt(n))
    half = float(stats.t.ppf(0.975, n - 1) * sem)
    return mean, mean - half, mean + half, n


def table(out: Path, rows: list[dict], choice: dict, leak: dict | None) -> str:
    import pandas as pd
    from tabulate import tabulate

    frame = pd.DataFrame(rows)
    n_runs, splits = frame.groupby("condition").size(), choice["splits"]
    lines = []
    for condition in CONDITIONS:
        part = frame[frame.condition == condition]
        steps = ("-" if condition == "random" else
                 " / ".join(str(choice["conditions"][condition][str(k)]["steps"]) for k in splits))
        by_seed = part.groupby("seed")["test"].mean()
        lines.append({"condition": condition, f"steps chosen on dev (split {' / '.join(map(str, splits))})": steps,
                      "test WF1 mean ± sd": f"{part.test.mean():.3f} ± {part.test.std(ddof=1):.3f}",
                      **{f"split {k}": f"{part[part.split == k].test.mean():.3f}" for k in splits},
                      "per pre-training seed": " ".join(f"{v:.3f}" for v in by_seed),
                      "dev-best (task)": f"{part.dev.mean():.3f}", "runs": int(n_runs.get(condition, 0))})
    main = tabulate(pd.DataFrame(lines), headers="keys", tablefmt="github", showindex=False)
    contrasts = []
    for a, b in (("shuffled", "random"), ("blind", "random"), ("recipe", "random"),
                 ("recipe", "shuffled"), ("recipe", "blind")):
        mean, low, high, n = paired(frame, a, b)
        contrasts.append({"contrast": f"{a} - {b}", "mean difference": f"{mean:+.3f}",
                          "95% interval": f"[{low:+.3f}, {high:+.3f}]", "pairs": n})
    text = [f"EmoDB (synthetic, demo size), test weighted F1 of the task's head; {len(frame)} runs", "", main, "",
            "paired differences (same initialisation, split and downstream seeds; t-interval over "
            "(pre-training seed, split) pairs, which share splits, so it is if anything too narrow):", "",
            tabulate(pd.DataFrame(contrasts), headers="keys", tablefmt="github", showindex=False)]
    if leak:
        text += ["", "what the generator gives away (nearest centroid on mean/std log-mel, fitted to the "
                 f"pre-training corpus, on EmoDB's anger / happiness / sadness / neutral; chance 0.25): "
                 f"accuracy {leak['accuracy']:.2f} on {leak['n']} utterances"]
    rendered = "\n".join(text) + "\n"
    (out / "table.md").write_text(rendered)
    return rendered


def generator_leak(pretraining: Path, emodb: Path) -> dict:
    """Nearest-centroid on per-utterance mean and std of log-mel: fitted to the pre-training
    corpus's A / H / S / N turns, scored on EmoDB's anger / happiness / sadness / neutral."""
    import csv

    from sklearn.neighbors import NearestCentroid
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from care_superb.downstream.emodb import corpus as emodb_corpus
    from care_superb.upstream.care.pretraining.inputs import read_audio
    from care_superb.upstream.care.pretraining.targets import LogMel

    logmel = LogMel(80)
    names = {"A": "anger", "H": "happiness", "S": "sadness", "N": "neutral"}

    def features(path: Path) -> np.ndarray:
        frames = logmel(read_audio(path), "")
        return np.concatenate([frames.mean(0), frames.std(0)])

    with open(pretraining / "Labels" / "labels_consensus.csv", newline="") as f:
        train = [(pretraining / "Audios" / r["FileName"], names[r["EmoClass"]]) for r in csv.DictReader(f)
                 if r["EmoClass"] in names]
    test = [(u.path, u.label) for u in emodb_corpus.prepare(emodb).utterances if u.label in names.values()]
    model = make_pipeline(StandardScaler(), NearestCentroid())
    model.fit(np.stack([features(p) for p, _ in train]), [y for _, y in train])
    predicted = model.predict(np.stack([features(p) for p, _ in test]))
    return {"accuracy": float(np.mean(predicted == np.array([y for _, y in test]))), "n": len(test)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="result/care_controls")
    parser.add_argument("--data", default="data/synthetic", help="where the synthetic corpora are (made if missing)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="pre-training seeds")
    parser.add_argument("--downstream-seeds", type=int, nargs="+", default=[0, 1],
                        help="the head's seeds per checkpoint and split (default 0 1: the variance that "
                        "matters is between pre-training seeds and splits)")
    parser.add_argument("--jobs", type=int, default=2, help="processes at once")
    parser.add_argument("--snapshots", type=int, nargs="+", default=list(SNAPSHOTS),
                        help="pre-training steps to choose from on dev; the last is every run's length")
    parser.add_argument("--splits", type=int, nargs="+", default=list(SPLITS), help="EmoDB speaker splits")
    args = parser.parse_args()
    out, data = Path(args.out).resolve(), Path(args.data).resolve()
    started = time.perf_counter()

    roots = corpora(data)
    leak_file = out / "generator_leak.json"
    if not leak_file.is_file():
        atomic_json(leak_file, generator_leak(roots["msp_podcast"], roots["emodb"]))
    leak = json.loads(leak_file.read_text())
    log(f"what the generator gives away: nearest centroid fitted to the pre-training corpus, EmoDB's "
        f"A/H/S/N at {leak['accuracy']:.2f} accuracy (chance 0.25)")
    for seed in args.seeds:
        init_checkpoint(out, seed)
    runs = [(c, s) for s in args.seeds for c in PRETRAINED]
    log(f"pre-training {len(runs)} runs ({', '.join(PRETRAINED)} x seeds {args.seeds}), snapshots {args.snapshots}")
    with ThreadPoolExecutor(args.jobs) as pool:
        for message in pool.map(lambda r: pretrain(out, roots, *r, args.snapshots), runs):
            log(f"  done: {message}")

    checkpoints = {f"random-seed{s}": init_checkpoint(out, s) for s in args.seeds}
    checkpoints.update({f"{c}-seed{s}-step{n}": snapshot(out, c, s, n) for c, s in runs for n in args.snapshots})
    dev = score_dev(out, roots["emodb"], checkpoints, args.splits, args.jobs)
    choice = choose(out, args.seeds, args.splits, args.snapshots, dev)
    for condition in PRETRAINED:
        log(f"chosen on dev, {condition}: " + ", ".join(
            f"split {k} -> {v['steps']} steps (dev {v['dev'][str(v['steps'])]:.3f})"
            for k, v in choice["conditions"][condition].items()))

    for bench in test_benchmarks(out, roots["emodb"], args.downstream_seeds, choice):
        log(f"test: care-superb bench {bench}")
        run(CLI + ["bench", str(bench)], out / "logs" / f"{bench.stem}.log")
    print(table(out, test_rows(out), choice, leak))
    log(f"done in {time.perf_counter() - started:.0f} s; table: {out / 'table.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
