"""s3prl's UpstreamExpert for a SONAR speech encoder.

Input as sonar-space's speech pipeline prepares it: each waveform alone to 80 log-mel filterbanks
(fairseq2's ``WaveformToFbankConverter``: 16-bit scale, standardised per utterance, 100 Hz), zero
padded into a batch with its lengths in fairseq2's ``BatchLayout``. The w2v-BERT front end stacks
pairs of frames (50 Hz, downsample rate 320) and projects them.

Hidden states (``num_encoder_layers + 1``: 25 × 1024 for the released encoders): the front end's
output, then every conformer layer's output, read with fairseq2's own encoder layer hook. The last
one is passed through SONAR's final LayerNorm (a leftover of w2v-BERT's pre-LN pre-training that
sonar-space applies after the encoder), so that it is what SONAR's attention pooler reads: the
pooler applied to it gives the sentence embedding of sonar-space's pipeline. Padded frames are
masked by fairseq2 in every layer and zero in every returned state.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.batching import frame_mask, zero_padded_frames
from care_superb.upstream.checkpoints import provenance
from care_superb.upstream.sonar.checkpoint import load_spenc

if TYPE_CHECKING:
    from fairseq2.nn import BatchLayout

FBANK_HOP = 160  # samples per filterbank frame at 16 kHz (10 ms)


class UpstreamExpert(UpstreamBase):
    def __init__(self, ckpt: str | os.PathLike, **kwargs):
        super().__init__(**kwargs)
        from fairseq2.data.audio import WaveformToFbankConverter

        self.model, self.config, record = load_spenc(ckpt)
        self.fbank = WaveformToFbankConverter(num_mel_bins=80, waveform_scale=2**15, channel_last=True,
                                              standardize=True)
        encoder = self.config.w2v2_encoder_config
        self.provenance = provenance(
            ckpt, f"SONAR speech encoder through sonar-space ({encoder.num_encoder_layers + 1} states of "
                  f"{encoder.model_dim})", record or None, weight_files=[ckpt],
            arch=None if record.get("sonar_config") else "released file, arch told by its tensors",
        )
        self.eval()

    def get_downsample_rates(self, key: str) -> int:
        return FBANK_HOP * self.config.w2v2_encoder_config.fbank_stride

    def filterbanks(self, wav: Tensor) -> Tensor:
        waveform = wav.detach().to("cpu", torch.float32)[:, None]
        return self.fbank({"waveform": waveform, "sample_rate": 16000.0})["fbank"]

    def encode(self, fbanks: list[Tensor]) -> tuple[list[Tensor], BatchLayout]:
        """Front end + conformer layers on a padded batch of filterbanks: the states and layout."""
        from fairseq2.nn import BatchLayout

        seqs = pad_sequence(fbanks, batch_first=True)
        layout = BatchLayout.of(seqs, [f.shape[0] for f in fbanks])
        seqs, layout = self.model.encoder_frontend(seqs, layout)
        states = [seqs]
        handle = self.model.encoder.register_layer_hook(
            lambda index, output, output_layout, num_layers: states.append(output) or True)
        try:
            self.model.encoder(seqs, layout)
        finally:
            handle.remove()
        if self.model.layer_norm is not None:
            states[-1] = self.model.layer_norm(states[-1])
        return states, layout

    def forward(self, wavs: list[Tensor]) -> dict[str, list[Tensor] | Tensor]:
        device = wavs[0].device
        fbanks = [self.filterbanks(w).to(device) for w in wavs]
        states, layout = self.encode(fbanks)
        mask = frame_mask(torch.tensor(layout.seq_lens, device=device), states[0].shape[1])
        states = zero_padded_frames(states, mask)
        return {"hidden_states": states, "last_hidden_state": states[-1]}
