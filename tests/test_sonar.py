"""SONAR speech encoders through sonar-space's own builder, loader and pipeline."""
from __future__ import annotations

import hashlib

import pytest
import torch

from baseline_helpers import padded_vs_alone, perturb_, utterances
from care_superb.upstream.checkpoints import MARKER_KEY, UpstreamCheckpointError, load_payload
from care_superb.upstream.sonar import checkpoint
from care_superb.upstream.sonar.checkpoint import (
    fairseq_name,
    load_spenc,
    released_arch,
    speech_hub,
    write_spenc,
)
from care_superb.upstream.sonar.hubconf import sonar_local
from owner_fixtures import fairseq_training_checkpoint, save

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def spenc(random_checkpoint, tmp_path_factory):
    """A tiny random spenc-style file, weights and batch-norm statistics perturbed."""
    source = random_checkpoint("sonar")
    model, config, record = load_spenc(source)
    return write_spenc(tmp_path_factory.mktemp("sonar") / "spenc.tiny.pt", perturb_(model, seed=9), config, record)


def test_files_are_written_in_the_released_layout_and_read_by_sonar_spaces_converter(spenc):
    payload = load_payload(spenc)
    names = list(payload["model"])
    assert all(n.startswith(("encoder.w2v_model.", "decoder.")) for n in names)
    assert "encoder.w2v_model.encoder.layers.0.conv_module.depthwise_conv.weight" in names
    model, _, record = load_spenc(spenc)  # sonar-space's converter renames them back
    assert record["random_weights"] is True
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, payload["model"][fairseq_name(name)], atol=0, rtol=0)


def test_sentence_embedding_of_sonar_spaces_pipeline_is_its_pooler_on_our_last_state(spenc):
    from fairseq2.nn import BatchLayout
    from sonar.inference_pipelines.speech import SpeechToEmbeddingModelPipeline

    upstream = sonar_local(ckpt=str(spenc))
    owners_model = speech_hub().load_custom_model(spenc, upstream.config, device=torch.device("cpu"))
    wavs = utterances(1.0, 1.3, 1.9, seed=10)
    embeddings = SpeechToEmbeddingModelPipeline(encoder=owners_model).predict([w[None] for w in wavs], batch_size=3)
    with torch.no_grad():
        states = upstream(wavs)["hidden_states"]
        for i, wav in enumerate(wavs):
            alone = upstream([wav])["hidden_states"]
            last = alone[-1]
            frames = last.shape[1]
            torch.testing.assert_close(states[-1][i, :frames], last[0], atol=1e-5, rtol=0)
            pooled = upstream.model.encoder_pooler(last, BatchLayout.of(last))
            torch.testing.assert_close(pooled[0], embeddings[i], atol=1e-5, rtol=0)
            # broken on purpose: the conformer output before SONAR's final LayerNorm is not it
            before_norm = upstream.model.encoder(*upstream.model.encoder_frontend(
                upstream.filterbanks(wav)[None], BatchLayout.of(upstream.filterbanks(wav)[None])))
            wrong = upstream.model.encoder_pooler(before_norm, BatchLayout.of(before_norm))
            assert float((wrong[0] - embeddings[i]).abs().max()) > 1e-3


def test_last_state_is_sonar_spaces_encoder_output(spenc):
    from fairseq2.nn import BatchLayout

    upstream = sonar_local(ckpt=str(spenc))
    wav = utterances(1.4, seed=11)[0]
    with torch.no_grad():
        states = upstream([wav])["hidden_states"]
        fbank = upstream.filterbanks(wav)[None]
        output = upstream.model(fbank, BatchLayout.of(fbank))  # sonar-space's own forward
    assert len(states) == 4 and states[0].shape[-1] == 32
    torch.testing.assert_close(states[-1], output.encoded_seqs, atol=1e-6, rtol=0)


def test_padded_batch_equals_each_utterance_alone(spenc):
    upstream = sonar_local(ckpt=str(spenc))
    diff, padding = padded_vs_alone(upstream, utterances(1.0, 1.013, 1.7, 1.0, seed=12))
    assert diff < 1e-5 and padding == 0.0
    assert upstream.get_downsample_rates("hidden_states") == 320


