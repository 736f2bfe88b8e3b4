"""CARE pre-training: the recipe itself. Gradient isolation parameter by parameter, frozen blocks,
and a resumed run that ends exactly where a straight run ends."""
from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

from care_superb.upstream.care.checkpoint import load_checkpoint, read_checkpoint
from care_superb.upstream.care.initialise import initialise
from care_superb.upstream.care.pretraining import recipe
from care_superb.upstream.care.pretraining.cache import Extractor, read_crop
from care_superb.upstream.care.pretraining.inputs import discover, read_audio
from care_superb.upstream.care.pretraining.targets import LogMel, TextTeacher
from care_superb.upstream.care.pretraining.trainer import ResumeError, Settings, Trainer
from pretrain_fixtures import tiny_corpus, tiny_init, tiny_teacher

torch.set_num_threads(1)


# The recipe trains neither the front end (unless told) nor the text encoder's own layers (only the
# adapters around them).
FROZEN = recipe.FRONT_END + ("semantic_encoder.layers.",)


def block(name: str) -> str:
    for label, prefixes in (("frozen", FROZEN), ("semantic", recipe.SEMANTIC), ("acoustic", recipe.ACOUSTIC)):
        if name.startswith(prefixes):
            return label
    raise AssertionError(f"{name} is in no block of the recipe")


@pytest.fixture(scope="module")
def model_and_batch():
    torch.manual_seed(0)
    model, _ = initialise("tiny", "tiny", seed=0, acoustic_head_size=12)
    width = model.config.hidden_size
    batch = {
        "waves": torch.randn(2, 16000) * 0.1,
        "lengths": torch.tensor([16000, 12000]),
        "semantic": torch.randn(2, width),
        "acoustic": torch.randn(2, 50, 12),
        "acoustic_frames": torch.tensor([50, 37]),
    }
    return model, batch


def gradients(model, batch, losses: str, isolate: bool = True) -> dict[str, torch.Tensor | None]:
    model = copy.deepcopy(model)
    for param in model.parameters():  # everything differentiable: only the graph decides
        param.requires_grad_(True)
    torch.manual_seed(1)
    recipe.train_mode(model)
    if isolate:
        total = sum(recipe.losses_of(model, batch, losses).values())
    else:  # the control: the acoustic loss without the detach
        output = model(batch["waves"], batch["lengths"], semantic=False)
        prediction = model.acoustic_head(output.acoustic[-1])
        total = recipe.masked_frame_mse(prediction, batch["acoustic"], batch["acoustic_frames"])
    total.backward()
    return {n: (None if p.grad is None or not p.grad.abs().sum() else p.grad.clone())
            for n, p in model.named_parameters()}


def test_acoustic_loss_reaches_only_the_acoustic_encoder_and_head(model_and_batch):
    model, batch = model_and_batch
    grads = gradients(model, batch, "acoustic")
    for name, grad in grads.items():
        if block(name) == "acoustic":
            assert grad is not None, f"{name} got no gradient from the acoustic loss"
        else:
            assert grad is None, f"the acoustic loss reached {name}"
    # control: without the isolation the same loss reaches the common encoder (and the front end)
    leaky = gradients(model, batch, "acoustic", isolate=False)
    assert leaky["common_encoder.layers.0.attention.q_proj.weight"] is not None
    assert leaky["common_encoder.layers.0.attention.rel_attn_embed.weight"] is not None


def test_semantic_loss_reaches_only_the_common_encoder_and_adapters(model_and_batch):
    model, batch = model_and_batch
    grads = gradients(model, batch, "semantic")
    reached = {name for name, grad in grads.items() if grad is not None}
    for name in grads:
        if name.startswith(recipe.SEMANTIC):
            assert name in reached, f"{name} got no gradient from the semantic loss"
        elif block(name) == "acoustic":
            assert name not in reached, f"the semantic loss reached {name}"
    # the front end and text layers are upstream of this loss; configure() freezes them
    frozen = [n for n, p in model.named_parameters() if block(n) == "frozen"]
    trained = set(recipe.configure(copy.deepcopy(model), "both"))
    assert frozen and not trained & set(frozen)


