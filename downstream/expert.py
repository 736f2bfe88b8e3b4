"""The one DownstreamExpert every task configures (s3prl's downstream contract).

s3prl builds it with the task's ``downstream_expert`` block and its own arguments; a task
folder's ``expert.py`` only names its row of ``registry.TASKS``::

    class DownstreamExpert(EmotionExpert):
        task = "emodb"
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from tqdm import tqdm

from care_superb.downstream import results
from care_superb.downstream.audio import AudioError, check_audio
from care_superb.downstream.corpus import CorpusError, Utterance
from care_superb.downstream.dataset import UtteranceDataset, make_loader
from care_superb.downstream.head import UtteranceHead
from care_superb.downstream.registry import TASKS
from care_superb.downstream.splits import SPLITS, check_disjoint
from care_superb.upstream import loaded_upstream


class EmotionExpert(nn.Module):
    task: str = ""

    def __init__(self, upstream_dim: int, upstream_rate: int, downstream_expert: dict, expdir: str, **kwargs):
        super().__init__()
        if self.task not in TASKS:
            raise ValueError(f"{type(self).__name__}.task must name a row of registry.TASKS, got {self.task!r}")
        self.spec = TASKS[self.task]
        self.conf = downstream_expert
        self.datarc = dict(downstream_expert["datarc"])
        self.expdir = Path(expdir)
        self.args = kwargs
        # Options of the objective (e.g. DAIC-WOZ's interview decision) come from the task config.
        self.objective = self.spec.objective(**(downstream_expert.get("objective") or {}))

        utterances, skipped = prepare_utterances(self.spec, self.datarc, self.objective)
        if skipped:
            results.write_json(self.expdir / "skipped.json", {"task": self.task, "skipped": skipped})
        self.splits, self.split_description = self.spec.protocol(utterances, self.datarc)
        check_disjoint(self.splits)
        self._record_split()

        modelrc = downstream_expert.get("modelrc", {})
        self.head = UtteranceHead(upstream_dim, self.objective.output_dim,
                                  pooling=modelrc.get("pooling", "mean"), hidden_dim=modelrc.get("hidden_dim", 256))
        # A buffer, so that it is saved in (and resumed from) s3prl's checkpoints.
        self.register_buffer("best_score", torch.tensor(float("-inf")))

    # -- data ---------------------------------------------------------------------------------
    def get_dataloader(self, split: str, epoch: int = 0):
        if split not in self.splits:
            raise ValueError(f"unknown split {split!r}; {self.task} has {', '.join(SPLITS)}")
        utts = self.splits[split]
        audio = {key: self.datarc[key] for key in ("sample_rate", "max_seconds", "min_seconds") if key in self.datarc}
        dataset = UtteranceDataset(utts, [self.objective.target(u.label) for u in utts], audio)
        return make_loader(dataset, int(self.datarc.get("batch_size", 32)), split == "train",
                           int(self.datarc.get("num_workers", 0)), self.objective.collate)

    # -- model --------------------------------------------------------------------------------
    def forward(self, split, features, targets, keys, records, **kwargs):
        lengths = torch.tensor([len(f) for f in features], device=features[0].device)
        padded = pad_sequence(features, batch_first=True)
        output = self.head(padded, lengths)
        targets = targets.to(output.device)
        loss = self.objective.loss(output, targets)
        records["loss"].append(loss.item())
        records["true"] += targets.tolist()
        records["pred"] += self.objective.predict(output.detach())
        records["key"] += list(keys)
        return loss

    # -- logging, model selection, result rows ------------------------------------------------
    def log_records(self, split, records, logger, global_step, batch_ids, total_batch_num, **kwargs):
        metrics = self.objective.metrics(records["true"], records["pred"], keys=records["key"])
        metrics["loss"] = float(torch.tensor(records["loss"]).mean()) if records["loss"] else float("nan")
        for name, value in metrics.items():
            logger.add_scalar(f"{self.task}/{split}-{name}", value, global_step=global_step)
        summary = " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
        tqdm.write(f"[{self.task}] {split} step {global_step}: {summary}")

        save_names = []
        score = metrics[self.objective.selection]
        if split == "dev" and score > self.best_score.item():
            self.best_score.fill_(score)
            save_names.append("dev-best.ckpt")
            results.write_json(self.expdir / "dev-best.json", {"step": global_step, "metrics": metrics})
        if split == "test" or (split == "dev" and self.args.get("mode") == "evaluate"):
            self._write_result_row(split, metrics, records)
        return save_names

    def _write_result_row(self, split: str, metrics: dict, records: dict) -> None:
        ckpt = self.args.get("init_ckpt")
        stem = Path(ckpt).stem if ckpt else "latest"
        # target/output are raw (class index, [class, probabilities], attribute floats): the leaderboard
        # recomputes metrics from them.
        predictions = [{"key": k, "true": self.objective.describe(t), "pred": self.objective.describe(p),
                        "target": t, "output": p}
                       for k, t, p in zip(records["key"], records["true"], records["pred"])]
        predictions_name = f"predictions-{split}-{stem}.json"
        results.write_json(self.expdir / predictions_name, {"predictions": predictions})
        row = {
            "schema": "care-superb/result-row",
            "schema_version": 2,
            "task": self.task,
            "split": split,
            "metrics": metrics,
            "primary_metric": self.objective.selection,
            "n_utterances": len(records["true"]),
            "protocol": self.split_description,
            "upstream": {
                "name": self.args.get("upstream"),
                "ckpt": self.args.get("upstream_ckpt"),
                "model_config": self.args.get("upstream_model_config"),
                "feature_selection": self.args.get("upstream_feature_selection"),
                "layer_selection": self.args.get("upstream_layer_selection"),
                "normalize": self.args.get("upstream_feature_normalize"),
                "provenance": loaded_upstream(self.args.get("upstream")),
            },
            "predictions": predictions_name,
            "downstream_checkpoint": ckpt,
            "data": results.data_provenance(self.datarc["root"]),
            "config": {"downstream_expert": self.conf, "runner": self.args.get("runner"),
                       "optimizer": self.args.get("optimizer")},
            "seed": self.args.get("seed"),
            "versions": results.versions(),
            "git_commit": results.git_commit(),
            "command": results.command_line(),
            "created": results.now(),
            "engine": "s3prl",
            "layer_weights": featurizer_weights(ckpt),
        }
        path = results.write_json(self.expdir / f"result-{split}-{stem}.json", row)
        tqdm.write(f"[{self.task}] result row written to {path}")

    def _record_split(self) -> None:
        """Write the split beside the results; refuse to evaluate on a split that changed."""
        payload = {"task": self.task, **self.split_description,
                   "utterances": {name: sorted(u.key for u in self.splits[name]) for name in SPLITS}}
        path = self.expdir / "split.json"
        if path.is_file():
            previous = json.loads(path.read_text())
            if previous != json.loads(json.dumps(payload)):
                raise CorpusError(
                    f"{path} records a different split than the one drawn now (corpus or datarc changed); "
                    f"use a new experiment directory, or restore the corpus/config that produced it"
                )
            return
        results.write_json(path, payload)
        counts = {name: len(self.splits[name]) for name in SPLITS}
        tqdm.write(f"[{self.task}] split {self.split_description.get('split')}: {counts} -> {path}")


def featurizer_weights(ckpt: str | None) -> list[float] | None:
    """The softmax layer weights s3prl's Featurizer learned, from the evaluated checkpoint (None
    without a checkpoint or for a single-layer upstream, which has no weights)."""
    if not ckpt:
        return None
    weights = torch.load(ckpt, map_location="cpu", weights_only=True).get("Featurizer", {}).get("weights")
    return None if weights is None else [float(w) for w in weights.float().softmax(dim=-1)]


def prepare_utterances(spec, datarc: dict, objective) -> tuple[list[Utterance], list[str]]:
    """Parse the corpus, apply the config's label map / drop list, check labels and audio.
    Returns the usable utterances and the reasons for every skipped one."""
    options = {k: v for k, v in (datarc.get("corpus") or {}).items()}
    utterances = spec.parser().prepare(datarc["root"], **options)
    label_map = datarc.get("label_map") or {}
    drop = set(datarc.get("drop_labels") or [])
    kept = []
    for utt in utterances:
        label = label_map.get(utt.label, utt.label) if isinstance(utt.label, str) else utt.label
        if isinstance(label, str) and label in drop:
            continue
        if not objective.accepts(label):
            raise CorpusError(
                f"{utt.path}: label {label!r} is not one of {spec.name}'s targets ({objective.expects}); "
                f"map it with downstream_expert.datarc.label_map or drop it with datarc.drop_labels"
            )
        kept.append(utt if label == utt.label else replace(utt, label=label))
    if drop:
        tqdm.write(f"[{spec.name}] dropped {len(utterances) - len(kept)} utterances labelled {sorted(drop)}")
    return check_audio_files(kept, datarc.get("on_bad_audio", "error"), spec.name)


def check_audio_files(utterances: list[Utterance], on_bad: str, task: str) -> tuple[list[Utterance], list[str]]:
    """Check every distinct audio file once (segments of one long recording share a file)."""
    if on_bad not in ("error", "skip"):
        raise ValueError(f"datarc.on_bad_audio must be 'error' or 'skip', got {on_bad!r}")
    problems: dict[Path, str | None] = {}
    for path in tqdm(sorted({u.path for u in utterances}), desc=f"{task}: checking audio", unit="file",
                     leave=False, mininterval=2):
        try:
            check_audio(path)
            problems[path] = None
        except AudioError as err:
            if on_bad == "error":
                raise AudioError(f"{err} (set downstream_expert.datarc.on_bad_audio: skip to skip such files)") from err
            problems[path] = str(err)
    good = [u for u in utterances if problems[u.path] is None]
    bad = sorted(p for p in problems.values() if p is not None)
    if bad:
        tqdm.write(f"[{task}] skipped {len(bad)} unusable audio files ({len(utterances) - len(good)} utterances):\n  "
                   + "\n  ".join(bad))
    return good, bad
