"""What the baseline-upstream tests share (``from baseline_helpers import ...``)."""
from __future__ import annotations

import torch


def perturb_(module: torch.nn.Module, seed: int = 0, scale: float = 0.05) -> torch.nn.Module:
    """Move every parameter and normalisation statistic off its initial value, so that no part of a
    random model is an identity (LayerNorm 1/0, zero tokens) that would hide a wrong mapping."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * scale)
        for m in module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                m.running_mean.add_(torch.randn(m.running_mean.shape, generator=generator) * 0.1)
                m.running_var.mul_(1 + 0.2 * torch.rand(m.running_var.shape, generator=generator))
    return module


def utterances(*seconds: float, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(int(s * 16000), generator=generator) * 0.1 for s in seconds]


def padded_vs_alone(upstream, wavs: list[torch.Tensor]) -> tuple[float, float]:
    """(largest difference between an utterance's valid frames in the padded batch and alone,
    largest magnitude on padded frames) over every hidden state."""
    with torch.no_grad():
        batch = upstream(wavs)["hidden_states"]
        alone = [upstream([w])["hidden_states"] for w in wavs]
    diff, padding = 0.0, 0.0
    for i, states in enumerate(alone):
        frames = states[0].shape[1]
        for b, a in zip(batch, states):
            assert a.shape[1] == frames
            diff = max(diff, float((b[i, :frames] - a[0]).abs().max()))
            if b.shape[1] > frames:
                padding = max(padding, float(b[i, frames:].abs().max()))
    return diff, padding


def max_difference(ours: list[torch.Tensor], theirs: list[torch.Tensor]) -> list[float]:
    """Per hidden state, the largest difference (over the frames both have)."""
    assert len(ours) == len(theirs)
    out = []
    for a, b in zip(ours, theirs):
        frames = min(a.shape[1], b.shape[1])
        out.append(float((a[:, :frames] - b[:, :frames]).abs().max()))
    return out
