"""Speaker-independent splits: disjoint, seeded, reproducible."""
from __future__ import annotations

import pytest

from care_superb.downstream.corpus import CorpusError, Utterance
from care_superb.downstream.emodb import corpus as emodb
from care_superb.downstream.splits import check_disjoint, speaker_independent

DATARC = {"valid_speakers": 2, "test_speakers": 2}


@pytest.fixture(scope="module")
def utterances(synth_root):
    return emodb.prepare(synth_root("emodb")).utterances


@pytest.mark.parametrize("seed", range(6))
def test_no_speaker_in_two_splits(utterances, seed):
    splits, description = speaker_independent(utterances, {**DATARC, "split": seed})
    speakers = {name: {u.speaker for u in utts} for name, utts in splits.items()}
    assert not speakers["train"] & speakers["dev"]
    assert not speakers["train"] & speakers["test"]
    assert not speakers["dev"] & speakers["test"]
    assert (len(speakers["dev"]), len(speakers["test"]), len(speakers["train"])) == (2, 2, 6)
    assert sum(len(v) for v in splits.values()) == len(utterances)
    assert {k: set(v) for k, v in description["speakers"].items()} == speakers
    check_disjoint(splits)


def test_split_is_a_function_of_its_seed(utterances):
    draw = lambda seed: speaker_independent(utterances, {**DATARC, "split": seed})[1]["speakers"]
    assert draw(3) == draw(3)
    assert len({tuple(draw(s)["test"]) for s in range(6)}) > 1


def test_check_disjoint_catches_a_shared_speaker(tmp_path):
    a = Utterance("a", tmp_path / "a.wav", "anger", "03")
    b = Utterance("b", tmp_path / "b.wav", "anger", "03")
    c = Utterance("c", tmp_path / "c.wav", "anger", "08")
    with pytest.raises(CorpusError, match="'03'"):
        check_disjoint({"train": [a], "dev": [c], "test": [b]})


def test_too_few_speakers(utterances):
    few = [u for u in utterances if u.speaker in ("03", "08", "09")]
    with pytest.raises(CorpusError, match="needs at least 5"):
        speaker_independent(few, {**DATARC, "split_seed": 0})


def test_the_seed_of_a_draw_is_split_seed_and_its_earlier_name_still_reads(capsys):
    from care_superb.downstream import splits as s

    assert s.split_seed({"split_seed": 3}) == 3 and s.split_seed({}) == 0
    s._warned.clear()
    assert s.split_seed({"split": 2, "split_seed": 0}) == 2  # an old -o override wins over the config's default
    assert s.split_seed({"split": 2}) == 2
    out = capsys.readouterr().out + capsys.readouterr().err
    assert out.count("datarc.split is deprecated") == 1 and "datarc.split_seed" in out


def test_the_test_grid_puts_every_speaker_in_exactly_one_test_set(utterances):
    """EmoDB's 10 speakers as 5 disjoint test pairs over split seeds 0-4: the leaderboard then pools
    10 speakers as clusters instead of the 2 of one random draw."""
    grid = {**DATARC, "test_grid": True}
    tests = []
    for seed in range(5):
        splits, description = speaker_independent(utterances, {**grid, "split_seed": seed})
        check_disjoint(splits)
        assert description["test_grid"] == {"group": seed, "groups": 5}
        assert (len(description["speakers"]["dev"]), len(description["speakers"]["train"])) == (2, 6)
        tests.append(description["speakers"]["test"])
    assert sorted(s for test in tests for s in test) == sorted({u.unit for u in utterances})
    assert all(len(test) == 2 for test in tests)
    with pytest.raises(CorpusError, match="5 test groups of 2: use split seeds 0 to 4"):
        speaker_independent(utterances, {**grid, "split_seed": 5})


def test_a_grid_spreads_a_remainder_over_the_first_groups():
    from care_superb.downstream.splits import test_grid

    groups = test_grid([f"a{i:02d}" for i in range(23)], 3)  # RAVDESS-Song's 23 singers in groups of 3
    assert [len(g) for g in groups] == [4, 4, 3, 3, 3, 3, 3]
    assert sorted(s for g in groups for s in g) == [f"a{i:02d}" for i in range(23)]
