"""The held-out check of the leaderboard's marks (``tools/leaderboard_heldout.py``): equal upstreams
written as result rows by an error model that is not the calibration's, run through
``care-superb leaderboard``, are marked no more often than the stated family-wise error; a real
difference is marked."""
from __future__ import annotations

import math

import pytest

from care_superb.leaderboard import stats
from leaderboard_heldout import TITLES, count


@pytest.mark.slow
def test_equal_upstreams_through_the_command_are_marked_at_most_alpha_of_the_time():
    got = count(10, 0.0, seed=0)
    assert got["columns"] == 10 * len(TITLES) and got["tested"] == 1.0  # EmoDB's grid is testable
    assert got["family_wise"] <= stats.ALPHA + 2 * math.sqrt(stats.ALPHA * (1 - stats.ALPHA) / got["columns"]), got


@pytest.mark.slow
def test_a_real_difference_through_the_command_is_marked():
    got = count(4, 0.10, seed=1)
    assert got["found"] >= 0.5, got
