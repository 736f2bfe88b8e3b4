"""The head pools over valid frames only: a padded batch equals its utterances one by one."""
from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pad_sequence

from care_superb.downstream.head import UtteranceHead


@pytest.mark.parametrize("pooling", ["mean", "attentive"])
def test_padding_does_not_change_the_logits(pooling):
    torch.manual_seed(0)
    head = UtteranceHead(24, 5, pooling=pooling).eval()
    features = [torch.randn(n, 24) for n in (7, 31, 50)]
    padded = pad_sequence(features, batch_first=True, padding_value=123.0)  # garbage in the pad
    lengths = torch.tensor([len(f) for f in features])
    with torch.no_grad():
        batch = head(padded, lengths)
        alone = torch.cat([head(f[None], torch.tensor([len(f)])) for f in features])
    assert torch.allclose(batch, alone, atol=1e-5)


def test_mean_pooling_is_the_mean_of_valid_frames():
    head = UtteranceHead(3, 2)
    x = torch.tensor([[[1.0, 2.0, 3.0], [3.0, 4.0, 5.0], [100.0, 100.0, 100.0]]])
    assert torch.allclose(head.pooling(x, torch.tensor([2])), torch.tensor([[2.0, 3.0, 4.0]]))


def test_the_papers_shape():
    head = UtteranceHead(1536, 7)
    linears = [m for m in head.mlp if isinstance(m, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(1536, 256), (256, 7)]
    assert isinstance(head.mlp[1], torch.nn.ReLU)


def test_unknown_pooling():
    with pytest.raises(ValueError, match="modelrc.pooling"):
        UtteranceHead(4, 2, pooling="max")
