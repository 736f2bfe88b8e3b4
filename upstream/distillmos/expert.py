"""s3prl's UpstreamExpert for DistillMOS, on the owners' own model class.

The model reads 7.68 s windows (122 880 samples, 384 frames at 50 Hz: its positional encoding has
exactly 384 positions), each scaled to peak 1 as the owners' forward scales it. An utterance is cut
into consecutive windows, the last zero-padded as the owners pad a short input; the frames past
the utterance are dropped. Hidden states, 8 × 200 at 50 Hz: the transformer's input (the CNN's
spectrogram features, batch-normed, projected and position-encoded), then each of its 7 layers'
outputs. What follows in the owners' model (BatchNorm, attention pooling, sigmoid: the MOS head)
feeds no state. Each utterance is computed alone (``run_by_length``).
"""
from __future__ import annotations

import math
import os

import torch
from torch import Tensor
from torch.nn import functional as F

from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.batching import run_by_length
from care_superb.upstream.checkpoints import MARKER_KEY, identify, load_payload, mismatch, provenance

WINDOW = 122880  # distillmos.sqa.SEQ_LEN
HOP = 320  # samples per frame: STFT hop 160, the CNN's last time stride 2
EXPECTED = "a DistillMOS checkpoint (distill_mos_v7.pt: {'model': cnn.* and transformer_pool_attn.* tensors})"


def owners_model():
    """The owners' class, without its weights, reading whole windows (no cropping of its own)."""
    from distillmos import ConvTransformerSQAModel

    return ConvTransformerSQAModel(load_weights=False, segmenting_in_forward=False)


class UpstreamExpert(UpstreamBase):
    def __init__(self, ckpt: str | os.PathLike, upstream: str = "distillmos_local", **kwargs):
        super().__init__(**kwargs)
        if not ckpt or upstream not in identify(ckpt).readers:
            raise mismatch(ckpt, upstream, EXPECTED)
        payload = load_payload(ckpt)
        self.model = owners_model()
        self.model.load_state_dict(payload["model"], strict=True)
        # no record of ours (the owners' file): released, named and hashed
        self.provenance = provenance(ckpt, "DistillMOS through its owners' package distillmos",
                                     payload.get(MARKER_KEY), weight_files=[ckpt])
        self.eval()

    def get_downsample_rates(self, key: str) -> int:
        return HOP

    def windows_states(self, windows: Tensor) -> list[Tensor]:
        """``W × 122880`` windows -> 8 states of ``W × 384 × 200``, the owners' modules in their order."""
        x = windows / (windows.abs().max(dim=1, keepdim=True).values + 1e-8)  # as the owners' forward
        head = self.model.transformer_pool_attn
        x = self.model.cnn(x).permute(0, 2, 1)
        x = head.norm_input(x.transpose(-1, -2)).transpose(-1, -2)
        transformer = head.transformer
        x = transformer.norm(x.transpose(-1, -2)).transpose(-1, -2)
        x = transformer.position_encoding(transformer.linear_proj_drop(transformer.linear_proj(x)))
        states = [x]
        for layer in transformer.transformer_encoder.layers:
            states.append(layer(states[-1]))
        return states

    def forward(self, wavs: list[Tensor]) -> dict[str, list[Tensor]]:
        def same_length(batch: Tensor) -> list[Tensor]:  # G × L -> states of G × frames × 200
            count, length = batch.shape
            windows = max(1, math.ceil(length / WINDOW))
            padded = F.pad(batch, (0, windows * WINDOW - length)).reshape(count * windows, WINDOW)
            frames = math.ceil(length / HOP)
            return [s.reshape(count, -1, s.shape[-1])[:, :frames] for s in self.windows_states(padded)]

        return {"hidden_states": run_by_length(wavs, same_length)}
