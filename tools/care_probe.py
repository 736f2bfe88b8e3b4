"""A quick look at what CARE checkpoints' features carry about emotion, for choosing pre-training
settings: each layer's states mean-pooled per utterance, a logistic regression (scikit-learn) on
EmoDB's training speakers, weighted F1 on its dev speakers. It never loads a test speaker's
utterance: settings are chosen on dev, and the test split is read once, at the end, by the task
itself (tools/care_controls.py does both).

    python tools/care_probe.py CKPT [CKPT ...] [--root data/synthetic/emodb] [--split-seed 0]

``--split-seed`` is the task's ``datarc.split_seed`` (the seed of the speaker draw); the other split
settings are the task's own (downstream/emodb/config.yaml).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

ROOT = "data/synthetic/emodb"


def selection_splits(root: str, split_seed: int) -> dict[str, list]:
    """The task's train and dev utterances for the speaker draw ``split_seed``, drawn as its expert
    draws them (``task_splits``); the test part is dropped here, before anything is read."""
    from care_superb.benchmark.spec import merge, task_config
    from care_superb.downstream.expert import task_splits

    datarc = {"root": root, "split_seed": split_seed}
    conf = merge(task_config("emodb"), {"downstream_expert": {"datarc": datarc}})["downstream_expert"]
    splits = task_splits("emodb", conf).splits
    return {"train": splits["train"], "dev": splits["dev"]}


class Features:
    """Per-utterance features of one checkpoint (utterances x layers x width), each utterance's
    computed once however many splits ask for it."""

    def __init__(self, checkpoint: str):
        from care_superb.upstream.care.checkpoint import load_checkpoint

        self.model, self.metadata = load_checkpoint(checkpoint)
        self.memo: dict[str, np.ndarray] = {}

    @torch.no_grad()
    def __call__(self, utterances) -> np.ndarray:
        from care_superb.downstream.audio import load_audio

        for u in utterances:
            key = str(u.path)
            if key not in self.memo:
                wav = torch.from_numpy(load_audio(u.path))[None]
                states = self.model(wav).hidden_states("both")
                self.memo[key] = torch.stack([h[0].mean(0) for h in states]).numpy()
        return np.stack([self.memo[str(u.path)] for u in utterances])


def dev_scores(features: Features, splits: dict[str, list]) -> dict:
    """Dev weighted F1 of a probe fitted on train: per layer, and on all layers at once."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, x_dev = features(splits["train"]), features(splits["dev"])
    y_train = np.array([u.label for u in splits["train"]])
    y_dev = np.array([u.label for u in splits["dev"]])

    def score(train: np.ndarray, dev: np.ndarray) -> float:
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(train, y_train)
        return float(f1_score(y_dev, probe.predict(dev), average="weighted"))

    layers = [score(x_train[:, i], x_dev[:, i]) for i in range(x_train.shape[1])]
    every = score(x_train.reshape(len(x_train), -1), x_dev.reshape(len(x_dev), -1))
    return {"layers": layers, "all": every, "train": len(y_train), "dev": len(y_dev)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--root", default=ROOT)
    parser.add_argument("--split-seed", type=int, default=0, help="the task's datarc.split_seed (default 0)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    splits = selection_splits(args.root, args.split_seed)
    for ckpt in args.checkpoints:
        features = Features(ckpt)
        scores = dev_scores(features, splits)
        print(f"{ckpt}: dev weighted F1 per layer " + " ".join(f"{s:.2f}" for s in scores["layers"])
              + f" | all layers {scores['all']:.3f} | pretrained_on: {features.metadata.get('pretrained_on')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
