"""A padded batch that gives every utterance what it gets alone.

s3prl hands an upstream a list of waveforms of different lengths. Models whose first convolution
is normalised over time (a GroupNorm: wav2vec2-base, HuBERT-base, WavLM-base) see the zeros padded
after a short utterance, and no attention mask can hide them (transformers' docs: do not pass one to
those models). Only that first layer (convolution, GroupNorm, activation) needs an utterance
alone: every later convolution of the front end is unnormalised, and its valid output frames read
only valid input frames. So ``first_layer_alone`` runs the first layer once per group of
equal-length utterances and the rest of the model batched, with its attention mask. Models whose
every step is per frame or masked run batched with their own masks, and their padded frames are
zeroed. ``run_by_length`` runs a whole model per equal-length group (for models not known to be
exact under a mask).
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterable, Sequence

import torch
from torch import Tensor


def length_groups(lengths: Sequence[int]) -> list[list[int]]:
    """Indices of equal-length utterances, one list per distinct length (shortest first)."""
    groups: dict[int, list[int]] = {}
    for index, length in enumerate(lengths):
        groups.setdefault(int(length), []).append(index)
    return [groups[length] for length in sorted(groups)]


def frame_mask(frame_lengths: Tensor | Sequence[int], frames: int, device=None) -> Tensor:
    """B × frames, True on each utterance's valid frames."""
    lengths = torch.as_tensor(frame_lengths, device=device)
    return torch.arange(frames, device=lengths.device)[None, :] < lengths[:, None]


def zero_padded_frames(states: list[Tensor], mask: Tensor) -> list[Tensor]:
    """Every B × T × D state with its padded frames set to zero."""
    keep = mask[..., None].to(states[0].dtype)
    return [state * keep for state in states]


def run_by_length(wavs: list[Tensor], forward: Callable[[Tensor], list[Tensor]]) -> list[Tensor]:
    """``forward`` once per group of equal-length utterances, reassembled as a padded batch.

    forward: ``G × L`` waveforms (no padding) -> list of ``G × T × D`` states. The result is a list
    of ``B × T_max × D`` states in the order of ``wavs``, zero after each utterance's frames.
    """
    out: list[Tensor] | None = None
    for rows in reversed(length_groups([len(w) for w in wavs])):  # longest first: it sets T_max
        states = forward(torch.stack([wavs[i] for i in rows]))
        if out is None:
            out = [s.new_zeros(len(wavs), s.shape[1], s.shape[-1]) for s in states]
        index = torch.tensor(rows, device=states[0].device)
        for target, state in zip(out, states):
            target[index, : state.shape[1]] = state
    return out


class ZeroPaddingBefore:
    """A forward pre-hook on modules that read ``B × C × T`` (convolutions): zero the padded frames
    of their input, as each utterance alone sees zero padding there. Active only inside
    ``with hook.masking(frame_mask):``, i.e. during one batched forward."""

    def __init__(self, modules: Iterable[torch.nn.Module]):
        self.mask: Tensor | None = None
        for module in modules:
            module.register_forward_pre_hook(self)

    @contextlib.contextmanager
    def masking(self, mask: Tensor):
        self.mask = mask
        try:
            yield
        finally:
            self.mask = None

    def __call__(self, module, args):
        if self.mask is None:
            return None
        hidden = args[0]
        return (hidden * self.mask[:, None, : hidden.shape[-1]].to(hidden.dtype),) + tuple(args[1:])


class _FirstLayerAlone(torch.nn.Module):
    def __init__(self, layer: torch.nn.Module, lengths: list[int]):
        super().__init__()
        self.layer, self.lengths = layer, lengths

    def forward(self, hidden: Tensor) -> Tensor:  # B x 1 x samples, zero-padded
        out: Tensor | None = None
        for rows in reversed(length_groups(self.lengths)):  # longest first: it sets the frame count
            group = self.layer(hidden[rows, :, : self.lengths[rows[0]]])
            if out is None:
                out = group.new_zeros(hidden.shape[0], group.shape[1], group.shape[2])
            out[rows, :, : group.shape[2]] = group
        return out


@contextlib.contextmanager
def first_layer_alone(feature_encoder: torch.nn.Module, lengths: Sequence[int]):
    """Inside it, a transformers convolutional feature encoder (``conv_layers``) runs its first
    layer per group of equal-length utterances (``lengths``: samples, in batch order), its frames
    zero-padded back into the batch, and the later layers batched."""
    layers = feature_encoder.conv_layers
    first = layers[0]
    layers[0] = _FirstLayerAlone(first, [int(n) for n in lengths])
    try:
        yield
    finally:
        layers[0] = first
