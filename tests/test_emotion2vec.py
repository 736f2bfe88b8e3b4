"""emotion2vec through funasr's own Emotion2vec, from the owners' release-folder layout."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import torch

from baseline_helpers import max_difference, padded_vs_alone, perturb_, utterances
from care_superb.upstream.checkpoints import MARKER_FILE, UpstreamCheckpointError, load_payload
from owner_fixtures import fairseq_training_checkpoint, save
from care_superb.upstream.batching import ZeroPaddingBefore
from care_superb.upstream.emotion2vec.hubconf import emotion2vec_local
from care_superb.upstream.emotion2vec.release import load_release, release_record, write_release

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def release(random_checkpoint, tmp_path_factory):
    """A tiny random release folder, every weight perturbed (extra tokens start at zero)."""
    folder = tmp_path_factory.mktemp("e2v") / "emotion2vec_tiny"
    source = random_checkpoint("emotion2vec")
    model, conf, _ = load_release(source)
    return write_release(folder, perturb_(model, seed=4), conf, release_record(source))


@pytest.fixture(scope="module")
def funasr_model(release):
    """The same folder read by funasr's own AutoModel (its loader, its config handling)."""
    from funasr import AutoModel

    automodel = AutoModel(model=str(release), disable_update=True, device="cpu", disable_pbar=True,
                          log_level="ERROR", ncpu=1)
    torch.set_num_threads(1)
    return automodel