def released_names(arch: str, rename=fairseq_name) -> dict:
    """The tensor names of a released file of ``arch`` (shapes not needed to tell the arch); with
    ``rename=str``, fairseq2's own names, as a fairseq2 trainer's model file holds them."""
    hub = speech_hub()
    model = hub.create_new_model(hub.get_arch_config(arch), meta=True)
    return {rename(name): None for name in model.state_dict()}


@pytest.mark.parametrize("rename", [fairseq_name, str], ids=["released-names", "fairseq2-names"])
@pytest.mark.parametrize("arch, layers", [("english", 3), ("non_english", 6)])
def test_released_files_are_told_apart_by_their_pooler(arch, layers, rename, tmp_path):
    config = released_arch(tmp_path / "spenc.pt", released_names(arch, rename))
    assert config.num_decoder_layers == layers
    assert config.w2v2_encoder_config.num_encoder_layers == 24 and config.model_dim == 1024


def test_a_file_neither_released_nor_recording_its_config(spenc, tmp_path):
    payload = load_payload(spenc)
    del payload[MARKER_KEY]
    stripped = tmp_path / "spenc.stripped.pt"
    torch.save(payload, stripped)
    with pytest.raises(UpstreamCheckpointError, match="found 3 encoder and 1 pooler layers"):
        sonar_local(ckpt=str(stripped))


def test_other_checkpoints_are_refused_and_named(random_checkpoint, tmp_path):
    release = random_checkpoint("emotion2vec")
    with pytest.raises(UpstreamCheckpointError) as error:
        sonar_local(ckpt=str(release))
    assert "expected a SONAR speech encoder file" in str(error.value) and "-u emotion2vec_local" in str(error.value)
    with pytest.raises(UpstreamCheckpointError, match="found a CARE checkpoint"):
        sonar_local(ckpt=str(random_checkpoint("care")))
    with pytest.raises(FileNotFoundError, match="no such file"):
        sonar_local(ckpt=str(tmp_path / "spenc.eng.pt"))


# ---- the file as the owners' trainers save it ---------------------------------------------------
def fairseq2_trainer_file(spenc, path):
    """A fairseq2 trainer's model file (``model/pp_00/tp_00/sdp_00.pt``): fairseq2's own tensor
    names at the top level, written by fairseq2's own TorchTensorDumper as its checkpoint manager does."""
    from fairseq2.file_system import LocalFileSystem
    from fairseq2.io import TorchTensorDumper

    model, _, _ = load_spenc(spenc)
    TorchTensorDumper(LocalFileSystem()).dump(model.state_dict(), path, pickle_protocol=2)
    return path


def fairseq_trainer_file(spenc, path):
    """The released layout (fairseq names under "model") inside a fairseq training checkpoint:
    omegaconf cfg, numpy numbers, optimizer state (hand-built: fairseq is not installed)."""
    released = load_payload(spenc)["model"]
    cfg = {"_name": None, "model": {"_name": "sonar_speech_encoder"}, "task": {"_name": "speech_to_text"}}
    return save(fairseq_training_checkpoint(released, cfg, "sonar_speech_encoder"), path)


@pytest.mark.parametrize("write", [fairseq2_trainer_file, fairseq_trainer_file])
def test_files_as_the_owners_trainers_save_them(spenc, tmp_path, write, monkeypatch):
    path = write(spenc, tmp_path / "spenc.owners.pt")
    assert MARKER_KEY not in load_payload(path)
    # Without our record the arch is told by the tensors (24 conformer layers in a real file, see
    # test_released_files_are_told_apart_by_their_pooler); the tiny test model has no such arch.
    tiny = load_spenc(spenc)[1]
    monkeypatch.setattr(checkpoint, "released_arch", lambda file, state: tiny)
    ours, theirs = sonar_local(ckpt=str(spenc)), sonar_local(ckpt=str(path))
    wavs = utterances(1.0, 1.5, seed=17)
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(ours(wavs)["hidden_states"], theirs(wavs)["hidden_states"]))
    p = theirs.provenance
    assert p["weights"] == "released" and p["random_weights"] is False and ours.provenance["weights"] == "random"
    assert p["released_files"] == [{"name": path.name, "bytes": path.stat().st_size,
                                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}]
