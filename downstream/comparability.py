"""When two result rows of one task may be compared: one key, built here and nowhere else.

The benchmark uses it to refuse an upstream entry that would set any of it for one upstream only;
the leaderboard uses it to refuse a table whose rows of one task differ in any of it. The key is
everything that decides a row's number except the upstream and the cell (fold, split, seed):

- the head and its training: ``downstream_expert.modelrc`` and ``.objective``, the ``schedule``
  (``paper`` where a row names none; under ``converge`` its learning-rate grid, patience and cap
  take the place of ``optimizer.lr``, which the grid chooses per upstream), the optimizer,
  scheduler and SpecAugment, the runner's schedule (``total_steps``, ``eval_step``, which picks
  dev-best, gradient accumulation and clipping, the dev loaders), ``datarc.batch_size``,
  s3prl's ``--upstream_feature_normalize`` and the engine;
- the data protocol: every other ``datarc`` setting (``label_map``, ``drop_labels``, speaker
  counts, ``valid_fraction``, segment settings, ``max_seconds``, corpus options such as CMU-MOSI's
  ``folds``, MSP-IMPROV's ``speaker`` or DAIC-WOZ's ``merge_gap_seconds``), less those that only
  say where the corpus is or how fast it is read (``root``, ``num_workers``, ``corpus.cache``,
  ``on_bad_audio``: a skipped file changes the test utterances, which are compared on their own)
  and those that name the cell (``fold``, ``split_seed``);
- whether the corpus is synthetic.

Per test set (task, fold, split seed) the rows must also be on the same test utterances: their
``resampling.test_keys_sha256`` (a hash of the predictions' keys) must agree.
"""
from __future__ import annotations

import json

# Settings that vary between cells of one comparison, or do not change a number.
NOT_IN_KEY = ("downstream_expert.datarc.root", "downstream_expert.datarc.fold", "downstream_expert.datarc.split_seed",
              "downstream_expert.datarc.split",  # split_seed's earlier name
              "downstream_expert.datarc.num_workers", "downstream_expert.datarc.on_bad_audio",
              "downstream_expert.datarc.corpus.cache")
SECTIONS = ("downstream_expert", "optimizer", "scheduler", "specaug", "schedule")
RUNNER = ("total_steps", "eval_step", "gradient_accumulate_steps", "gradient_clipping", "eval_dataloaders")

# What a benchmark file's upstream entry may not name: each would set part of the key for one upstream.
UPSTREAM_MAY_NOT_SET = ("downstream", *SECTIONS, "runner", "modelrc", "datarc", "objective", "engine", "normalize",
                        "upstream_feature_normalize", "pooling", "batch_size", "lr", "total_steps", "eval_step",
                        "label_map", "drop_labels", "max_seconds")


def settings(config: dict, *, normalize, engine, synthetic) -> dict[str, str]:
    """The key of one row (or one cell's config): dotted setting -> its value as JSON."""
    config = config or {}
    flat: dict[str, str] = {}
    for section in SECTIONS:
        _flatten(config.get(section), section, flat)
    runner = config.get("runner") or {}
    for name in RUNNER:
        _flatten(runner.get(name), f"runner.{name}", flat)
    for name in NOT_IN_KEY:
        flat.pop(name, None)
    flat.setdefault("schedule.name", json.dumps("paper"))
    if flat["schedule.name"] == json.dumps("converge"):
        flat.pop("optimizer.lr", None)  # chosen per upstream from schedule.lr_grid, which is in the key
    flat["upstream.normalize"] = json.dumps(bool(normalize))
    flat["engine"] = json.dumps(engine or "s3prl")
    flat["data.synthetic"] = json.dumps(bool(synthetic))
    return dict(sorted(flat.items()))


def _flatten(value, prefix: str, out: dict) -> None:
    # Empty and absent are the same setting (``label_map: {}``, no ``drop_labels``).
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}", out)
    elif value is not None and value != [] and value != ():
        out[prefix] = json.dumps(value, sort_keys=True, default=str)


def differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """``setting = A vs B`` for every setting in which two keys differ ("absent" where one lacks it)."""
    return [f"{name} = {a.get(name, 'absent')} vs {b.get(name, 'absent')}"
            for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]