def owners_block_states(model, wav: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """funasr's forward on one utterance, observed from outside: (block input + block outputs,
    funasr's layer_results), extra tokens removed."""
    encoder = model.modality_encoders["AUDIO"]
    blocks = list(encoder.context_encoder.blocks) + list(model.blocks)
    seen = []
    handles = [blocks[0].register_forward_pre_hook(lambda m, args: seen.append(args[0]))]
    handles += [b.register_forward_hook(lambda m, args, out: seen.append(out[0])) for b in blocks]
    try:
        with torch.no_grad():
            out = model.extract_features(torch.nn.functional.layer_norm(wav, wav.shape)[None], padding_mask=None)
    finally:
        for h in handles:
            h.remove()
    extra = encoder.modality_cfg.num_extra_tokens
    return [s[:, extra:] for s in seen], [r[:, extra:] for r in out["layer_results"]], out["x"]


def test_last_state_is_what_funasrs_own_feature_extraction_returns(release, funasr_model):
    upstream = emotion2vec_local(ckpt=str(release))
    for wav in utterances(1.0, 1.45, seed=5):
        feats = funasr_model.generate(wav.numpy(), granularity="frame", extract_embedding=True)[0]["feats"]
        with torch.no_grad():
            ours = upstream([wav])["hidden_states"]
        assert len(ours) == 4  # block input + 1 pre-net block + 2 blocks
        torch.testing.assert_close(ours[-1][0], torch.from_numpy(feats), atol=1e-5, rtol=0)


def test_every_state_is_a_block_of_funasrs_forward_and_layer_results_are_not(release, funasr_model):
    upstream = emotion2vec_local(ckpt=str(release))
    wavs = utterances(1.0, 1.3, 1.6, seed=6)
    with torch.no_grad():
        batch = upstream(wavs)["hidden_states"]
    for i, wav in enumerate(wavs):
        theirs, layer_results, x = owners_block_states(funasr_model.model, wav)
        frames = theirs[0].shape[1]
        assert max(max_difference([s[i:i + 1, :frames] for s in batch], theirs)) < 1e-5
        torch.testing.assert_close(theirs[-1], x, atol=0, rtol=0)
        # funasr's layer_results: each block's feed-forward output before residual and norm
        assert all(not torch.allclose(r, s, atol=1e-3) for r, s in zip(layer_results, theirs[-2:]))


def test_the_parity_check_fails_when_one_weight_is_off(release, funasr_model):
    upstream = emotion2vec_local(ckpt=str(release))
    with torch.no_grad():
        upstream.model.blocks[1].mlp.fc1.weight[0, 0] += 0.5
        ours = upstream(utterances(1.2, seed=7))["hidden_states"]
    theirs, _, _ = owners_block_states(funasr_model.model, utterances(1.2, seed=7)[0])
    diffs = max_difference(ours, theirs)
    assert max(diffs[:3]) < 1e-5 and diffs[3] > 1e-4


def test_padded_batch_equals_each_utterance_alone(release):
    diff, padding = padded_vs_alone(emotion2vec_local(ckpt=str(release)), utterances(1.0, 1.013, 1.7, 1.0))
    assert diff < 1e-5 and padding == 0.0


def test_the_padding_must_be_zeroed_before_each_positional_convolution(release, monkeypatch):
    # funasr's batched forward lets the padding reach the last frames through its stacked
    # positional convolutions; the pre-hook is what makes the batch exact
    monkeypatch.setattr(ZeroPaddingBefore, "__call__", lambda self, module, args: None)
    diff, _ = padded_vs_alone(emotion2vec_local(ckpt=str(release)), utterances(1.0, 1.7))
    assert diff > 1e-4


def test_waveforms_are_normalised_one_by_one(release):
    upstream = emotion2vec_local(ckpt=str(release))
    wav = utterances(1.1, seed=8)[0]
    with torch.no_grad():
        torch.testing.assert_close(upstream([wav])["last_hidden_state"], upstream([wav * 9])["last_hidden_state"],
                                   atol=1e-4, rtol=0)


def test_provenance(release):
    p = emotion2vec_local(ckpt=str(release)).provenance
    assert p["ckpt"] == str(release) and p["random_weights"] is True and p["weights"] == "random"
    assert p["weight_file"] == "emotion2vec_base.pt" and "released_files" not in p


def test_a_sonar_file_is_refused_and_named(random_checkpoint):
    spenc = random_checkpoint("sonar")
    with pytest.raises(UpstreamCheckpointError) as error:
        emotion2vec_local(ckpt=str(spenc))
    message = str(error.value)
    assert str(spenc) in message and "expected an emotion2vec release folder" in message
    assert "found a SONAR speech encoder checkpoint" in message and "-u sonar_local" in message


def test_a_folder_without_the_release_files(tmp_path, release):
    with pytest.raises(UpstreamCheckpointError, match="neither config.json"):
        emotion2vec_local(ckpt=str(tmp_path))
    folder = tmp_path / "r"
    shutil.copytree(release, folder)
    meta = json.loads((folder / "configuration.json").read_text())
    meta["file_path_metas"]["init_param"] = "model.pt"
    (folder / "configuration.json").write_text(json.dumps(meta))
    with pytest.raises(UpstreamCheckpointError, match="names the weight file model.pt, which is not in the folder"):
        emotion2vec_local(ckpt=str(folder))
    (folder / "configuration.json").write_text("{}")
    with pytest.raises(UpstreamCheckpointError, match="file_path_metas.init_param"):
        emotion2vec_local(ckpt=str(folder))


def test_weights_of_another_model_in_a_release_folder(tmp_path, release, random_checkpoint):
    folder = tmp_path / "r"
    shutil.copytree(release, folder)
    shutil.copy(random_checkpoint("sonar"), folder / "emotion2vec_base.pt")
    with pytest.raises(UpstreamCheckpointError, match="does not fit the Emotion2vec model .* holds a SONAR"):
        emotion2vec_local(ckpt=str(folder))
    (folder / "config.yaml").write_text("model: Paraformer\nmodel_conf: {}\n")
    with pytest.raises(UpstreamCheckpointError, match="found model: 'Paraformer'"):
        emotion2vec_local(ckpt=str(folder))


# ---- the weight file as the owners' trainers save it -------------------------------------------
def owners_folder(release, folder, weight_name: str):
    """The release folder as the owners publish it: no record of ours, the weight file renamed."""
    shutil.copytree(release, folder)
    (folder / MARKER_FILE).unlink()
    (folder / "emotion2vec_base.pt").unlink()
    meta = json.loads((folder / "configuration.json").read_text())
    meta["file_path_metas"]["init_param"] = weight_name
    (folder / "configuration.json").write_text(json.dumps(meta))
    return folder / weight_name


def funasr_trainer_file(release, folder):
    """model.pt as funasr's own Trainer.save_checkpoint writes it (emotion2vec_plus releases are
    funasr-trained): state_dict, optimizer, scheduler and the trainer's bookkeeping."""
    from funasr.train_utils.trainer import Trainer

    weights = owners_folder(release, folder, "model.pt")
    model, _, _ = load_release(release)
    optimizer = torch.optim.Adam(model.parameters())
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()  # zero gradients: Adam's state is filled, the weights do not move
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1000)
    trainer = Trainer(local_rank=0, output_dir=str(folder / "train"), device="cpu")
    trainer.save_checkpoint(epoch=1, model=model, optim=optimizer, scheduler=scheduler)
    shutil.move(folder / "train" / "model.pt", weights)
    shutil.rmtree(folder / "train")
    return weights


