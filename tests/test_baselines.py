"""Random-weight builders (``care-superb baseline-init``), the paper's sizes, lazy and offline."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from care_superb.cli import main as cli
from care_superb.upstream.baselines import baseline_init, random_checkpoints
from care_superb.upstream.checkpoints import MARKER_FILE, identify

torch.set_num_threads(1)


def parameters_at_base(family: str) -> int:
    """Parameters of the base model, built without memory (meta device)."""
    if family in ("wavlm", "hubert", "data2vec"):
        from transformers import AutoModel

        from care_superb.upstream.hf_speech.families import family_config

        with torch.device("meta"):
            model = AutoModel.from_config(family_config(family, "base"))
    elif family == "emotion2vec":
        from care_superb.upstream.emotion2vec.release import build_model, model_conf

        with torch.device("meta"):
            model = build_model(model_conf("base"))
    else:
        from care_superb.upstream.sonar.checkpoint import size_config, speech_hub

        model = speech_hub().create_new_model(size_config("base"), meta=True)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("family, millions", [
    ("wavlm", 94.38),        # microsoft/wavlm-base
    ("hubert", 94.37),       # facebook/hubert-base-ls960
    ("data2vec", 93.16),     # facebook/data2vec-audio-base
    ("emotion2vec", 93.79),  # emotion2vec_base (data2vec 2.0 base + its pre-training decoder)
    ("sonar", 658.08),       # spenc.eng.pt: w2v-BERT 600M encoder (605.6M) + 3-layer pooler
])
def test_base_sizes_are_the_owners(family, millions):
    assert parameters_at_base(family) / 1e6 == pytest.approx(millions, abs=0.01)


@pytest.mark.parametrize("family", ["wavlm", "emotion2vec", "sonar", "care"])
def test_baseline_init_writes_what_its_readers_read_labelled_random(family, tmp_path, capsys):
    out = tmp_path / ("ckpt.pt" if family in ("sonar", "care") else "folder")
    assert cli(["baseline-init", family, "--size", "tiny", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    spec = random_checkpoints()[family]
    path = out
    assert str(path) in printed and "random weights" in printed
    assert set(identify(path).readers) & set(spec.readers)
    if path.is_dir():
        record = json.loads((path / MARKER_FILE).read_text())
        assert record["random_weights"] is True and "--seed 3" in record["created_by"]
    assert cli(["baseline-init", family, "--out", str(out)]) == 1  # exists
    assert cli(["baseline-init", family, "--out", str(out), "--exist-ok"]) == 0


def test_baseline_init_refuses_what_it_does_not_know(tmp_path, capsys):
    assert cli(["baseline-init", "wav2vec3", "--out", str(tmp_path / "x")]) == 2
    assert "choose from" in capsys.readouterr().out
    with pytest.raises(ValueError, match="sizes tiny, base, not 'huge'"):
        baseline_init("hubert", "huge", tmp_path / "y")


def test_same_seed_same_weights(tmp_path):
    from care_superb.upstream.emotion2vec.release import read_release, state_dict_of

    a = baseline_init("emotion2vec", "tiny", tmp_path / "a", seed=1)
    b = baseline_init("emotion2vec", "tiny", tmp_path / "b", seed=1)
    sa, sb = state_dict_of(read_release(a)[1]), state_dict_of(read_release(b)[1])
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=600, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def extra_modules() -> dict[str, set[str]]:
    """Upstream folder -> the top-level modules of what its ``EXTRA`` installs (setup.cfg's extra,
    as the installed metadata of care-superb lists it)."""
    import importlib.metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from care_superb.upstream.registry import extras

    modules_of: dict[str, set[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            modules_of.setdefault(canonicalize_name(distribution), set()).add(module)
    requirements = [Requirement(r) for r in importlib.metadata.requires("care-superb")]
    out = {}
    for folder, extra in extras().items():
        wanted = [r for r in requirements if r.marker and r.marker.evaluate({"extra": extra})]
        assert wanted, f"upstream/{folder} declares EXTRA = {extra!r}, which setup.cfg does not define"
        out[folder] = {m for r in wanted for m in modules_of.get(canonicalize_name(r.name), ())}
        assert out[folder], f"{extra}: {[r.name for r in wanted]} not installed (scripts/setup.sh installs them)"
    return out


def test_importing_the_upstreams_imports_no_optional_extra():
    modules = sorted(set().union(*extra_modules().values()))
    assert {"funasr", "sonar"} <= set(modules)  # what emotion2vec's and sonar's folders declare
    out = run_python(f"""
        import sys
        from care_superb.upstream import hub_entries
        from care_superb.upstream.baselines import random_checkpoints
        hub_entries(), random_checkpoints()
        print(sorted(m for m in {modules!r} if m in sys.modules))
    """)
    assert out.strip() == "[]"


def test_every_baseline_builds_loads_and_runs_with_the_network_cut(tmp_path):
    out = run_python(f"""
        import socket, torch
        attempts = []
        def refuse(*args, **kwargs):  # recorded, so that a library swallowing the error is still seen
            attempts.append(args[1:] or kwargs)
            raise OSError("network access attempted")
        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        from care_superb.upstream import hub_entries
        from care_superb.upstream.baselines import baseline_init
        entries = hub_entries()
        # asr_text transcribes in its task's language; outside a task a -g file names it
        open({str(tmp_path)!r} + "/en.yaml", "w").write("language: en\\n")
        settings = {{"asr_text": {{"model_config": {str(tmp_path)!r} + "/en.yaml"}}}}
        for family, name in (("emotion2vec", "emotion2vec_local"), ("sonar", "sonar_local"), ("hubert", "hf_speech"),
                             ("whisper", "whisper_local"), ("asr_text", "asr_text")):
            path = baseline_init(family, "tiny", {str(tmp_path)!r} + "/" + family)
            with torch.no_grad():
                states = entries[name](ckpt=str(path), **settings.get(name, {{}}))([torch.randn(16000)])["hidden_states"]
            print(name, len(states))
        print("attempts", len(attempts))
    """)
    assert out.split() == ["emotion2vec_local", "4", "sonar_local", "4", "hf_speech", "4", "whisper_local", "3",
                           "asr_text", "3", "attempts", "0"]
