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


def test_the_cpu_choice_reaches_torchs_kernels():
    """``--cpu default`` must run torch's kernels without AVX, as a CPU without it would (a misspelt
    variable would leave this machine's own kernels in place, and the emulation would be a no-op)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, OMP_NUM_THREADS="1", **runner_seeds.CPU_KERNELS["default"])
    found = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    assert found == "NO AVX", found
