"""tools/runner_seeds.py reads the margins the learning tests print (tests/helpers.assert_learned)."""
from __future__ import annotations

import pytest

import runner_seeds
from helpers import assert_learned


def test_the_margins_a_learning_test_prints_are_the_ones_the_tool_reads(capsys):
    assert_learned("daic_woz", {"weighted_f1": 0.75, "depressed_f1": 0.81, "loss": 0.4},
                   {"weighted_f1": 0.7, "depressed_f1": 0.778})
    read = runner_seeds.margins(capsys.readouterr().out)
    assert [(m["metric"], m["margin"]) for m in read] == [("weighted_f1", 0.05), ("depressed_f1", 0.032)]
    assert read[1]["value"] == 0.81 and read[1]["floor"] == 0.778


def test_a_metric_at_or_below_its_floor_fails_and_says_which(capsys):
    with pytest.raises(AssertionError, match=r"cmu_mosi: \{'weighted_f1': 0.603\} not above the floors"):
        assert_learned("cmu_mosi", {"weighted_f1": 0.603}, {"weighted_f1": 0.65})
    assert runner_seeds.margins(capsys.readouterr().out)[0]["margin"] == pytest.approx(-0.047)
