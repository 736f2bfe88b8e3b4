"""One contract, every upstream name of every upstream folder (``care_superb.upstream.registry``).

Each name is checked on the tiny random checkpoint its folder's ``RANDOM_CHECKPOINTS`` builds (a
name reading weights an installed package ships: on those):
hidden-state count and width as declared; frame counts agreeing with the declared downsample
rate for 1 s, 1.013 s and 20 s (within 2 frames; s3prl's Featurizer tolerates 5); a padded batch giving each utterance what it gets alone (and zero
on padded frames; for a name its folder declares ``BATCH_DEPENDENT``: not, as declared); eval mode; no gradient under s3prl's ``torch.no_grad``; the same input giving
the same output; its checkpoint told apart by its folder's recogniser; a missing or wrong
checkpoint stopping with an error that names the path. A name without a way to build its
checkpoint fails here.
"""
from __future__ import annotations

import os
import types
from pathlib import Path

import pytest
import torch

from baseline_helpers import padded_vs_alone, utterances
from helpers import ENGLISH_TASK
from care_superb.upstream import S3PRL_OWN_PADDED_EQUALS_ALONE, hub_entries, padded_equals_alone
from care_superb.upstream.baselines import RandomCheckpoint, random_checkpoints
from care_superb.upstream.checkpoints import identify
from care_superb.upstream.registry import batch_dependent, task_language_readers

torch.set_num_threads(1)
ENTRIES = hub_entries()
FAMILIES = random_checkpoints()
BY_NAME = {name: spec for spec in FAMILIES.values() for name in spec.readers}
BATCH_DEPENDENT = batch_dependent()


def test_every_registered_name_has_a_random_checkpoint_builder():
    assert set(ENTRIES) <= set(BY_NAME), sorted(set(ENTRIES) - set(BY_NAME))
    assert set(BY_NAME) <= set(ENTRIES), sorted(set(BY_NAME) - set(ENTRIES))


@pytest.fixture(scope="module")
def built(random_checkpoint, tmp_path_factory):
    """name -> an upstream built the way s3prl's runner builds it (ckpt=, model_config=, refresh=)."""
    cache: dict[str, torch.nn.Module] = {}

    def build(name: str, monkeypatch) -> torch.nn.Module:
        spec = BY_NAME[name]
        if name in spec.released_readers:  # the weights an installed package ships: read, never written
            return ENTRIES[name](ckpt=None, model_config=None, refresh=False)
        path = random_checkpoint(spec.family)
        if name in spec.default_readers:  # reads the default location: put the checkpoint there
            default = spec.default_path()
            home = Path(os.environ["CARE_SUPERB_HOME"])  # a temporary folder (conftest.py)
            assert default.resolve().is_relative_to(home.resolve()) and "site-packages" not in home.parts
            default.parent.mkdir(parents=True, exist_ok=True)
            default.write_bytes(path.read_bytes())
            upstream = ENTRIES[name](ckpt=None, model_config=None, refresh=False)
            assert upstream.provenance["ckpt"] == str(default)
            return upstream
        if name not in cache:
            cache[name] = ENTRIES[name](ckpt=str(path), model_config=None, refresh=False)
            if name in task_language_readers():  # then told its task, as the plug has s3prl's runner do
                cache[name].use_task(ENGLISH_TASK)
        return cache[name]

    return build


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_contract(name, built, monkeypatch):
    upstream = built(name, monkeypatch)
    count, width = BY_NAME[name].readers[name]
    rate = upstream.get_downsample_rates("hidden_states")

    assert not any(module.training for module in upstream.modules()), "not in eval mode"
    provenance = upstream.provenance
    assert {"ckpt", "random_weights", "description"} <= set(provenance)
    if name in BY_NAME[name].released_readers:
        assert provenance["weights"] == "released" and provenance["released_files"]
    else:
        assert provenance["random_weights"] is True

    with torch.no_grad():
        for seconds in (1.0, 1.013, 20.0):
            wav = utterances(seconds, seed=13)[0]
            states = upstream([wav])["hidden_states"]
            assert len(states) == count
            assert all(s.shape[0] == 1 and s.shape[-1] == width for s in states)
            assert len({s.shape[1] for s in states}) == 1
            assert abs(states[0].shape[1] - len(wav) / rate) <= 2, (seconds, states[0].shape[1], rate)
            assert not any(s.requires_grad for s in states)
        again = upstream([wav])["hidden_states"]
        assert all(torch.equal(a, b) for a, b in zip(states, again)), "same input, different output"

    diff, padding = padded_vs_alone(upstream, utterances(1.0, 1.013, 1.6, 1.0, seed=14))
    if name in BATCH_DEPENDENT:  # declared so by its folder: then it must be true
        assert diff > 1e-3, f"{name} is declared BATCH_DEPENDENT but gives each utterance what it gets alone"
    else:
        assert diff < 1e-5 and padding == 0.0
    assert padded_equals_alone(name) is (name not in BATCH_DEPENDENT)  # what the cached engine reads


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_random_checkpoint_is_recognised_as_read_by_its_readers(family, random_checkpoint):
    spec = FAMILIES[family]
    found = identify(random_checkpoint(family))
    assert spec.reader in found.readers, (family, found)


