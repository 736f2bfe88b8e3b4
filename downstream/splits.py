"""Split protocols: which utterances train, select (dev) and test a model.

A protocol is a function ``(utterances, datarc) -> (splits, description)``; ``splits`` maps
``train``/``dev``/``test`` to utterances and ``description`` says how they were drawn (it is
written next to the results, so that the split can be reproduced). ``check_disjoint`` guards
every protocol: no speaker (or video, or session) may be in two splits.

Names: a *split* is one of ``train``/``dev``/``test``; ``datarc.split_seed`` seeds what a
protocol draws (the speakers of EmoDB's splits, IEMOCAP's validation speaker, the held-out dev
units, DAIC-WOZ's segments): CARE's "several random splits" are split seeds 0, 1, 2; a *fold* is
one of a fixed list of test sets (IEMOCAP's sessions, MSP-IMPROV's speakers), ``datarc.fold``.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace

from tqdm import tqdm

from care_superb.downstream.corpus import CorpusError, Utterance

SPLITS = ("train", "dev", "test")
Splits = dict[str, list[Utterance]]
_warned: set[str] = set()


def split_seed(datarc: dict) -> int:
    """``datarc.split_seed`` (default 0). ``datarc.split_seed``, its name before version 0.2, is still
    read, with a message saying so; it wins when both are given (an old ``-o`` override)."""
    if "split" in datarc:
        if "split" not in _warned:
            _warned.add("split")
            tqdm.write("[care-superb] datarc.split is deprecated: it is the seed of what the protocol draws, now "
                       "datarc.split_seed (config.yaml, or -o config.downstream_expert.datarc.split_seed=N); "
                       f"using split_seed={datarc['split']}")
        return int(datarc["split"])
    return int(datarc.get("split_seed", 0))


def speaker_independent(utterances: list[Utterance], datarc: dict) -> tuple[Splits, dict]:
    """CARE's protocol for EmoDB, RAVDESS-Song and CaFE: speakers drawn at random (seeded by
    ``datarc.split_seed``) into ``valid_speakers`` for dev, ``test_speakers`` for test, the rest train.

    ``datarc.test_grid: true`` draws the test speakers from a grid instead: the speakers, shuffled
    once with seed 0, cut into groups of ``test_speakers`` (the remainder spread over the first
    groups, one each), and split seed k tests on group k (EmoDB's 10 speakers: 5 disjoint pairs,
    split seeds 0-4; CaFE's 12: 6 pairs; RAVDESS-Song's: groups of 3). Over the grid every speaker is
    in exactly one test set, so the leaderboard pools all of them as clusters (10 for EmoDB) where a
    single random draw leaves it 2, too few for any interval or test. Dev speakers are still drawn
    with the split seed, from the speakers outside the test group."""
    seed = split_seed(datarc)
    n_dev, n_test = int(datarc["valid_speakers"]), int(datarc["test_speakers"])
    speakers = sorted({u.unit for u in utterances})
    if len(speakers) < n_dev + n_test + 1:
        raise CorpusError(
            f"{len(speakers)} speakers found ({', '.join(speakers)}); the protocol needs at least "
            f"{n_dev + n_test + 1} (valid_speakers={n_dev}, test_speakers={n_test}, one to train)"
        )
    grid = None
    if datarc.get("test_grid"):
        groups = test_grid(speakers, n_test)
        if not 0 <= seed < len(groups):
            raise CorpusError(f"datarc.test_grid: split_seed={seed}, but {len(speakers)} speakers make {len(groups)} "
                              f"test groups of {n_test}: use split seeds 0 to {len(groups) - 1}")
        test = groups[seed]
        rest = [s for s in speakers if s not in test]
        random.Random(seed).shuffle(rest)
        drawn = rest[:n_dev] + test + rest[n_dev:]
        n_test = len(test)
        grid = {"group": seed, "groups": len(groups)}
    else:
        drawn = speakers[:]
        random.Random(seed).shuffle(drawn)
    chosen = {"dev": sorted(drawn[:n_dev]), "test": sorted(drawn[n_dev:n_dev + n_test]),
              "train": sorted(drawn[n_dev + n_test:])}
    where = {spk: split for split, spks in chosen.items() for spk in spks}
    splits: Splits = {name: [] for name in SPLITS}
    for utt in utterances:
        splits[where[utt.unit]].append(utt)
    return splits, {"protocol": "speaker_independent", "split_seed": seed, "speakers": chosen,
                    **({"test_grid": grid} if grid else {})}


def test_grid(speakers: list[str], size: int) -> list[list[str]]:
    """The speakers, shuffled with seed 0, cut into len // size disjoint groups (the first ones one
    speaker larger while a remainder lasts): every speaker in exactly one group."""
    shuffled = sorted(speakers)
    random.Random(0).shuffle(shuffled)
    n_groups = max(len(shuffled) // size, 1)
    groups, start = [], 0
    for i in range(n_groups):
        end = start + len(shuffled) // n_groups + (i < len(shuffled) % n_groups)
        groups.append(sorted(shuffled[start:end]))
        start = end
    return groups


def official_split_held_out_dev(utterances: list[Utterance], datarc: dict) -> tuple[Splits, dict]:
    """Test on the corpus's official split ``datarc.test_split``; hold out ``datarc.valid_fraction``
    of the units of the official ``datarc.train_split`` (at least one) for model selection, drawn
    per label when each unit has a single label (so that dev holds every class), seeded by
    ``datarc.split_seed``. DAIC-WOZ: test = the AVEC 2017 dev list (where the paper reports), dev =
    participants held out of the AVEC 2017 train list. Utterances of other official splits are
    left out and counted in the description."""
    seed = split_seed(datarc)
    test_split, train_split = datarc.get("test_split", "test"), datarc.get("train_split", "train")
    fraction = float(datarc.get("valid_fraction", 0.2))
    labels_of: dict[str, set] = defaultdict(set)
    for utt in utterances:
        if utt.split == train_split:
            labels_of[utt.unit].add(utt.label)
    single_label = all(len(labels) == 1 for labels in labels_of.values())
    strata: dict = defaultdict(list)
    for unit in sorted(labels_of):
        strata[next(iter(labels_of[unit])) if single_label else None].append(unit)
    rng = random.Random(seed)
    held_out = set()
    for stratum in sorted(strata, key=str):
        units = strata[stratum][:]
        rng.shuffle(units)
        n = max(1, round(fraction * len(units))) if len(units) > 1 else 0
        held_out.update(units[:n])
    splits: Splits = {name: [] for name in SPLITS}
    left_out: dict[str, int] = defaultdict(int)
    for utt in utterances:
        if utt.split == test_split:
            splits["test"].append(utt)
        elif utt.split == train_split:
            splits["dev" if utt.unit in held_out else "train"].append(utt)
        else:
            left_out[str(utt.split)] += 1
    units = {name: sorted({u.unit for u in splits[name]}) for name in SPLITS}
    return splits, {"protocol": "official_split_held_out_dev", "split_seed": seed, "test_split": test_split,
                    "train_split": train_split, "valid_fraction": fraction, "speakers": units,
                    "left_out": dict(left_out)}


def published_fold_held_out_dev(utterances: list[Utterance], datarc: dict) -> tuple[Splits, dict]:
    """A published fold (EmoBox's): the parser marks each utterance ``train``, ``test`` (or ``dev``,
    where the fold publishes a valid list: then it is dev, and nothing is drawn) in
    ``Utterance.split``; test is exactly the fold's test list; dev is ``datarc.valid_fraction``
    (default 0.2, at least one) of the fold's training *speakers*, drawn with seed
    ``datarc.split_seed`` as ``official_split_held_out_dev`` draws units (per label where every
    speaker has one label, e.g. when each utterance is its own speaker). A fold that shares speakers
    between train and test stays as published: the parser then makes each utterance its own unit
    (``Utterance.group``), and only dev is kept apart from train by speaker."""
    if any(u.split == "dev" for u in utterances):  # the fold publishes its own valid list: nothing drawn
        splits = {name: [u for u in utterances if u.split == name] for name in SPLITS}
        return splits, {"protocol": "published fold with its valid list", "fold": datarc.get("fold"),
                        "speakers": {name: sorted({u.speaker for u in splits[name]}) for name in SPLITS}}
    by_key = {u.key: u for u in utterances}
    as_speakers = [replace(u, group=None) for u in utterances]  # draw dev by speaker, not by unit
    drawn, description = official_split_held_out_dev(as_speakers, {**datarc, "train_split": "train",
                                                                   "test_split": "test"})
    splits = {name: [by_key[u.key] for u in drawn[name]] for name in SPLITS}
    return splits, {**description, "protocol": "published fold, dev speakers held out of its train list",
                    "fold": datarc.get("fold")}


def segmented(protocol):
    """``protocol`` on regions of long recordings (e.g. a participant's turns), then fixed-length
    segments of ``datarc.segment_seconds`` cut from each unit's regions. Segment keys are
    ``<unit>/segNNN``.

    - Training units: ``datarc.segments_per_label[label]`` segments each (more for a rarer class
      balances the classes), drawn uniformly over every position where a segment fits inside one
      region, seeded by ``datarc.split_seed`` and the unit.
    - Evaluation units (dev and test) never depend on their label: ``datarc.eval_segments: tile``
      (the default) cuts every region into consecutive segments, keeping a last, shorter piece of
      at least ``datarc.min_segment_seconds`` (default 1); an integer N draws N segments per unit,
      as for training but the same N for every label.

    A unit where nothing fits gets its longest regions whole instead (listed in the description).
    """

    def run(utterances: list[Utterance], datarc: dict) -> tuple[Splits, dict]:
        splits, description = protocol(utterances, datarc)
        seconds = float(datarc["segment_seconds"])
        per_label = dict(datarc["segments_per_label"])
        evaluation = datarc.get("eval_segments", "tile")
        if evaluation != "tile" and not (isinstance(evaluation, int) and evaluation > 0):
            raise CorpusError(f"datarc.eval_segments={evaluation!r}; use tile or a positive number of segments")
        shortest = float(datarc.get("min_segment_seconds", 1.0))
        seed = split_seed(datarc)
        short: list[str] = []
        cut: Splits = {}
        for name in SPLITS:
            by_unit: dict[str, list[Utterance]] = defaultdict(list)
            for utt in splits[name]:
                by_unit[utt.unit].append(utt)
            cut[name] = []
            for unit in sorted(by_unit):
                regions = sorted(by_unit[unit], key=lambda u: (str(u.path), u.start or 0.0))
                labels = {u.label for u in regions}
                if len(labels) != 1:
                    raise CorpusError(f"{unit}: regions with different labels {sorted(map(str, labels))}; "
                                      f"segments need one label per unit")
                label = labels.pop()
                rng = random.Random(f"{seed}:{unit}")
                if name != "train" and evaluation == "tile":
                    windows, whole = tile_segments(regions, seconds, shortest)
                else:
                    if name == "train" and label not in per_label:
                        raise CorpusError(f"datarc.segments_per_label has no count for label {label!r} "
                                          f"(it has {sorted(per_label)})")
                    count = int(per_label[label]) if name == "train" else int(evaluation)
                    windows, whole = draw_segments(regions, seconds, count, rng)
                if whole:
                    short.append(unit)
                cut[name] += [replace(region, key=f"{unit}/seg{i:03d}", start=start, end=end)
                              for i, (region, start, end) in enumerate(windows)]
        description = {**description, "protocol": f"segmented {description['protocol']}",
                       "segments": {"seconds": seconds, "train_per_label": per_label, "evaluation": evaluation,
                                    "min_segment_seconds": shortest,
                                    "counts": {name: len(cut[name]) for name in SPLITS},
                                    "units_without_a_long_enough_region": short}}
        return cut, description

    run.__name__ = f"segmented_{protocol.__name__}"
    return run


def _spans(regions: list[Utterance]) -> list[tuple[Utterance, float, float]]:
    spans = [(r, r.start or 0.0, r.end) for r in regions]
    if any(end is None for _, _, end in spans):
        raise CorpusError("segments are cut from regions with a start and an end time")
    return spans


def _longest(spans: list, n: int) -> list[tuple[Utterance, float, float]]:
    longest = sorted(spans, key=lambda x: x[2] - x[1], reverse=True)
    return [longest[i % len(longest)] for i in range(n)]


def tile_segments(regions: list[Utterance], seconds: float,
                  shortest: float) -> tuple[list[tuple[Utterance, float, float]], bool]:
    """Every region cut into consecutive windows (region, start, end) of ``seconds``, plus its
    remainder when at least ``shortest`` long; True as second value when no window came out and
    the longest region was used whole instead."""
    windows = []
    for region, start, end in _spans(regions):
        begin = start
        while end - begin >= seconds - 1e-9:
            windows.append((region, round(begin, 3), round(begin + seconds, 3)))
            begin += seconds
        if end - begin >= shortest:
            windows.append((region, round(begin, 3), round(end, 3)))
    if not windows:
        return _longest(_spans(regions), 1), True
    return windows, False


def draw_segments(regions: list[Utterance], seconds: float, n: int,
                  rng: random.Random) -> tuple[list[tuple[Utterance, float, float]], bool]:
    """``n`` windows (region, start, end) of ``seconds`` inside the regions; True as second value
    when none fits and whole regions (longest first) were used instead."""
    spans = _spans(regions)
    fitting = [(r, s, e) for r, s, e in spans if e - s >= seconds]
    if not fitting:
        return _longest(spans, n), True
    # Every start position is equally likely: a region is chosen in proportion to the room it
    # leaves (plus 10 ms, so that a region of exactly ``seconds`` can be chosen too).
    weights = [e - s - seconds + 0.01 for _, s, e in fitting]
    windows = []
    for _ in range(n):
        region, start, end = rng.choices(fitting, weights=weights)[0]
        begin = round(start + rng.uniform(0.0, end - start - seconds), 3)
        windows.append((region, begin, round(begin + seconds, 3)))
    return windows, False


def speaker_folds(utterances: list[Utterance], datarc: dict) -> tuple[Splits, dict]:
    """Folds by speaker listed in the config: ``datarc.folds`` is a list of
    ``[test_speaker, valid_speaker]`` pairs and ``datarc.fold`` picks one; every other speaker
    trains (MSP-IMPROV, as the paper: one test and one validation speaker per fold)."""
    folds = [list(pair) for pair in datarc["folds"]]
    fold = int(datarc.get("fold", 0))
    if not 0 <= fold < len(folds):
        raise CorpusError(f"datarc.fold={fold}, but datarc.folds lists {len(folds)} folds (0..{len(folds) - 1})")
    test, dev = (str(s) for s in folds[fold])
    speakers = sorted({u.unit for u in utterances})
    for role, speaker in (("test", test), ("validation", dev)):
        if speaker not in speakers:
            raise CorpusError(f"fold {fold}: {role} speaker {speaker!r} has no utterances; found {', '.join(speakers)}")
    if test == dev:
        raise CorpusError(f"fold {fold}: the test and validation speaker are both {test!r}")
    splits: Splits = {name: [] for name in SPLITS}
    for utt in utterances:
        splits["test" if utt.unit == test else "dev" if utt.unit == dev else "train"].append(utt)
    return splits, {"protocol": "speaker_folds", "fold": fold,
                    "speakers": {"train": sorted(set(speakers) - {test, dev}), "dev": [dev], "test": [test]}}


def official(utterances: list[Utterance], datarc: dict) -> tuple[Splits, dict]:
    """The corpus's own train / dev / test partition, as its parser read it into
    ``Utterance.split`` (MELD's released splits, CMU-MOSI's video folds). Nothing is drawn when the
    partition has a dev split; when it has none (Poria et al.'s CMU-MOSI folds), dev is
    ``datarc.valid_fraction`` of the training units, drawn with seed ``datarc.split_seed``."""
    for utt in utterances:
        if utt.split not in SPLITS:
            raise CorpusError(f"{utt.path}: official split {utt.split!r} is not one of {', '.join(SPLITS)}")
    if not any(utt.split == "dev" for utt in utterances):
        if "valid_fraction" not in datarc:
            raise CorpusError("the corpus's partition has no dev split; set downstream_expert.datarc.valid_fraction "
                              "(the share of training units held out for model selection)")
        splits, description = official_split_held_out_dev(utterances, {**datarc, "train_split": "train",
                                                                       "test_split": "test"})
        return splits, {**description, "protocol": "official, dev held out of train"}
    splits: Splits = {name: [] for name in SPLITS}
    for utt in utterances:
        splits[utt.split].append(utt)
    return splits, {"protocol": "official",
                    "units": {name: len({u.unit for u in splits[name]}) for name in SPLITS}}


def leave_one_session_out(utterances: list[Utterance], datarc: dict) -> tuple[Splits, dict]:
    """IEMOCAP's folds. The parser puts each utterance's session in ``Utterance.split`` (the
    corpus's own partition); fold ``datarc.fold`` = k (1-based, over the sorted sessions) tests on
    the k-th session; ``datarc.valid_speakers`` speakers (default 1) drawn from the other sessions
    with seed ``datarc.split_seed`` select the model; the rest train. A validation speaker's partner
    trains, so the unit kept out of two splits is the speaker, and no test session is anywhere
    else."""
    sessions = sorted({str(u.split) for u in utterances})
    fold, seed = int(datarc.get("fold", 1)), split_seed(datarc)
    n_dev = int(datarc.get("valid_speakers", 1))
    if not 1 <= fold <= len(sessions):
        raise CorpusError(f"datarc.fold={fold}, but the corpus has {len(sessions)} sessions "
                          f"({', '.join(sessions)}): choose a fold from 1 to {len(sessions)}")
    test_session = sessions[fold - 1]
    others = sorted({u.unit for u in utterances if str(u.split) != test_session})
    if len(others) < n_dev + 1:
        raise CorpusError(f"fold {fold}: {len(others)} speakers outside {test_session}; "
                          f"valid_speakers={n_dev} needs at least {n_dev + 1}")
    drawn = others[:]
    random.Random(seed).shuffle(drawn)
    dev = set(drawn[:n_dev])
    splits: Splits = {name: [] for name in SPLITS}
    for utt in utterances:
        name = "test" if str(utt.split) == test_session else "dev" if utt.unit in dev else "train"
        splits[name].append(utt)
    return splits, {
        "protocol": "leave_one_session_out", "split_seed": seed, "fold": fold,
        "sessions": {name: sorted({str(u.split) for u in splits[name]}) for name in SPLITS},
        "speakers": {name: sorted({u.unit for u in splits[name]}) for name in SPLITS},
    }


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
