"""s3prl's UpstreamExpert for CARE: a list of 16 kHz waveforms in, 13 layer-wise states out."""
from __future__ import annotations

import os

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.care.checkpoint import load_checkpoint, random_weights
from care_superb.upstream.care.model import BRANCHES


class UpstreamExpert(UpstreamBase):
    """CARE from a CARE checkpoint file.

    branches: ``both`` (13 × 2·width, ``[x0;x0] .. [s_i;a_i]``), ``acoustic`` (13 × width,
    ``x0, c1..c6, a1..a6``) or ``semantic`` (13 × width, ``x0, c1..c6, s1..s6``); the branch left
    out is not computed. The model is loaded in eval mode; s3prl's runner keeps it frozen (no
    gradient, eval mode) unless asked to fine-tune the upstream.
    """

    def __init__(self, ckpt: str | os.PathLike, branches: str = "both", **kwargs):
        super().__init__(**kwargs)
        if branches not in BRANCHES:
            raise ValueError(f"branches must be one of {BRANCHES}, not {branches!r}")
        self.model, self.metadata = load_checkpoint(ckpt)
        self.branches = branches
        # Read by care_superb.upstream's hub entries, so that result rows say what produced them.
        self.provenance = {
            "ckpt": str(ckpt),
            "random_weights": random_weights(self.metadata),
            "description": self.metadata.get("description") or self.model.config.describe(),
            "branches": branches,
            "config": self.model.config.describe(),
            **{f"ckpt_{key}": value for key, value in self.metadata.items()},
        }
        self.eval()  # the whole upstream, not only the model: nothing in training mode

    def get_downsample_rates(self, key: str) -> int:
        return self.model.config.downsample_rate

    def forward(self, wavs: list[Tensor]) -> dict[str, list[Tensor] | Tensor]:
        lengths = torch.tensor([len(w) for w in wavs], dtype=torch.long, device=wavs[0].device)
        padded = pad_sequence(list(wavs), batch_first=True)
        output = self.model(
            padded,
            lengths,
            acoustic=self.branches in ("both", "acoustic"),
            semantic=self.branches in ("both", "semantic"),
        )
        hidden_states = output.hidden_states(self.branches)
        return {"hidden_states": hidden_states, "last_hidden_state": hidden_states[-1]}
