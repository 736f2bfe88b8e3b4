"""Shared fixtures: synthetic corpora rendered once per test session."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# tools/ (speed and diagnostic scripts, not installed): importable by the tests that check them
sys.path.insert(0, str(REPO / "tools"))

@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    """``synth_root(corpus, size="demo", seed=0)`` -> root of a synthetic corpus, made once."""
    from care_superb.synth import synthesize

    made: dict[tuple, Path] = {}

    def make(corpus: str, size: str = "demo", seed: int = 0) -> Path:
        key = (corpus, size, seed)
        if key not in made:
            made[key] = synthesize(corpus, tmp_path_factory.mktemp(f"{corpus}-{size}-{seed}"), seed=seed, size=size)
        return made[key]

    return make

@pytest.fixture(autouse=True)
def _torch_threads():
    """Every test starts with CARE_SUPERB_TEST_THREADS torch threads (default 1, which the modules
    also pin at import: on two cores, two threads per process oversubscribe the machine). CI's
    second run sets 2, so the in-process code really runs on two; and no test inherits a count
    another test left."""
    import torch

    from helpers import THREADS

    torch.set_num_threads(int(os.environ.get(THREADS, "1")))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Nothing a test does touches the user's cache or default checkpoint."""
    monkeypatch.setenv("CARE_SUPERB_HOME", str(tmp_path / "care-superb-home"))


@pytest.fixture(scope="session")
def _session_transcripts(tmp_path_factory):
    return tmp_path_factory.mktemp("transcripts")


@pytest.fixture
def shared_transcripts(_session_transcripts):
    """asr_text's transcript cache shared by the tests that use it: the runner tests transcribe the
    same corpus with the same Whisper, and each utterance costs a 30 s window once, not per test."""
    home = Path(os.environ["CARE_SUPERB_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "transcripts").symlink_to(_session_transcripts, target_is_directory=True)
    return _session_transcripts

@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory):
    """``random_checkpoint(family, size=its smallest, seed=0)`` -> a baseline checkpoint with random
    weights, written once by the family's own builder (``care-superb baseline-init``)."""
    from care_superb.upstream.baselines import baseline_init, random_checkpoints

    made: dict[tuple, Path] = {}

    def make(family: str, size: str | None = None, seed: int = 0) -> Path:
        size = size or random_checkpoints()[family].sizes[0]
        key = (family, size, seed)
        if key not in made:
            made[key] = baseline_init(family, size, tmp_path_factory.mktemp(f"{family}-{size}-{seed}") / family, seed)
        return made[key]

    return make
