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
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from tqdm import tqdm

from care_superb.downstream import convergence, results, schedule
from care_superb.downstream.audio import AudioError, check_audio
from care_superb.downstream.corpus import CorpusError, Excluded, Parsed, Utterance, count_reasons
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
        self.datarc = dict(downstream_expert["datarc"])
        self.expdir = Path(expdir)
        self.args = kwargs
        drawn = task_splits(self.task, downstream_expert)
        # The row records the objective as built (a task's classes read from the corpus included),
        # so that the leaderboard rebuilds the same one.
        self.conf = {**downstream_expert, "objective": drawn.objective_options} if drawn.objective_options \
            else downstream_expert
        self.objective, parsed = drawn.objective, drawn.parsed
        self.excluded = parsed.excluded
        self.flagged = parsed.flagged
        self.clusters = parsed.clusters
        if parsed.excluded or parsed.flagged or parsed.notes:
            results.write_json(self.expdir / "skipped.json", {
                "task": self.task, "counts": count_reasons(parsed.excluded),
                "excluded": [{"key": e.key, "reason": e.reason, "detail": e.detail} for e in parsed.excluded],
                **({"flagged_counts": count_reasons(parsed.flagged),
                    "flagged": [{"key": e.key, "reason": e.reason, "detail": e.detail} for e in parsed.flagged]}
                   if parsed.flagged else {}),
                "notes": parsed.notes})
        self.splits, self.split_description = drawn.splits, drawn.description
        self._record_split()

        modelrc = downstream_expert.get("modelrc", {})
        # The head's initialisation and the train order come from --seed alone, not from torch's
        # global generator: building the upstream (s3prl's runner) or not (the cached engine)
        # consumes that one differently, and the same seed must mean the same head and batches.
        self.seed = int(kwargs.get("seed", 1337))  # s3prl's default --seed
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(stream_seed(self.seed, "head"))
            self.head = UtteranceHead(upstream_dim, self.objective.output_dim, pooling=modelrc.get("pooling", "mean"),
                                      hidden_dim=modelrc.get("hidden_dim", 256))
        # Buffers, so that they are saved in (and resumed from) s3prl's checkpoints. Float64, as the
        # scores are: in float32 a score rounded down on storing beat itself at every later tie.
        self.register_buffer("best_score", torch.tensor(float("-inf"), dtype=torch.float64))
        self.register_buffer("best_loss", torch.tensor(float("inf"), dtype=torch.float64))
        # The step of the last better dev score, for early stopping (also on resume).
        self.register_buffer("best_step", torch.tensor(0, dtype=torch.int64))
        # The resolved schedule (schedule.py); a config without one trains the paper's fixed schedule.
        self.schedule = schedule.plan({"schedule": kwargs.get("schedule"), "runner": kwargs.get("runner")})
        self.curve = convergence.read_curve(self.expdir)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A checkpoint written before ties were broken by loss has no best_loss: no tie-break yet;
        # one written before early stopping has no best_step.
        state_dict.setdefault(prefix + "best_loss", torch.tensor(float("inf"), dtype=torch.float64))
        state_dict.setdefault(prefix + "best_step", torch.tensor(0, dtype=torch.int64))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # -- data ---------------------------------------------------------------------------------
    def get_dataloader(self, split: str, epoch: int = 0):
        if split not in self.splits:
            raise ValueError(f"unknown split {split!r}; {self.task} has {', '.join(SPLITS)}")
        utts = self.splits[split]
        dataset = self.items(utts, [self.objective.target(u.label) for u in utts], self.audio_settings())
        # Loader workers only pay off for reading audio (cached items are rows of a table in memory).
        workers = int(self.datarc.get("num_workers", 0)) if isinstance(dataset, UtteranceDataset) else 0
        order = torch.Generator().manual_seed(stream_seed(self.seed, "train", epoch))
        return make_loader(dataset, int(self.datarc.get("batch_size", 32)), split == "train",
                           workers, self.objective.collate, self.objective.min_batch, generator=order)

    # What turns a split's utterances into loader items, ``(utterances, targets, audio) -> Dataset``:
    # their waveforms for s3prl's runner; the benchmark's cached engine gives each utterance's
    # cached pooled features instead (benchmark/cached_engine.py), through the same sampler.
    items = UtteranceDataset

    def audio_settings(self) -> dict:
        return {key: self.datarc[key] for key in ("sample_rate", "max_seconds", "min_seconds") if key in self.datarc}

    # -- model --------------------------------------------------------------------------------
    def forward(self, split, features, targets, keys, records, **kwargs):
        lengths = torch.tensor([len(f) for f in features], device=features[0].device)
        padded = pad_sequence(features, batch_first=True)
        output = self.head(padded, lengths)
        targets = targets.to(output.device)
        loss = self.objective.loss(output, targets)
        records["loss"].append(loss.item())
        records["true"] += targets.tolist()  # class indices, or lists of floats
        records["pred"] += self.objective.predict(output.detach())
        records["key"] += list(keys)
        return loss

    # -- logging, model selection, result rows ------------------------------------------------
    def log_records(self, split, records, logger, global_step, batch_ids, total_batch_num, **kwargs):
        metrics = self.objective.metrics(records["true"], records["pred"], keys=records["key"])
        present = metrics.pop("n_classes_present", None)
        metrics["loss"] = float(torch.tensor(records["loss"]).mean()) if records["loss"] else float("nan")
        for name, value in metrics.items():
            logger.add_scalar(f"{self.task}/{split}-{name}", value, global_step=global_step)
        summary = " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
        tqdm.write(f"[{self.task}] {split} step {global_step}: {summary}")

        save_names = []
        score = metrics[self.objective.selection]
        # A tie goes to the lower dev loss: a coarse score (DAIC-WOZ's interview F1 over a few dev
        # interviews) is often reached first by an undertrained head and then only tied.
        best, loss = self.best_score.item(), metrics["loss"]
        training = self.args.get("mode") == "train"
        if split == "dev" and (score > best or (score == best and loss < self.best_loss.item())):
            if score > best:  # patience counts from the last better score, not from a tie won on loss
                self.best_step.fill_(global_step)
            self.best_score.fill_(score)
            self.best_loss.fill_(loss)
            save_names.append("dev-best.ckpt")
            results.write_json(self.expdir / "dev-best.json", {"step": global_step, "metrics": metrics})
        if training and split in ("train", "dev"):
            self._record_curve(split, global_step, score, metrics["loss"])
            if split == "dev" and schedule.stop_now(self.schedule, global_step, int(self.best_step.item())):
                self.curve["stop"] = {"step": global_step, "reason": "patience", "best_score_step": int(self.best_step)}
                results.write_json(self.expdir / convergence.CURVE, self.curve)
                logger.flush()
                tqdm.write(f"[{self.task}] early stop at step {global_step}: no better dev {self.objective.selection} "
                           f"since step {int(self.best_step)}")
                raise schedule.EarlyStop(f"early stop at step {global_step}")
        if split == "test" or (split == "dev" and self.args.get("mode") == "evaluate"):
            self._write_result_row(split, metrics, present, records)
        return save_names

    def _record_curve(self, split: str, step: int, score: float, loss: float) -> None:
        # A resumed run repeats the steps after its checkpoint: what a killed run logged past it goes.
        entries = [e for e in self.curve.get(split, []) if e[0] < step]
        self.curve[split] = entries + [[step, score, loss] if split == "dev" else [step, loss]]
        self.curve.pop("stop", None)
        results.write_json(self.expdir / convergence.CURVE, self.curve)

    def _training_record(self) -> dict:
        """The row's ``training``: the schedule, the learning rate trained with (and how it was chosen),
        the steps trained and why training stopped."""
        stop = self.curve.get("stop")
        total = int((self.args.get("runner") or {}).get("total_steps", 0))
        cap = "max_steps" if self.schedule["name"] == "converge" else "total_steps"
        return {**self.schedule, "lr": (self.args.get("optimizer") or {}).get("lr"),
                "lr_search": results.read_optional(self.expdir / "lr-search.json"),
                "steps_trained": stop["step"] if stop else total, "stopped": stop["reason"] if stop else cap}

    def _write_result_row(self, split: str, metrics: dict, present: int | None, records: dict) -> None:
        ckpt = self.args.get("init_ckpt")
        stem = Path(ckpt).stem if ckpt else "latest"
        # Human-readable true/pred, the raw target/output the objective scores, and the cluster the
        # utterance belongs to (its speaker, dialogue, video...): a leaderboard resamples clusters
        # and recomputes the metric.
        cluster = {u.key: u.resampling_unit for u in self.splits[split]}
        predictions = [{"key": k, "unit": cluster[k], "true": self.objective.describe(t),
                        "pred": self.objective.describe(p), "target": t, "output": p}
                       for k, t, p in zip(records["key"], records["true"], records["pred"])]
        predictions_file = results.write_json(self.expdir / f"predictions-{split}-{stem}.json",
                                              {"task": self.task, "split": split, "predictions": predictions})
        row = {
            **results.SCHEMA,
            "task": self.task,
            "split": split,
            "metrics": metrics,
            "primary_metric": self.objective.selection,
            "n_utterances": len(records["true"]),
            **({"n_classes_present": present} if present is not None else {}),
            "protocol": self.split_description,
            "resampling": {"unit": self.clusters, "n_units": len(set(cluster.values())),
                           "test_keys_sha256": results.keys_hash(cluster)},
            "upstream": {
                "name": self.args.get("upstream"),
                "ckpt": self.args.get("upstream_ckpt"),
                "model_config": self.args.get("upstream_model_config"),
                "feature_selection": self.args.get("upstream_feature_selection"),
                "layer_selection": self.args.get("upstream_layer_selection"),
                "normalize": self.args.get("upstream_feature_normalize"),
                # The cached engine never builds the upstream here: it passes what its cache recorded.
                "provenance": self.args.get("upstream_provenance") or loaded_upstream(self.args.get("upstream")),
            },
            "layer_weights": results.layer_weights(ckpt),
            "training": (training := self._training_record()),
            "convergence": convergence.summarise(self.curve, training["steps_trained"]),
            # A standardised linear probe on the same pooled features (benchmark/probe.py), where
            # the cached engine wrote one: the reference the head's score is read against.
            "probe": results.read_optional(self.expdir / "probe.json"),
            "exclusions": count_reasons(self.excluded),
            **({"flagged": count_reasons(self.flagged)} if self.flagged else {}),  # kept, though a check flagged them
            "predictions": predictions_file.name,
            "engine": self.args.get("engine") or "s3prl",
            "downstream_checkpoint": ckpt,
            "data": results.data_provenance(self.datarc["root"]),
            "config": {"downstream_expert": self.conf, "runner": self.args.get("runner"),
                       "optimizer": self.args.get("optimizer"),
                       **{k: self.args[k] for k in ("scheduler", "specaug", "schedule") if self.args.get(k)}},
            "seed": self.args.get("seed"),
            "versions": results.versions(),
            "git_commit": results.git_commit(),
            "command": self.args.get("command") or results.command_line(),
            "created": results.now(),
        }
        benchmark = results.benchmark_record(self.expdir)  # present when `care-superb bench` ran this cell
        if benchmark is not None:
            row["benchmark"] = benchmark
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
        drawn = ", ".join(f"{k} {self.split_description[k]}" for k in ("fold", "split_seed") if k in self.split_description)
        tqdm.write(f"[{self.task}] {drawn or self.split_description['protocol']}: {counts} -> {path}")