def fairseq_trainer_file(release, folder):
    """emotion2vec_base.pt as fairseq's trainer writes it (emotion2vec was trained with fairseq: its
    repository registers the model as data2vec_multi, its own audio_pretraining task, and loads the
    file with fairseq's load_model_ensemble_and_task)."""
    weights = owners_folder(release, folder, "emotion2vec_base.pt")
    model, conf, _ = load_release(release)
    cfg = {"_name": None, "task": {"_name": "audio_pretraining", "data": "/data/emotion", "normalize": True},
           "model": {"_name": "data2vec_multi", **conf}}
    return save(fairseq_training_checkpoint(model.state_dict(), cfg, "data2vec_multi"), weights)


@pytest.mark.parametrize("write", [funasr_trainer_file, fairseq_trainer_file])
def test_weight_files_as_the_owners_trainers_save_them(release, tmp_path, write):
    weights = write(release, tmp_path / "emotion2vec_owners")
    payload = torch.load(weights, map_location="cpu", weights_only=False)
    assert {"optimizer", "last_optimizer_state"} & set(payload)  # a training checkpoint, optimizer included
    assert not {"optimizer", "last_optimizer_state", "scheduler", "extra_state"} & set(load_payload(weights))
    ours, theirs = emotion2vec_local(ckpt=str(release)), emotion2vec_local(ckpt=str(weights.parent))
    wavs = utterances(1.0, 1.4, seed=15)
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(ours(wavs)["hidden_states"], theirs(wavs)["hidden_states"]))
    p = theirs.provenance
    assert p["weights"] == "released" and p["random_weights"] is False and p["weight_file"] == weights.name
    assert p["released_files"] == [{"name": weights.name, "bytes": weights.stat().st_size,
                                    "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}]


def test_funasrs_own_loader_reads_the_funasr_trainer_file_as_we_do(release, tmp_path):
    from funasr import AutoModel

    weights = funasr_trainer_file(release, tmp_path / "emotion2vec_plus")
    automodel = AutoModel(model=str(weights.parent), disable_update=True, device="cpu", disable_pbar=True,
                          log_level="ERROR", ncpu=1)
    torch.set_num_threads(1)
    wav = utterances(1.2, seed=16)[0]
    feats = automodel.generate(wav.numpy(), granularity="frame", extract_embedding=True)[0]["feats"]
    with torch.no_grad():
        ours = emotion2vec_local(ckpt=str(weights.parent))([wav])["hidden_states"][-1][0]
    torch.testing.assert_close(ours, torch.from_numpy(feats), atol=1e-5, rtol=0)
