"""The cached engine: s3prl's own Runner, fed from the feature cache instead of the upstream.

Everything but the upstream's forward is s3prl's and the task's own code: ``Runner.train()``
(the optimizer as s3prl builds it from the config, its scheduler, gradient accumulation and
clipping, evaluation every ``eval_step`` on the dev split, checkpoints, TensorBoard) and
``Runner.evaluate()`` on ``dev-best.ckpt`` exactly as ``run_downstream.py -m evaluate -e`` does
it; s3prl's Featurizer (the same softmax layer weights); the task's EmotionExpert (splits, head,
objective, dev-best selection, result row, predictions, split.json). Arguments and config come
from s3prl's own argument parser, so a cell's checkpoints are s3prl's and
``run_downstream.py -m evaluate -e <cell>/dev-best.ckpt`` re-evaluates one with the real forward.

Two things stand in, both documented where they are:
- ``CachedUpstream`` replaces the upstream: the "waveform" of an utterance is a one-sample tensor
  holding its row in the cache table, and its hidden states are its per-layer pooled vectors as
  a one-frame sequence (mean pooling of one frame is that frame; the weighted sum commutes with
  the mean). s3prl's Featurizer is built with ``normalize=False`` because the cache already
  holds the means of the layer-normed frames when ``upstream_feature_normalize`` is on.
- The expert's ``items`` give those one-sample tensors instead of reading audio, through the
  expert's own loader (same sampler, same batches).

Attentive pooling is not linear over frames and SpecAugment masks frames: the cached engine
refuses both (``check_config``); the s3prl engine runs them.
"""
from __future__ import annotations

import random
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from care_superb.benchmark.cache import FileHashes, Store, Table, utterance_id


class CachedUpstream(nn.Module):
    def __init__(self, layers: int, dim: int):
        super().__init__()
        self.layers, self.dim = layers, dim
        self.table: Table | None = None  # set once the expert has drawn its splits

    def get_downsample_rates(self, key: str) -> int:
        return 1  # one "sample" (a table row) per one-frame sequence

    def forward(self, wavs: list[torch.Tensor]) -> dict:
        if any(len(w) != 1 for w in wavs):  # s3prl's Featurizer probes with 1 s of noise: shapes only
            return {"hidden_states": [wavs[0].new_zeros(len(wavs), 1, self.dim)] * self.layers}
        rows = torch.cat([w.reshape(1) for w in wavs]).long().cpu()
        pooled = self.table.pooled_for_batch(rows).to(wavs[0].device)
        return {"hidden_states": [pooled[:, i:i + 1, :] for i in range(self.layers)]}


class CachedItems(Dataset):
    """(row index as a one-sample tensor, target, key) per utterance of a split."""

    def __init__(self, rows: dict[tuple, int], utterances, targets, audio: dict):
        self.rows = [rows[(u.key, str(u.path), u.start, u.end)] for u in utterances]
        self.targets, self.keys = targets, [u.key for u in utterances]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        return torch.tensor([float(self.rows[i])]), self.targets[i], self.keys[i]


def check_config(config: dict, where: str) -> list[str]:
    """Why the cached engine cannot reproduce this task config (empty: it can)."""
    problems = []
    modelrc = (config.get("downstream_expert") or {}).get("modelrc") or {}
    if modelrc.get("pooling", "mean") != "mean":
        problems.append(f"{where}: modelrc.pooling {modelrc['pooling']} is not linear over frames, so cached pooled "
                        f"features cannot reproduce it; run with the s3prl engine (engine: s3prl, or "
                        f"`care-superb bench FILE --engine s3prl`)")
    if config.get("specaug"):
        problems.append(f"{where}: specaug masks frames, which pooled features do not have; use the s3prl engine")
    return problems


def check_upstream(name: str, where: str) -> list[str]:
    """Why the cached engine cannot serve ``-u name`` (empty: it can). It extracts each utterance
    in a padded batch and stores what it gets alone; that is what s3prl's runner gives it only
    when a padded batch gives every utterance what it gets alone (``upstream.padded_equals_alone``).
    Otherwise s3prl's features depend on the batch mates, and no per-utterance cache reproduces
    them: the cell would not be the row the s3prl engine writes."""
    from care_superb.upstream import padded_equals_alone

    exact = padded_equals_alone(name)
    if exact:
        return []
    engine = "run it with the s3prl engine (engine: s3prl, or `care-superb bench FILE --engine s3prl`)"
    if exact is None:
        return [f"{where}: upstream {name} was never checked to give each utterance of a padded batch what it "
                f"gets alone, which the cached engine needs; {engine}, or check it as tests/"
                f"test_upstream_contract.py does and declare it (care_superb.upstream.S3PRL_OWN_PADDED_EQUALS_ALONE)"]
    hint = ""
    from care_superb.upstream.s3prl_local.hubconf import S3PRL

    if name in S3PRL:
        family = S3PRL[name][1]
        hint = (f", or convert the checkpoint to a Hugging Face folder (`care-superb baseline-convert CKPT FOLDER`) "
                f"and use hf_{family}, which gives every utterance what it gets alone")
    return [f"{where}: upstream {name} gives an utterance of a padded batch other features than it gets alone (its "
            f"front end sees the padding), so in s3prl's runner they depend on its batch mates and no cache can "
            f"reproduce them; {engine}{hint}"]