def test_both_losses_give_the_common_encoder_exactly_the_semantic_gradient(model_and_batch):
    model, batch = model_and_batch
    both, semantic, acoustic = (gradients(model, batch, kind) for kind in ("both", "semantic", "acoustic"))
    for name in both:
        if name.startswith(recipe.SEMANTIC):
            assert torch.equal(both[name], semantic[name]), name
        elif name.startswith(recipe.ACOUSTIC):
            torch.testing.assert_close(both[name], acoustic[name], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("losses,untouched", [("semantic", ("acoustic", "frozen")),
                                               ("acoustic", ("semantic", "frozen")),
                                               ("both", ("frozen",))])
def test_an_optimizer_step_changes_exactly_the_trained_blocks(model_and_batch, losses, untouched):
    model, batch = model_and_batch
    model = copy.deepcopy(model)
    trained = recipe.configure(model, losses)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2,
                                  weight_decay=0.1)  # decay too must leave other blocks alone
    for _ in range(2):
        recipe.train_mode(model)
        optimizer.zero_grad()
        sum(recipe.losses_of(model, batch, losses).values()).backward()
        optimizer.step()
    for name, param in model.named_parameters():
        changed = not torch.equal(param, before[name])
        if block(name) in untouched:
            assert not changed and name not in trained, f"{losses}-only training changed {name}"
        else:
            assert changed, f"{losses}-only training left {name} unchanged"


def test_a_trained_front_end_learns_from_the_semantic_loss_only(model_and_batch):
    model, batch = model_and_batch
    model = copy.deepcopy(model)
    trained = set(recipe.configure(model, "both", front_end="trained"))
    front_end = [n for n, _ in model.named_parameters() if n.startswith(recipe.FRONT_END)]
    assert front_end and set(front_end) <= trained
    # the semantic loss's gradient reaches every front-end tensor, the acoustic loss's none
    semantic, acoustic = (gradients(model, batch, kind) for kind in ("semantic", "acoustic"))
    for name in front_end:
        assert semantic[name] is not None, f"the semantic loss does not reach {name}"
        assert acoustic[name] is None, f"the acoustic loss reached {name}"
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    recipe.train_mode(model, "trained")
    assert model.feature_extractor.training and not model.semantic_encoder.layers.training
    sum(recipe.losses_of(model, batch, "both").values()).backward()
    optimizer.step()
    for name, param in model.named_parameters():
        changed = not torch.equal(param, before[name])
        assert changed == (name in trained), f"{name}: changed {changed}, trained {name in trained}"
    with pytest.raises(ValueError, match="needs the semantic loss"):
        recipe.configure(copy.deepcopy(model), "acoustic", front_end="trained")


@pytest.mark.parametrize("kind,losses,expected", [
    ("random", "both", "trained"),
    ("random", "acoustic", "frozen"),
    ("pretrained", "both", "frozen"),
    ("converted", "both", "frozen"),
])
def test_auto_trains_the_front_end_of_a_random_speech_side_only(kind, losses, expected):
    metadata = {"speech_init": {"kind": kind, "detail": "..."}}
    chosen, why = recipe.choose_front_end("auto", metadata, losses)
    assert chosen == expected
    assert f"speech_init.kind: {kind}" in why or losses == "acoustic"
    # an explicit choice is kept, and checked against the losses
    assert recipe.choose_front_end("frozen", metadata, losses)[0] == "frozen"


def test_auto_refuses_a_checkpoint_that_does_not_say_how_its_speech_side_began():
    for metadata in ({}, {"speech_init": {"kind": None, "detail": "made by hand"}}):
        with pytest.raises(ValueError, match="speech_init.kind.*--front-end frozen.*--front-end trained"):
            recipe.choose_front_end("auto", metadata, "both")
        assert recipe.choose_front_end("trained", metadata, "both")[0] == "trained"


# ---- the loop: resume = straight -----------------------------------------------------------------
@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("pt")
    corpus = tiny_corpus(root / "corpus", n=10)
    teacher = TextTeacher(tiny_teacher(root / "teacher"))
    items, bad = Extractor(root / "cache", teacher, LogMel(n_mels=12)).prepare(discover(corpus), progress=False)
    assert not bad and len(items) == 10
    init = tiny_init(root / "init.pt", acoustic_head_size=12)
    return items, init


def trainer(items, init, out, steps=6, seed=7, front_end="frozen"):
    model, metadata = load_checkpoint(init)
    settings = Settings(steps=steps, batch_size=3, lr=1e-3, crop_seconds=0.5, valid_fraction=0.2,
                        valid_every=2, save_every=2, log_every=1, seed=seed, front_end=front_end)
    return Trainer(model, metadata, items, out, settings, identity={"test": "resume"})


class Killed(Exception):
    pass