class Drawn(NamedTuple):
    objective: object
    parsed: Parsed
    splits: dict[str, list[Utterance]]
    description: dict
    objective_options: dict  # what the objective was built with


def task_splits(task: str, downstream_expert: dict) -> Drawn:
    """What a task's expert trains and evaluates on, from its ``downstream_expert`` block: the
    objective, the corpus parsed (``prepare_utterances``) and split by the task's protocol. The
    expert and the benchmark's planning (which extracts features for these utterances) both
    call this."""
    spec = TASKS[task]
    datarc = dict(downstream_expert["datarc"])
    # Options of the objective (e.g. DAIC-WOZ's interview decision) come from the task config;
    # a task's classes may come from the corpus on disk (EmoBox's label maps).
    options = dict(downstream_expert.get("objective") or {})
    if spec.classes is not None:
        options["classes"] = spec.classes(datarc)
    objective = spec.objective(**options)
    parsed = prepare_utterances(spec, datarc, objective)
    splits, description = spec.protocol(parsed.utterances, datarc)
    if parsed.partition:  # the corpus's published partition the protocol started from
        description = {**description, "partition": parsed.partition}
    check_disjoint(splits)
    return Drawn(objective, parsed, splits, description, options)


STREAMS = ("head", "train")  # what draws from a seed of its own


