"""s3prl's UpstreamExpert for emotion2vec: funasr's own forward, observed block by block.

Hidden states (``1 + prenet_depth + depth``: 13 × 768 for emotion2vec_base, 50 Hz):

* the block input: the projected convolutional features plus the convolutional positional
  embedding, through the pre-net's LayerNorm (what the first transformer block reads);
* the output of every transformer block, the pre-net's and the main encoder's.

funasr's ``layer_results`` are not these: each is a block's feed-forward output *before* its
residual connection and final LayerNorm (data2vec's regression targets). The last state equals the
``x`` funasr's feature extraction returns (no final norm in post-LN models). The extra tokens
funasr prepends are removed from every state.

Each waveform is normalised alone over its own samples when ``model_conf.normalize`` is set (as
funasr's inference does), then the batch runs through funasr's ``extract_features`` with its
sample-level padding mask. One thing funasr's batched forward does not do: its positional
embedding is a stack of convolutions whose padding would reach the last valid frames; a pre-hook
zeroes padded frames before each of them, as each utterance alone sees zero padding there. The
front end normalises per frame (``extractor_mode: layer_norm``); a ``default`` (GroupNorm) front
end runs per group of equal-length utterances instead.
"""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.batching import ZeroPaddingBefore, frame_mask, run_by_length, zero_padded_frames
from care_superb.upstream.checkpoints import provenance
from care_superb.upstream.emotion2vec.release import hidden_state_count, load_release, release_record


class UpstreamExpert(UpstreamBase):
    def __init__(self, ckpt: str | os.PathLike, **kwargs):
        super().__init__(**kwargs)
        self.model, self.conf, info = load_release(ckpt)
        encoder = self.model.modality_encoders["AUDIO"]
        self.audio_conf = self.conf["modalities"]["audio"]
        self.layers = [(dim, kernel, stride) for dim, kernel, stride in encoder.feature_enc_layers]
        self.blocks = list(encoder.context_encoder.blocks) + list(self.model.blocks)
        self.extra_tokens = int(self.audio_conf.get("num_extra_tokens", 0))
        self.by_length = self.audio_conf.get("extractor_mode", "default") != "layer_norm"
        self._states: list[Tensor] = []
        self.blocks[0].register_forward_pre_hook(lambda module, args: self._states.append(args[0]))
        for block in self.blocks:
            block.register_forward_hook(lambda module, args, output: self._states.append(output[0]))
        self.zero_padding = ZeroPaddingBefore(
            m for m in encoder.relative_positional_encoder.modules() if isinstance(m, torch.nn.Conv1d))
        count = hidden_state_count(self.conf)
        self.provenance = provenance(
            ckpt, f"emotion2vec from a release folder through funasr's Emotion2vec ({count} states of "
                  f"{self.conf['embed_dim']})", release_record(ckpt),
            weight_files=[os.path.join(ckpt, info["weight_file"])],
            normalize=bool(self.conf.get("normalize", False)), **info,
        )
        self.eval()

    def get_downsample_rates(self, key: str) -> int:
        rate = 1
        for _, _, stride in self.layers:
            rate *= stride
        return rate

    def frame_lengths(self, samples: Tensor) -> Tensor:
        for _, kernel, stride in self.layers:
            samples = torch.div(samples - kernel, stride, rounding_mode="floor") + 1
        return samples

    def _run(self, padded: Tensor, padding_mask: Tensor | None) -> list[Tensor]:
        self._states = []
        try:
            self.model.extract_features(padded, padding_mask=padding_mask)
            return [state[:, self.extra_tokens:] for state in self._states]
        finally:
            self._states = []

    def forward(self, wavs: list[Tensor]) -> dict[str, list[Tensor] | Tensor]:
        if self.conf.get("normalize", False):
            wavs = [F.layer_norm(w, w.shape) for w in wavs]
        if self.by_length:
            states = run_by_length(list(wavs), lambda batch: self._run(batch, None))
        else:
            lengths = torch.tensor([len(w) for w in wavs], device=wavs[0].device)
            padded = pad_sequence(list(wavs), batch_first=True)
            padding = ~frame_mask(lengths, padded.shape[1])
            frames = self.frame_lengths(lengths)
            mask = frame_mask(frames, int(frames.max()))
            with self.zero_padding.masking(mask):
                states = self._run(padded, padding if bool(padding.any()) else None)
            states = zero_padded_frames(states, mask)
        return {"hidden_states": states, "last_hidden_state": states[-1]}
