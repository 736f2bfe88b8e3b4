"""Adding a baseline is one new folder: a hubconf (names, random builder, recogniser of its own
checkpoint layout, README rows) and an expert.

The test writes such a folder into upstream/ (and removes it), then uses it the way a user would,
each step in a fresh process as a user's command is: the name in ``s3prl.hub``, the upstream
contract test, ``care-superb baseline-init``, ``identify`` through the folder's own recogniser, and
s3prl's runner through run_downstream.py, whose result row carries the folder's provenance.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from helpers import FEW_STEPS, REPO, run_downstream

NAME = "toyupstream"
FILES = {
    "__init__.py": "",
    "hubconf.py": '''"""A toy upstream: 320-sample frames, projected, then two tanh layers."""
from care_superb.upstream.baselines import RandomCheckpoint
from care_superb.upstream.checkpoints import Found

__all__ = ["toy_local"]
LAYOUT = "toy-checkpoint/1"


def toy_local(ckpt=None, model_config=None, refresh=False, **kwargs):
    """The toy model from a local file (-k FILE)."""
    from care_superb.upstream.toyupstream.expert import UpstreamExpert

    return UpstreamExpert(ckpt, **kwargs)


def _build(out, size, seed):
    from care_superb.upstream.toyupstream.expert import write_random

    return write_random(out, size, seed)


def _recognise(path, payload):
    if payload is not None and payload.get("layout") == LAYOUT:
        return Found("a toy checkpoint", ("toy_local",))
    return None


RANDOM_CHECKPOINTS = [RandomCheckpoint("toy", "the toy model as its one-file layout", _build, {"toy_local": (3, 16)})]
RECOGNISERS = [_recognise]
LISTING = [("`toy_local`", "a toy checkpoint", "a toy", "3 × 16 at 50 Hz")]
''',
    "expert.py": '''import torch
from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.batching import run_by_length
from care_superb.upstream.checkpoints import MARKER_KEY, identify, load_payload, make_metadata, mismatch, provenance
from care_superb.upstream.toyupstream.hubconf import LAYOUT

HOP = 320
WIDTH = {"tiny": 16, "base": 64}


def write_random(out, size, seed):
    generator = torch.Generator().manual_seed(seed)
    width = WIDTH[size]
    torch.save({"layout": LAYOUT, "proj": torch.randn(HOP, width, generator=generator) / HOP ** 0.5,
                "layers": torch.randn(2, width, width, generator=generator) / width ** 0.5,
                MARKER_KEY: make_metadata(True, f"care-superb baseline-init toy --size {size} --seed {seed}")}, out)
    return out


class UpstreamExpert(UpstreamBase):
    def __init__(self, ckpt, **kwargs):
        super().__init__(**kwargs)
        if not ckpt or "toy_local" not in identify(ckpt).readers:
            raise mismatch(ckpt, "toy_local", "a toy checkpoint (layout toy-checkpoint/1)")
        payload = load_payload(ckpt)
        self.proj = torch.nn.Parameter(payload["proj"])
        self.layers = torch.nn.Parameter(payload["layers"])
        self.provenance = provenance(ckpt, "the toy upstream", payload.get(MARKER_KEY), weight_files=[ckpt])
        self.eval()

    def get_downsample_rates(self, key):
        return HOP

    def forward(self, wavs):
        def states(batch):
            frames = batch[:, : batch.shape[1] // HOP * HOP].reshape(batch.shape[0], -1, HOP)
            out = [frames @ self.proj]
            for layer in self.layers:
                out.append(torch.tanh(out[-1] @ layer))
            return out

        return {"hidden_states": run_by_length(wavs, states)}
''',
}


@pytest.fixture
def toy_folder():
    folder = REPO / "upstream" / NAME
    if folder.exists():
        pytest.fail(f"{folder} exists already; remove it (a previous run of this test was killed)")
    folder.mkdir()
    try:
        for name, text in FILES.items():
            (folder / name).write_text(text)
        yield folder
    finally:
        shutil.rmtree(folder)


def python(*args: str, cwd=REPO) -> str:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=900,
                          env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_a_new_folder_is_an_upstream_with_its_own_checkpoint_layout(toy_folder, synth_root, tmp_path):
    listed = python("-c", "import s3prl.hub; from care_superb.plug import plug; plug(); "
                          "print(s3prl.hub.toy_local.__wrapped__.__module__)")
    assert listed.strip() == f"care_superb.upstream.{NAME}.hubconf"

    contract = python("-m", "pytest", "-v", "-p", "no:cacheprovider", "tests/test_upstream_contract.py", "-k", "toy")
    for test in ("test_contract[toy_local]", "test_missing_and_wrong_checkpoints_are_named[toy_local]",
                 "test_each_random_checkpoint_is_recognised_as_read_by_its_readers[toy]"):
        assert f"{test} PASSED" in contract, contract
    assert " 3 passed" in contract, contract

    ckpt = tmp_path / "toy"  # no suffix: the builder takes the path as given
    python("-m", "care_superb.cli", "baseline-init", "toy", "--out", str(ckpt))
    found = python("-c", f"from care_superb.upstream.checkpoints import identify; print(identify({str(ckpt)!r}))")
    assert "Found(kind='a toy checkpoint', readers=('toy_local',)" in found

    exp = tmp_path / "exp"
    run_downstream("-m", "train", "-u", "toy_local", "-k", str(ckpt), "-d", "emodb", "-p", str(exp), "-o",
                   f"config.downstream_expert.datarc.root={synth_root('emodb')},,{FEW_STEPS}", fresh_process=True)
    run_downstream("-m", "evaluate", "-e", str(exp / "dev-best.ckpt"), fresh_process=True)
    row = json.loads((exp / "result-test-dev-best.json").read_text())
    provenance = row["upstream"]["provenance"]
    assert row["upstream"]["name"] == "toy_local" and provenance["ckpt"] == str(ckpt)
    assert provenance["description"] == "the toy upstream" and provenance["weights"] == "random"
    assert "--size tiny --seed 0" in provenance["created_by"]