@pytest.mark.parametrize("front_end", ["frozen", "trained"])
def test_killed_and_resumed_run_ends_exactly_like_a_straight_run(prepared, tmp_path, front_end):
    items, init = prepared
    straight = trainer(items, init, tmp_path / "straight", front_end=front_end)
    straight.fit(progress=False)

    interrupted = trainer(items, init, tmp_path / "resumed", front_end=front_end)
    step = interrupted.train_step

    def dying_step(batch=None):
        if interrupted.step == 3:  # after the state of step 2 was saved, with step 3 done and unsaved
            raise Killed
        return step(batch)

    interrupted.train_step = dying_step
    with pytest.raises(Killed):
        interrupted.fit(progress=False)

    resumed = trainer(items, init, tmp_path / "resumed", front_end=front_end)
    assert resumed.resume() and resumed.step == 2
    summary = resumed.fit(progress=False)
    assert summary["resumed_from"] == 2
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert resumed.history == straight.history and resumed.best == straight.best
    for kind in ("best", "last"):
        a, b = (read_checkpoint(tmp_path / run / f"{kind}.pt") for run in ("straight", "resumed"))
        assert all(torch.equal(v, b["state_dict"][k]) for k, v in a["state_dict"].items()), kind
        assert a["metadata"]["pretraining"] == b["metadata"]["pretraining"]
    # dropout was live, so the step-by-step randomness really had to be reproduced
    assert straight.model.config.speech.hidden_dropout > 0
    # the front end trained exactly when asked
    initial, _ = load_checkpoint(init)
    moved = not torch.equal(initial.feature_extractor.conv_layers[0].conv.weight,
                            straight.model.feature_extractor.conv_layers[0].conv.weight)
    assert moved == (front_end == "trained")


def test_a_different_seed_trains_differently_and_refuses_the_other_runs_state(prepared, tmp_path):
    items, init = prepared
    trainer(items, init, tmp_path / "a", steps=2).fit(progress=False)
    first = read_checkpoint(tmp_path / "a" / "last.pt")["state_dict"]
    other = trainer(items, init, tmp_path / "a", steps=2, seed=8)
    with pytest.raises(ResumeError, match="different pre-training run.*--restart"):
        other.resume()
    other.fit(progress=False)
    assert not torch.equal(first["acoustic_head.weight"], other.model.state_dict()["acoustic_head.weight"])


def test_shuffled_targets_give_each_utterance_another_ones_teacher_vector(prepared, tmp_path):
    """The control of --shuffle-targets: the same utterances and target distribution, no
    utterance with its own target, the same draw for the same seed, and a run of its own."""
    items, init = prepared
    plain = trainer(items, init, tmp_path / "plain")
    model, metadata = load_checkpoint(init)
    settings = dataclasses.replace(plain.settings, shuffle_targets=True)
    control = Trainer(model, metadata, items, tmp_path / "control", settings, identity={"test": "resume"})
    for mine, theirs in ((plain.train_items, control.train_items), (plain.valid_items, control.valid_items)):
        assert [p.key for p in mine] == [p.key for p in theirs]
        assert sorted(p.semantic for p in mine) == sorted(p.semantic for p in theirs)
        assert all(a.semantic != b.semantic for a, b in zip(mine, theirs))
    again = Trainer(model, metadata, items, tmp_path / "again", settings, identity={"test": "resume"})
    assert [p.semantic for p in again.train_items] == [p.semantic for p in control.train_items]
    control.fit(progress=False)
    with pytest.raises(ResumeError, match="differs in: settings"):
        trainer(items, init, tmp_path / "control").resume()


def test_batches_from_the_decoded_cache_and_workers_train_exactly_as_decoding_in_the_loop(prepared, tmp_path):
    """The decoded cache holds what decoding gives, sample for sample, and loader workers build
    the batches the loop would: the same weights either way."""
    items, init = prepared
    decoding = [dataclasses.replace(p, decoded=None) for p in items]  # the old path: whole files, every step
    for p in items[:3]:
        np.testing.assert_array_equal(read_crop(p, 0, 10**9), read_audio(p.path))
    runs = {}
    for name, its, workers in (("decoding in the loop", decoding, 0), ("cache and workers", items, 2)):
        run = trainer(its, init, tmp_path / name.replace(" ", "-"), steps=4)
        run.settings = dataclasses.replace(run.settings, workers=workers)
        summary = run.fit(progress=False)
        assert summary["data_wait"]["steps"] == 4 and 0 <= summary["data_wait"]["wait_fraction"] < 1
        runs[name] = run.model.state_dict()
    a, b = runs.values()
    assert all(torch.equal(v, b[k]) for k, v in a.items())
