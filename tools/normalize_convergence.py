"""What ``normalize: true`` (s3prl's ``--upstream_feature_normalize``: each layer's frames
layer-normed before the weighted sum) does to convergence under the paper's schedule, and whether
the pooled cache could store raw pooled layers and normalise later (issue 26, point 4).

1. Exactness: for a few utterances, the mean over frames of the layer-normed frames (what s3prl's
   head reads, and what the cache stores when normalize is on) against the layer norm of the
   mean (what normalising a raw pooled cache later would give). Layer norm divides each frame by
   its own standard deviation, so the two agree only when every frame has the same mean and
   spread; the relative difference says how far apart they are on real features.
2. Convergence: `care-superb bench` twice on a synthetic EmoDB (espeak-ng speech), normalize
   false and true, schedule paper (the task config's 500 steps at lr 1e-4), upstreams Whisper
   tiny.en's encoder (real weights, the packaged model) and log-mel; per upstream and setting the
   cells not converged, the dev-best step's fraction, the test weighted F1 and the linear probe.

    python tools/normalize_convergence.py [--seeds 0,1] [--workdir result/normalize-convergence]

Synthetic speech: the numbers show what normalisation does to the optimisation on these features,
not emotion recognition. Resumable: a second run reuses the corpus, the caches and finished cells.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def exactness(ckpt: str, root: Path, n: int) -> list[str]:
    import torch
    from torch.nn import functional as F

    from care_superb.benchmark.cache import Unit
    from care_superb.benchmark.extract import Extractor
    from care_superb.downstream.audio import load_audio

    lines = []
    for name, path in (("whisper_local", ckpt), ("fbank_no_cmvn", None)):
        extractor = Extractor(Unit(name, path, None, False))
        errors = []
        for wav in sorted(root.rglob("*.wav"))[:n]:
            states = extractor.states([torch.as_tensor(load_audio(wav, 16000))])[:, 0]  # L x T x D, alone
            exact = F.layer_norm(states, (states.shape[-1],)).mean(dim=1)  # L x D
            later = F.layer_norm(states.mean(dim=1), (states.shape[-1],))
            errors.append(((exact - later).norm(dim=-1) / exact.norm(dim=-1)).max().item())
        lines.append(f"| {name} | {extractor.layers} | {statistics.mean(errors):.3f} | {max(errors):.3f} |")
        del extractor
        torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--utterances", type=int, default=8, help="utterances for the exactness check")
    parser.add_argument("--workdir", default="result/normalize-convergence")
    args = parser.parse_args()
    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)

    from care_superb.synth import MARKER, synthesize
    from care_superb.upstream.whisper.packaged import locate

    root = work / "emodb"
    if not (root / MARKER).is_file():
        synthesize("emodb", root, seed=0, size="demo")
    ckpt = str(locate("tiny.en"))

    print("| upstream | layers | mean over utterances of max over layers: rel. difference | max |")
    print("|---|---|---|---|")
    print("\n".join(exactness(ckpt, root, args.utterances)))

    results = {}
    for normalize in (False, True):
        out = work / f"normalize-{str(normalize).lower()}"
        file = work / f"normalize-{str(normalize).lower()}.yaml"
        file.write_text(yaml.safe_dump({
            "name": f"normalize-{normalize}", "output": str(out), "cache": str(work / "cache"),
            "seeds": [int(s) for s in args.seeds.split(",")], "normalize": normalize,
            "upstreams": [{"name": "whisper_local", "label": "Whisper tiny.en", "ckpt": ckpt},
                          {"name": "fbank_no_cmvn", "label": "log-mel"}],
            "downstream": {"schedule": "paper"},
            "tasks": {"emodb": {"root": str(root)}},
            "executor": {"kind": "local", "jobs": 2, "threads_per_job": 1}}, sort_keys=False))
        code = subprocess.run([sys.executable, "-m", "care_superb.cli", "bench", str(file)], cwd=REPO).returncode
        if code != 0:
            sys.exit(f"care-superb bench {file} failed ({code}); run this again to resume")
        for path in sorted(out.rglob("result-test-dev-best.json")):
            row = json.loads(path.read_text())
            results.setdefault((row["benchmark"]["label"], normalize), []).append(row)

    print("\n| upstream | normalize | cells not converged | best dev score first reached, share of steps (mean) "
          "| test weighted F1 (mean) "
          "| linear probe |")
    print("|---|---|---|---|---|---|")
    for (label, normalize), rows in sorted(results.items()):
        conv = [r["convergence"] for r in rows]
        print(f"| {label} | {normalize} | {sum(c['converged'] is False for c in conv)} of {len(rows)} "
              f"| {statistics.mean(c['dev_best_fraction'] for c in conv):.2f} "
              f"| {100 * statistics.mean(r['metrics']['weighted_f1'] for r in rows):.1f} "
              f"| {100 * rows[0]['probe']['metrics']['weighted_f1']:.1f} |")


if __name__ == "__main__":
    main()
