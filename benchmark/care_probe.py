"""A quick look at what CARE checkpoints' features carry about emotion, before the real task runs:
each layer's states mean-pooled per utterance, a logistic regression per layer (scikit-learn) on
EmoDB's training speakers, weighted F1 on its test speakers (the task's own split 0).

    python benchmark/care_probe.py CKPT [CKPT ...] [--root data/synthetic/emodb]

A diagnostic for choosing pre-training settings in minutes; the numbers that count come from
the EmoDB task (benchmark/configs/care_pretraining.yaml, after scripts/demo.sh).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch


def features(model, paths) -> np.ndarray:
    from care_superb.downstream.audio import load_audio

    rows = []
    with torch.no_grad():
        for path in paths:
            wav = torch.from_numpy(load_audio(path))[None]
            states = model(wav).hidden_states("both")
            rows.append(torch.stack([h[0].mean(0) for h in states]).numpy())
    return np.stack(rows)  # utterances x layers x width


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--root", default="data/synthetic/emodb")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from care_superb.benchmark.spec import merge, task_config
    from care_superb.downstream.expert import task_splits
    from care_superb.upstream.care.checkpoint import load_checkpoint

    # The task's own split, drawn as its expert draws it.
    conf = merge(task_config("emodb"), {"downstream_expert": {"datarc": {"root": args.root}}})["downstream_expert"]
    splits = task_splits("emodb", conf).splits
    utterances = splits["train"] + splits["test"]
    labels = np.array([u.label for u in utterances])
    is_test = np.array([i >= len(splits["train"]) for i in range(len(utterances))])
    for ckpt in args.checkpoints:
        model, metadata = load_checkpoint(ckpt)
        x = features(model, [u.path for u in utterances])
        scores = []
        for layer in range(x.shape[1]):
            probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            probe.fit(x[~is_test, layer], labels[~is_test])
            scores.append(f1_score(labels[is_test], probe.predict(x[is_test, layer]), average="weighted"))
        allx = x.reshape(len(x), -1)
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(allx[~is_test], labels[~is_test])
        every = f1_score(labels[is_test], probe.predict(allx[is_test]), average="weighted")
        print(f"{ckpt}: weighted F1 per layer " + " ".join(f"{s:.2f}" for s in scores)
              + f" | all layers {every:.3f} | pretrained_on: {metadata.get('pretrained_on')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
