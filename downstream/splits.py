"""Split protocols: which utterances train, select (dev) and test a model.

A protocol is a function ``(utterances, datarc) -> (splits, description)``; ``splits`` maps
``train``/``dev``/``test`` to utterances and ``description`` says how they were drawn (it is
written next to the results, so that the split can be reproduced). ``check_disjoint`` guards
every protocol: no speaker (or video, or session) may be in two splits.
"""
from __future__ import annotations

import random
from collections import defaultdict

from care_superb.downstream.corpus import CorpusError, Utterance

SPLITS = ("train", "dev", "test")
Splits = dict[str, list[Utterance]]


def speaker_independent(utterances: list[Utterance], datarc: dict) -> tuple[Splits, dict]:
    """CARE's protocol for EmoDB, RAVDESS-Song and CaFE: speakers drawn at random (seeded by
    ``datarc.split``) into ``valid_speakers`` for dev, ``test_speakers`` for test, the rest train."""
    seed = int(datarc.get("split", 0))
    n_dev, n_test = int(datarc["valid_speakers"]), int(datarc["test_speakers"])
    speakers = sorted({u.unit for u in utterances})
    if len(speakers) < n_dev + n_test + 1:
        raise CorpusError(
            f"{len(speakers)} speakers found ({', '.join(speakers)}); the protocol needs at least "
            f"{n_dev + n_test + 1} (valid_speakers={n_dev}, test_speakers={n_test}, one to train)"
        )
    drawn = speakers[:]
    random.Random(seed).shuffle(drawn)
    chosen = {"dev": sorted(drawn[:n_dev]), "test": sorted(drawn[n_dev:n_dev + n_test]),
              "train": sorted(drawn[n_dev + n_test:])}
    where = {spk: split for split, spks in chosen.items() for spk in spks}
    splits: Splits = {name: [] for name in SPLITS}
    for utt in utterances:
        splits[where[utt.unit]].append(utt)
    return splits, {"protocol": "speaker_independent", "split": seed, "speakers": chosen}


def check_disjoint(splits: Splits) -> None:
    """Raise if a speaker (or the task's grouping unit) appears in more than one split."""
    seen: dict[str, set[str]] = defaultdict(set)
    for name, utts in splits.items():
        for utt in utts:
            seen[utt.unit].add(name)
    shared = {unit: sorted(names) for unit, names in seen.items() if len(names) > 1}
    if shared:
        raise CorpusError(f"split is not speaker-independent: {shared}")
    for name in SPLITS:
        if not splits.get(name):
            raise CorpusError(f"the {name} split is empty; the corpus is too small for this protocol")
