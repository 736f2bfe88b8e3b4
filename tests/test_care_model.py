"""CARE's model: parity with transformers' WavLM and RoBERTa, lengths, padding, base sizes."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import RobertaConfig, RobertaModel, WavLMModel

from care_superb.upstream.care.config import CareConfig
from care_superb.upstream.care.initialise import copy_speech_weights, copy_text_weights
from care_superb.upstream.care.model import CareModel
from s3prl.upstream.interfaces import TOLERABLE_SEQLEN_DIFF

torch.set_num_threads(1)


def tiny_config(**speech_overrides) -> CareConfig:
    config = CareConfig.preset("tiny")
    for key, value in speech_overrides.items():
        setattr(config.speech, key, value)
    return config


@pytest.fixture(scope="module")
def trio():
    """A tiny CARE whose weights come from an independent WavLMModel and RobertaModel."""
    torch.manual_seed(0)
    config = tiny_config()
    wavlm = WavLMModel(config.speech).eval()
    roberta = RobertaModel(config.text).eval()
    care = CareModel(config).eval()
    copy_speech_weights(care, wavlm)
    copy_text_weights(care, roberta)
    return care, wavlm, roberta


def test_common_and_acoustic_states_equal_wavlm_hidden_states(trio):
    care, wavlm, _ = trio
    wav = torch.randn(2, 24000)
    with torch.no_grad():
        ours = care(wav).hidden_states("acoustic")  # x0, c1..c6, a1..a6
        theirs = wavlm(wav, output_hidden_states=True).hidden_states
    assert len(ours) == len(theirs) == 13
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, k
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0, msg=f"state {k}")


def test_each_semantic_layer_is_the_roberta_layer_between_the_adapters(trio):
    care, _, roberta = trio
    config = care.config
    wav = torch.randn(1, 17000)
    with torch.no_grad():
        out = care(wav)
        frames = out.common[-1].shape[1]
        x = out.common[-1]  # the semantic encoder starts from the common encoder's output
        sem = care.semantic_encoder
        for i, state in enumerate(out.semantic):
            reduced = sem.down[i](x.transpose(1, 2)).transpose(1, 2)
            assert reduced.shape[-1] == config.text_hidden_size
            # the text layer from the *independent* RoBERTa: its last six layers are CARE's
            text_layer = roberta.encoder.layer[config.text_layer_offset + i]
            h = text_layer(reduced)[0]
            up = sem.up[i](h.transpose(1, 2)).transpose(1, 2)
            expected = up[:, :frames] if up.shape[1] >= frames else F.pad(up, (0, 0, 0, frames - up.shape[1]))
            torch.testing.assert_close(state, expected, atol=1e-5, rtol=0, msg=f"semantic {i}")
            x = state
    assert len(out.semantic) == 6
    # the last six of eight layers: the first two RoBERTa layers are not used
    assert config.text_layer_offset == 2
    assert not torch.equal(
        care.semantic_encoder.layers[0].attention.self.query.weight,
        roberta.encoder.layer[0].attention.self.query.weight,
    )


def test_hidden_state_layouts(trio):
    care, _, _ = trio
    with torch.no_grad():
        out = care(torch.randn(1, 16000))
    both = out.hidden_states("both")
    acoustic = out.hidden_states("acoustic")
    semantic = out.hidden_states("semantic")
    width = care.config.hidden_size
    assert len(both) == len(acoustic) == len(semantic) == 13
    for k in range(13):
        assert both[k].shape[-1] == 2 * width and acoustic[k].shape[-1] == width
        torch.testing.assert_close(both[k][..., :width], semantic[k], atol=0, rtol=0)
        torch.testing.assert_close(both[k][..., width:], acoustic[k], atol=0, rtol=0)
    for k in range(7):  # input and common layers duplicated
        torch.testing.assert_close(acoustic[k], semantic[k], atol=0, rtol=0)
    for i in range(6):
        torch.testing.assert_close(acoustic[7 + i], out.acoustic[i], atol=0, rtol=0)
        torch.testing.assert_close(semantic[7 + i], out.semantic[i], atol=0, rtol=0)
        assert not torch.allclose(out.acoustic[i], out.semantic[i])


def test_skipping_a_branch_leaves_the_other_unchanged(trio):
    care, _, _ = trio
    wav = torch.randn(1, 16000)
    with torch.no_grad():
        full = care(wav)
        only_acoustic = care(wav, semantic=False)
        only_semantic = care(wav, acoustic=False)
    assert only_acoustic.semantic is None and only_semantic.acoustic is None
    for a, b in zip(full.acoustic, only_acoustic.acoustic):
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    for a, b in zip(full.semantic, only_semantic.semantic):
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    with pytest.raises(ValueError):
        only_acoustic.hidden_states("both")


@pytest.mark.parametrize("seconds", [1.0, 1.013, 20.0])
def test_frame_counts_fit_s3prl(trio, seconds):
    care, _, _ = trio
    samples = round(seconds * 16000)
    with torch.no_grad():
        states = care(torch.randn(1, samples)).hidden_states()
    frames = states[0].shape[1]
    # WavLM's conv stack without padding: 16000 -> 49, 16208 -> 50, 320000 -> 999
    assert frames == {16000: 49, 16208: 50, 320000: 999}[samples]
    assert all(s.shape[1] == frames for s in states)
    # s3prl's Featurizer.tolist accepts a difference below TOLERABLE_SEQLEN_DIFF
    assert abs(frames - round(samples / care.config.downsample_rate)) < TOLERABLE_SEQLEN_DIFF


def forward_wavs(care: CareModel, wavs: list[torch.Tensor]):
    """A list of 1-D waveforms of any lengths, padded into one batch."""
    lengths = torch.tensor([len(w) for w in wavs], dtype=torch.long)
    return care(torch.nn.utils.rnn.pad_sequence(list(wavs), batch_first=True), lengths)


@pytest.mark.parametrize("feat_extract_norm", ["group", "layer"])
def test_padded_batch_equals_each_utterance_alone(feat_extract_norm):
    torch.manual_seed(1)
    care = CareModel(tiny_config(feat_extract_norm=feat_extract_norm)).eval()
    # 1 s, 1.013 s, 0.05 s (2 frames: shorter than one adapter kernel), 3 s (the longest)
    wavs = [torch.randn(n) for n in (16000, 16208, 800, 48000)]
    with torch.no_grad():
        batch = forward_wavs(care, wavs)
        batch_states = batch.hidden_states()
        for i, wav in enumerate(wavs):
            alone = forward_wavs(care, [wav])
            frames = int(alone.frame_lengths[0])
            assert int(batch.frame_lengths[i]) == frames
            for k, (b, a) in enumerate(zip(batch_states, alone.hidden_states())):
                torch.testing.assert_close(
                    b[i, :frames], a[0], atol=1e-5, rtol=0, msg=f"utt {i} state {k}"
                )
                # padded frames are zero, so that no later pooling sees leftovers
                assert torch.count_nonzero(b[i, frames:]) == 0


def test_group_norm_would_see_padding_without_the_per_length_first_layer():
    """The reason for the per-length first layer: run batched, the padding changes the features."""
    torch.manual_seed(2)
    care = CareModel(tiny_config()).eval()
    short, long = torch.randn(16000), torch.randn(32000)
    padded = torch.nn.utils.rnn.pad_sequence([short, long], batch_first=True)
    with torch.no_grad():
        batched = care.feature_extractor(padded)
        alone = care.feature_extractor(short[None])
        ours = care.extract_features(padded, torch.tensor([16000, 32000]))
    frames = alone.shape[-1]
    scale = alone.abs().max()
    assert (batched[0, :, :frames] - alone[0]).abs().max() > 0.1 * scale
    assert (ours[0, :, :frames] - alone[0]).abs().max() < 1e-4 * scale


def test_too_short_input_is_refused():
    care = CareModel(tiny_config()).eval()
    with pytest.raises(ValueError, match="receptive field"):
        care(torch.randn(1, 399))


def test_base_configuration_has_the_papers_sizes():
    config = CareConfig.preset("base")
    speech, text = config.speech, config.text
    assert (speech.hidden_size, speech.num_hidden_layers, speech.num_attention_heads) == (768, 12, 12)
    assert speech.intermediate_size == 3072
    assert list(speech.conv_dim) == [512] * 7 and config.downsample_rate == 320
    assert speech.feat_extract_norm == "group" and not speech.do_stable_layer_norm
    assert (config.num_common_layers, config.num_acoustic_layers, config.num_semantic_layers) == (6, 6, 6)
    assert isinstance(text, RobertaConfig)
    assert (text.hidden_size, text.num_hidden_layers, text.num_attention_heads) == (768, 12, 12)
    assert text.layer_norm_eps == 1e-5 and text.vocab_size == 50265
    assert config.text_layer_offset == 6  # RoBERTa layers 6..11: the last six
    assert (config.adapter_kernel_size, config.adapter_stride, config.adapter_output_padding) == (5, 3, 1)
    assert config.num_hidden_states == 13 and 2 * config.hidden_size == 1536
    with torch.device("meta"):
        model = CareModel(config)
    assert len(model.feature_extractor.conv_layers) == 7
    assert len(model.common_encoder.layers) == len(model.acoustic_encoder.layers) == 6
    assert hasattr(model.common_encoder.layers[0].attention, "rel_attn_embed")
    assert not hasattr(model.acoustic_encoder.layers[0].attention, "rel_attn_embed")
    sem = model.semantic_encoder
    assert len(sem.layers) == len(sem.down) == len(sem.up) == 6
    assert type(sem.layers[0]).__name__ == "RobertaLayer"
    assert sem.down[0].weight.shape == (768, 768, 5) and sem.down[0].stride == (3,)
    assert sem.up[0].weight.shape == (768, 768, 5) and sem.up[0].output_padding == (1,)
    assert model.acoustic_head.weight.shape == (256, 768)


def test_config_round_trips_through_a_plain_dict():
    config = CareConfig.preset("tiny", num_common_layers=4)
    data = config.to_dict()
    again = CareConfig.from_dict(data)
    assert again.to_dict() == data
    assert again.num_acoustic_layers == 8 and again.text_layer_offset == 0


def test_config_refuses_impossible_splits():
    with pytest.raises(ValueError, match="text encoder has 8 layers"):
        CareConfig.preset("tiny", num_common_layers=2)  # 10 acoustic layers, 8 text layers
    with pytest.raises(ValueError, match="num_common_layers"):
        CareConfig.preset("tiny", num_common_layers=12)