def _runner_class():
    from s3prl.downstream.runner import Runner
    from s3prl.upstream.interfaces import Featurizer

    class CachedRunner(Runner):
        """s3prl's Runner with the cache standing in for the upstream (see the module's doc)."""

        def __init__(self, args, config, store: Store, hashes: FileHashes, command: str):
            self.store, self.hashes, self.command = store, hashes, command
            self.meta = store.meta
            super().__init__(args, config)

        def _get_upstream(self):
            model = CachedUpstream(self.meta["layers"], self.meta["dim"]).to(self.args.device)
            return self._init_model(model=model, name="Upstream", trainable=False,
                                    interfaces=["get_downsample_rates"])

        def _get_featurizer(self):
            model = Featurizer(upstream=self.upstream.model, feature_selection=self.args.upstream_feature_selection,
                               layer_selection=self.args.upstream_layer_selection, upstream_device=self.args.device,
                               normalize=False).to(self.args.device)  # the cache applied it per frame
            return self._init_model(model=model, name="Featurizer", trainable=True,
                                    interfaces=["output_dim", "downsample_rate"])

        def train(self):
            from care_superb.downstream.schedule import EarlyStop

            try:
                super().train()
            except EarlyStop:  # the converge schedule's stop on dev (the expert saved everything first)
                pass

        def _get_downstream(self):
            entry = super()._get_downstream()
            expert = entry.model
            audio = expert.audio_settings()
            utterances = {(u.key, str(u.path), u.start, u.end): u for split in expert.splits.values() for u in split}
            uids = {k: utterance_id(self.hashes(u.path), u.start, u.end, audio) for k, u in utterances.items()}
            self.hashes.save()
            table = self.store.load(list(uids.values()))
            self.upstream.model.table = table
            rows = {k: table.row[uid] for k, uid in uids.items()}
            self.rows = rows  # for the probe (probe.py)
            expert.items = lambda utts, targets, audio_: CachedItems(rows, utts, targets, audio_)
            # The row's engine, provenance (recorded when the cache was filled) and command; kept
            # out of s3prl's args, which its checkpoints save.
            provenance = dict(self.meta.get("provenance") or {})
            if table.transcripts is not None and None not in table.transcripts:  # an upstream that heard words
                from care_superb.upstream.asr_text.expert import empty_transcripts

                # Over the cell's own utterances (the filling jobs each saw only a share), and per split.
                heard = {k: table.transcripts[table.row[uid]] for k, uid in uids.items()}
                provenance["empty_transcripts"] = {
                    **empty_transcripts(list(heard.values())),
                    "by_split": {name: empty_transcripts([heard[(u.key, str(u.path), u.start, u.end)] for u in split])
                                 for name, split in expert.splits.items()}}
            expert.args.update(engine="cached", upstream_provenance=provenance or None, command=self.command)
            return entry

    return CachedRunner


@contextmanager
def _argv(argv: list[str]):
    saved = sys.argv
    sys.argv = ["run_downstream.py", *argv]
    try:
        yield
    finally:
        sys.argv = saved


def s3prl_args(argv: list[str]):
    """(args, config) exactly as ``run_downstream.py ARGV`` parses them."""
    from care_superb.plug import plug

    plug()
    from s3prl.run_downstream import get_downstream_args

    with _argv(argv):
        args, config, _ = get_downstream_args()
    return args, config


def seed_everything(seed: int) -> None:
    """As run_downstream.py's main does before building the Runner."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def train_argv(name: str, ckpt, model_config, task: str, config_path: Path, expdir: Path, seed: int,
               normalize: bool, device: str) -> list[str]:
    """run_downstream.py's arguments for training a cell (also what the s3prl engine runs)."""
    argv = ["-m", "train", "-u", name, "-d", task, "-c", str(config_path), "-p", str(expdir),
            "--seed", str(seed), "--device", device]
    if ckpt:
        argv += ["-k", str(ckpt)]
    if model_config:
        argv += ["-g", str(model_config)]
    if normalize:
        argv += ["--upstream_feature_normalize"]
    return argv


def run(train: list[str], expdir: Path, store: Store, hashes: FileHashes, command: str, device: str,
        evaluate: bool = True) -> Path:
    """Train as ``run_downstream.py TRAIN`` would, then (``evaluate``) write the cell's linear probe
    (``probe.json``, from the same cached features) and ``-m evaluate -e dev-best.ckpt``; the row's
    path. Without ``evaluate`` (a learning-rate search run) the test split is never read."""
    from care_superb.benchmark import probe
    from care_superb.downstream import results

    CachedRunner = _runner_class()
    args, config = s3prl_args(train)
    seed_everything(args.seed)
    CachedRunner(args, config, store, hashes, command).train()
    if not evaluate:
        return Path(expdir) / "dev-best.json"
    best = Path(expdir) / "dev-best.ckpt"
    args, config = s3prl_args(["-m", "evaluate", "-e", str(best), "--device", device])
    seed_everything(args.seed)
    runner = CachedRunner(args, config, store, hashes, command)
    record = probe.for_cell(runner.downstream.model, runner.upstream.model.table, runner.rows, store.folder)
    results.write_json(Path(expdir) / "probe.json", record)
    runner.evaluate()  # seeds itself again before it reads the test split
    return Path(expdir) / "result-test-dev-best.json"
