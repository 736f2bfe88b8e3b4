"""Whisper's encoder as an s3prl upstream: transformers' ``WhisperEncoder`` with the weights of any
form ``checkpoint.py`` reads, fed the log-mel of transformers' ``WhisperFeatureExtractor``.

Whisper was trained on 30 s windows, and transformers' encoder accepts exactly 30 s (3000 mel
frames). So each utterance is cut into consecutive 30 s windows (one for anything up to 30 s), each
window zero-padded to 30 s as Whisper pads, and each keeps its own frames: the encoder runs at
50 Hz (10 ms mel hop, stride-2 convolution), so an utterance of N samples gets ``round(N / 320)``
frames, the windows' frames one after another. Every window is encoded on its own (batched with
others, but nothing crosses windows), so an utterance of a padded batch gets exactly what it gets
alone; frames after an utterance's end are zero.

Hidden states (transformers' ``output_hidden_states``): the front end's output (two convolutions,
GELU, positions), then every layer's; the last one through the encoder's final LayerNorm, as
transformers returns it and as Whisper's decoder reads it. 5 x 384 for tiny(.en), 7 x 512 for
base, 33 x 1280 for large-v3.
"""
from __future__ import annotations

import os

import torch
from torch import Tensor

from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.checkpoints import provenance
from care_superb.upstream.whisper.checkpoint import UPSTREAM, read

SAMPLE_RATE = 16000
WINDOW = 30 * SAMPLE_RATE  # Whisper's 30 s
RATE = 320  # samples per encoder frame: 160 (mel hop) x 2 (conv2 stride)
WINDOWS_PER_FORWARD = 8  # bounds memory (large-v3: 33 states x 1500 x 1280 floats per window)


def frames_of(samples: int) -> int:
    """The encoder frames an utterance of ``samples`` keeps (what s3prl's Featurizer expects)."""
    return max(1, round(samples / RATE))


def feature_extractor(n_mels: int, folder=None):
    """transformers' WhisperFeatureExtractor: the folder's preprocessor_config.json when it has one,
    else Whisper's own settings for ``n_mels`` bands (80; 128 for large-v3)."""
    from transformers import WhisperFeatureExtractor

    if folder is not None and os.path.isfile(os.path.join(folder, "preprocessor_config.json")):
        extractor = WhisperFeatureExtractor.from_pretrained(folder, local_files_only=True)
    else:
        extractor = WhisperFeatureExtractor(feature_size=n_mels)
    if extractor.feature_size != n_mels or extractor.sampling_rate != SAMPLE_RATE or extractor.n_samples != WINDOW:
        raise ValueError(f"{folder}: preprocessor_config.json gives {extractor.feature_size} mel bands at "
                         f"{extractor.sampling_rate} Hz over {extractor.n_samples} samples; the encoder reads "
                         f"{n_mels} bands of 30 s at {SAMPLE_RATE} Hz")
    return extractor


class UpstreamExpert(UpstreamBase):
    def __init__(self, ckpt: str | os.PathLike, upstream: str = UPSTREAM, **kwargs):
        super().__init__(**kwargs)
        from transformers.models.whisper.modeling_whisper import WhisperEncoder

        weights = read(ckpt, upstream)
        config = weights.config
        if config.max_source_positions * RATE != WINDOW:
            raise ValueError(f"-u {upstream} -k {weights.path}: an encoder of {config.max_source_positions} positions "
                             f"({config.max_source_positions * RATE / SAMPLE_RATE:g} s); expected 1500 (30 s), as Whisper's")
        self.encoder = WhisperEncoder(config)
        self.encoder.load_state_dict(weights.state, strict=True)
        folder = weights.path if weights.path.is_dir() else None
        self.extractor = feature_extractor(config.num_mel_bins, folder)
        record = weights.record or {}
        packaged = record.get("packaged")
        self.provenance = provenance(
            weights.path,
            (record.get("description") or "Whisper") + f": encoder of {config.encoder_layers} layers of "
            f"{config.d_model}, from {weights.form}, stored {weights.stored}, read as float32",
            record,
            short_name=str(ckpt) if packaged else None,
            format=weights.form,
            stored_dtype=weights.stored,
            n_mels=config.num_mel_bins,
            windows="30 s, each zero-padded as Whisper pads; round(samples / 320) frames per utterance",
        )
        self.eval()

    def get_downsample_rates(self, key: str) -> int:
        return RATE

    def log_mel(self, windows: list[Tensor]) -> Tensor:
        """W x n_mels x 3000: Whisper's log-mel of each window, zero-padded to 30 s."""
        audio = [w.detach().to("cpu", torch.float32).numpy() for w in windows]
        features = self.extractor(audio, sampling_rate=SAMPLE_RATE, padding="max_length", return_tensors="pt")
        return features.input_features

    def encode(self, mel: Tensor) -> list[Tensor]:
        """Every hidden state of each 30 s window: list of W x 1500 x D."""
        out = self.encoder(mel.to(self.encoder.conv1.weight.device), output_hidden_states=True)
        return list(out.hidden_states)

    def forward(self, wavs: list[Tensor]) -> dict[str, list[Tensor] | Tensor]:
        windows, owner = [], []
        for index, wav in enumerate(wavs):
            for start in range(0, max(len(wav), 1), WINDOW):
                windows.append(wav[start : start + WINDOW])
                owner.append(index)
        frames = [frames_of(len(w)) for w in wavs]
        out: list[Tensor] = []
        offset = [0] * len(wavs)
        # Each forward's windows are trimmed into the output as they come (large-v3: ~250 MB of
        # states per window), not gathered first.
        for first in range(0, len(windows), WINDOWS_PER_FORWARD):
            states = self.encode(self.log_mel(windows[first : first + WINDOWS_PER_FORWARD]))
            if not out:
                out = [s.new_zeros(len(wavs), max(frames), s.shape[-1]) for s in states]
            for window, index in enumerate(owner[first : first + WINDOWS_PER_FORWARD]):
                keep = min(states[0].shape[1], frames[index] - offset[index])
                for target, state in zip(out, states):
                    target[index, offset[index] : offset[index] + keep] = state[window, :keep]
                offset[index] += keep
            del states
        return {"hidden_states": out, "last_hidden_state": out[-1]}

