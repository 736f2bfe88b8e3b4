"""CARE's speech side from HuBERT or data2vec-audio folders (the paper's Table VI): the common and
acoustic encoders then compute exactly what the source model computes, layer by layer."""
from __future__ import annotations

import pytest
import torch
from transformers import Data2VecAudioConfig, Data2VecAudioModel, HubertConfig, HubertModel

from care_superb.cli import main as cli
from care_superb.upstream.care.checkpoint import load_checkpoint

torch.set_num_threads(1)
TINY = dict(hidden_size=32, num_hidden_layers=12, num_attention_heads=2, intermediate_size=64,
            conv_dim=(32,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_kernel=(10, 3, 3, 3, 3, 2, 2),
            num_conv_pos_embedding_groups=2)
SOURCES = {
    "hubert": lambda: HubertModel(HubertConfig(num_conv_pos_embeddings=16, **TINY)),
    "data2vec-audio": lambda: Data2VecAudioModel(Data2VecAudioConfig(conv_pos_kernel_size=5, **TINY)),
}


@pytest.mark.parametrize("family", sorted(SOURCES))
def test_care_init_from_a_speech_family_reproduces_its_hidden_states(family, tmp_path):
    torch.manual_seed(0)
    source = SOURCES[family]().eval()
    source.save_pretrained(tmp_path / family)
    out = tmp_path / "care.pt"
    assert cli(["care-init", "--size", "tiny", "--speech", str(tmp_path / family), "--out", str(out)]) == 0
    care, metadata = load_checkpoint(out)
    assert metadata["random_weights"] is False
    name = {"hubert": "HuBERT", "data2vec-audio": "data2vec-audio"}[family]
    assert metadata["speech_init"]["kind"] == "pretrained"
    assert metadata["speech_init"]["detail"].startswith(f"{name} from local folder")
    wav = torch.randn(2, 20000)
    with torch.no_grad():
        ours = care(wav).hidden_states("acoustic")  # x0, c1..c6, a1..a6
        theirs = source(wav, output_hidden_states=True).hidden_states
    assert len(ours) == len(theirs) == 13
    for k, (a, b) in enumerate(zip(ours, theirs)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0, msg=f"{family} state {k}")
    # the check can fail: WavLM's relative position bias, were it left random, changes every layer
    torch.nn.init.normal_(care.common_encoder.layers[0].attention.rel_attn_embed.weight)
    with torch.no_grad():
        broken = care(wav).hidden_states("acoustic")
    assert not torch.allclose(broken[1], theirs[1], atol=1e-3)


def test_an_unsupported_speech_model_is_named(tmp_path):
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    Wav2Vec2Model(Wav2Vec2Config(**TINY)).save_pretrained(tmp_path / "w2v")
    with pytest.raises(ValueError, match="'wav2vec2' model; CARE's speech side starts from wavlm, hubert"):
        cli(["care-init", "--speech", str(tmp_path / "w2v"), "--out", str(tmp_path / "x.pt")])
