"""One contract, every registered upstream (``care_superb.upstream.HUBCONFS``).

Each name is checked on the tiny random checkpoint its folder's ``RANDOM_CHECKPOINTS`` builds:
hidden-state count and width as declared; frame counts agreeing with the declared downsample
rate for 1 s, 1.013 s and 20 s (within 2 frames; s3prl's Featurizer tolerates 5); a padded batch giving each utterance what it gets alone (and zero
on padded frames); eval mode; no gradient under s3prl's ``torch.no_grad``; the same input giving
the same output; a missing or wrong checkpoint stopping with an error that names the path.
Registering a name without a way to build its checkpoint fails here.
"""
from __future__ import annotations

import pytest
import torch

from baseline_helpers import padded_vs_alone, utterances
from care_superb.upstream import S3PRL_LOCAL, S3PRL_PADDED_EQUALS_ALONE, hub_entries, padded_equals_alone
from care_superb.upstream.baselines import random_checkpoints

torch.set_num_threads(1)
ENTRIES = hub_entries()
FAMILIES = random_checkpoints()
BY_NAME = {name: spec for spec in FAMILIES.values() for name in spec.readers}


def test_every_registered_name_has_a_random_checkpoint_builder():
    assert set(ENTRIES) <= set(BY_NAME), sorted(set(ENTRIES) - set(BY_NAME))
    assert set(BY_NAME) <= set(ENTRIES), sorted(set(BY_NAME) - set(ENTRIES))


@pytest.fixture(scope="module")
def built(random_checkpoint, tmp_path_factory):
    """name -> an upstream built the way s3prl's runner builds it (ckpt=, model_config=, refresh=)."""
    cache: dict[str, torch.nn.Module] = {}

    def build(name: str, monkeypatch) -> torch.nn.Module:
        spec = BY_NAME[name]
        path = random_checkpoint(spec.family)
        if name in spec.default_readers:  # reads the default location: put the checkpoint there
            default = spec.default_path()
            default.parent.mkdir(parents=True, exist_ok=True)
            default.write_bytes(path.read_bytes())
            return ENTRIES[name](ckpt=None, model_config=None, refresh=False)
        if name not in cache:
            cache[name] = ENTRIES[name](ckpt=str(path), model_config=None, refresh=False)
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
    assert diff < 1e-5 and padding == 0.0
    assert padded_equals_alone(name) is True  # what the cached engine reads


@pytest.mark.parametrize("name", sorted(S3PRL_PADDED_EQUALS_ALONE))
def test_s3prls_own_names_batch_as_declared(name, random_checkpoint, tmp_path):
    """The declaration the cached engine reads, checked both ways for each of s3prl's names."""
    from care_superb.plug import plug
    from care_superb.upstream.hf_speech.owner import folder_to_owner

    plug()
    import s3prl.hub

    if name in S3PRL_LOCAL:
        family = S3PRL_LOCAL[name][1]
        owner = folder_to_owner(random_checkpoint(family), tmp_path / f"{family}.pt")
        upstream = getattr(s3prl.hub, name)(ckpt=str(owner))
    else:
        upstream = getattr(s3prl.hub, name)()
    diff, padding = padded_vs_alone(upstream.eval(), utterances(1.0, 1.013, 1.6, 1.0, seed=14))
    if S3PRL_PADDED_EQUALS_ALONE[name]:
        assert diff < 1e-5 and padding == 0.0
    else:
        assert diff > 1e-3


def test_a_name_never_checked_is_not_declared_either_way():
    assert padded_equals_alone("apc") is None and padded_equals_alone("wavlm_local") is False


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
