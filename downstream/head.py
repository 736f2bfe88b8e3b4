"""The paper's head, the same for every upstream: pooling over valid frames -> Linear(D, 256)
-> ReLU -> Linear(256, C)."""
from __future__ import annotations

import torch
from torch import nn

POOLINGS = ("mean", "attentive")


class MeanPooling(nn.Module):
    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = (torch.arange(features.size(1), device=features.device)[None, :] < lengths[:, None])
        mask = mask.unsqueeze(-1).to(features.dtype)
        return (features * mask).sum(dim=1) / lengths.clamp(min=1)[:, None].to(features.dtype)


class AttentivePooling(nn.Module):
    """speechbrain's attentive statistics pooling (the aggregator of seed papers 002/003)."""

    def __init__(self, dim: int, attention_dim: int = 128):
        super().__init__()
        from speechbrain.lobes.models.ECAPA_TDNN import AttentiveStatisticsPooling

        self.pool = AttentiveStatisticsPooling(dim, attention_channels=attention_dim)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        relative = lengths.to(features.dtype) / features.size(1)
        return self.pool(features.transpose(1, 2), relative).squeeze(-1)


class UtteranceHead(nn.Module):
    def __init__(self, input_dim: int, output_dim: int, pooling: str = "mean", hidden_dim: int = 256):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"modelrc.pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = MeanPooling() if pooling == "mean" else AttentivePooling(input_dim)
        pooled_dim = input_dim if pooling == "mean" else 2 * input_dim
        self.mlp = nn.Sequential(nn.Linear(pooled_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, output_dim))

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``features``: B x T x D, zero-padded after ``lengths[b]`` frames."""
        return self.mlp(self.pooling(features, lengths))