def test_a_default_is_a_file_under_care_superb_home_never_a_packages_weights(tmp_path, monkeypatch):
    """The contract test writes a random checkpoint where default readers look: that place is
    under $CARE_SUPERB_HOME by construction, so a package's shipped weights cannot be overwritten."""
    monkeypatch.setenv("CARE_SUPERB_HOME", str(tmp_path / "home"))
    spec = RandomCheckpoint("x", "x", lambda out, size, seed: out, {"x": (1, 1), "x_local": (1, 1)},
                            default_readers=("x",), default_file="checkpoints/x.pt")
    assert spec.default_path() == tmp_path / "home" / "checkpoints" / "x.pt" and spec.reader == "x_local"
    import torch as package

    shipped = Path(package.__file__).parent / "weights.pt"
    for bad in (str(shipped), "../../site-packages/torch/weights.pt"):
        with pytest.raises(ValueError, match="relative path under .CARE_SUPERB_HOME"):
            RandomCheckpoint("x", "x", spec.build, spec.readers, default_readers=("x",), default_file=bad)
    with pytest.raises(ValueError, match="not among its readers"):
        RandomCheckpoint("x", "x", spec.build, {"x": (1, 1)}, released_readers=("y",))


@pytest.mark.parametrize("name", sorted(S3PRL_OWN_PADDED_EQUALS_ALONE))
def test_s3prls_own_names_batch_as_declared(name):
    """The declaration the cached engine reads for s3prl's names that no folder registers."""
    import s3prl.hub

    upstream = getattr(s3prl.hub, name)()
    diff, padding = padded_vs_alone(upstream.eval(), utterances(1.0, 1.013, 1.6, 1.0, seed=14))
    if S3PRL_OWN_PADDED_EQUALS_ALONE[name]:
        assert diff < 1e-5 and padding == 0.0
    else:
        assert diff > 1e-3


def test_a_name_never_checked_is_not_declared_either_way():
    assert padded_equals_alone("apc") is None and padded_equals_alone("wavlm_local") is False
    assert padded_equals_alone("hf_wavlm") is True and padded_equals_alone("fbank_no_cmvn") is True


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_missing_and_wrong_checkpoints_are_named(name, tmp_path, monkeypatch):
    spec = BY_NAME[name]
    monkeypatch.setenv("CARE_SUPERB_HOME", str(tmp_path / "empty-home"))
    missing = spec.default_path() if name in spec.default_readers else tmp_path / "absent.pt"
    kwargs = {} if name in spec.default_readers else {"ckpt": str(missing)}
    with pytest.raises(FileNotFoundError) as error:
        ENTRIES[name](**kwargs)
    assert str(missing) in str(error.value)
    if name in spec.default_readers:
        return
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(ValueError) as error:
        ENTRIES[name](ckpt=str(junk))
    assert str(junk) in str(error.value)


def test_a_hubconf_without_its_declarations_is_refused_by_name():
    from care_superb.upstream.registry import _checked

    module = types.ModuleType("hubconf")
    module.__file__, module.__all__, module.x_local = "upstream/x/hubconf.py", ["x_local"], lambda **kwargs: None
    with pytest.raises(TypeError, match="upstream/x/hubconf.py: RANDOM_CHECKPOINTS must list how to build"):
        _checked(module)
    module.__all__ = ["x_local", "y_local"]
    with pytest.raises(TypeError, match="upstream/x/hubconf.py must list its s3prl.hub entry functions"):
        _checked(module)


def test_a_file_two_folders_claim_says_both(tmp_path, monkeypatch):
    from care_superb.upstream import registry
    from care_superb.upstream.checkpoints import Found

    path = tmp_path / "both.pt"
    torch.save({"weights": torch.zeros(1)}, path)
    claims = [lambda p, payload: Found("an A checkpoint", ("a_local",)), lambda p, payload: None,
              lambda p, payload: Found("a B checkpoint", ("b_local", "a_local"))]
    monkeypatch.setattr(registry, "recognisers", lambda: claims)
    assert identify(path) == Found("an A checkpoint or a B checkpoint", ("a_local", "b_local"))
    monkeypatch.setattr(registry, "recognisers", lambda: claims[1:2])
    assert identify(path).kind == "a checkpoint dict with keys ['weights']"