def stream_seed(seed: int, stream: str, *more: int) -> int:
    """An independent seed per use of ``--seed`` (numpy's SeedSequence spawns them)."""
    return int(np.random.SeedSequence([seed, STREAMS.index(stream), *more]).generate_state(1, np.uint64)[0])


def prepare_utterances(spec, datarc: dict, objective) -> Parsed:
    """Parse the corpus, apply the config's label map / drop list, check labels and audio: the
    usable utterances, and every one left out (by the parser, the drop list or for bad audio)."""
    options = {k: v for k, v in (datarc.get("corpus") or {}).items()}
    # datarc settings a parser reads besides datarc.corpus (EmoBox: which dataset, which fold).
    options.update({k: datarc[k] for k in getattr(spec.corpus, "DATARC", ()) if k in datarc})
    parsed = spec.corpus.prepare(datarc["root"], **options)
    excluded = list(parsed.excluded)
    label_map = datarc.get("label_map") or {}
    drop = set(datarc.get("drop_labels") or [])
    kept = []
    for utt in parsed.utterances:
        label = label_map.get(utt.label, utt.label) if isinstance(utt.label, str) else utt.label
        if isinstance(label, str) and label in drop:
            excluded.append(Excluded(utt.key, f"label {label} dropped (drop_labels)", str(utt.path)))
            continue
        if not objective.accepts(label):
            raise CorpusError(
                f"{utt.path}: label {label!r} is not one of {spec.name}'s targets ({objective.expects}); "
                f"map it with downstream_expert.datarc.label_map or drop it with datarc.drop_labels"
            )
        kept.append(utt if label == utt.label else replace(utt, label=label))
    good, bad = check_audio_files(kept, datarc.get("on_bad_audio", "error"), spec.name)
    excluded += bad
    for note in parsed.notes:
        tqdm.write(f"[{spec.name}] {note}")
    if excluded:
        counts = ", ".join(f"{reason}: {n}" for reason, n in count_reasons(excluded).items())
        tqdm.write(f"[{spec.name}] left out {len(excluded)} ({counts}); each is listed in skipped.json")
    return replace(parsed, utterances=good, excluded=excluded)


def check_audio_files(utterances: list[Utterance], on_bad: str, task: str) -> tuple[list[Utterance], list[Excluded]]:
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
    bad = [Excluded(u.key, "unusable audio", problems[u.path]) for u in utterances if problems[u.path] is not None]
    if bad:
        files = sorted({e.detail for e in bad})
        tqdm.write(f"[{task}] skipped {len(files)} unusable audio files ({len(bad)} utterances):\n  " + "\n  ".join(files))
    return good, bad
