"""The paper's Whisper -> text baseline as an s3prl upstream: Whisper transcribes each utterance,
a BERT-family encoder reads the transcript, and the downstream's weighted sum reads its layers.

A transcript has no frames, so each text layer's token mean is repeated over the utterance's 50 Hz
frames (``round(samples / 320)``, as for the Whisper encoder): mean pooling over frames, the
paper's head, then returns exactly the token mean, and so does the benchmark's cached engine.
Frames after an utterance's end are zero. Transcription: ``upstream/care/pretraining/asr.py``
(faster-whisper on a CTranslate2 folder, transformers on a Hugging Face folder), cached by audio
and ASR model (``transcripts.py``).
"""
from __future__ import annotations

import os

import torch
from torch import Tensor

from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.asr_text.settings import language_of, read_settings
from care_superb.upstream.asr_text.text import TextEncoder
from care_superb.upstream.asr_text.transcripts import Transcripts, audio_sha256
from care_superb.upstream.checkpoints import provenance
from care_superb.upstream.whisper.expert import RATE, SAMPLE_RATE, frames_of

UPSTREAM = "asr_text"


def _random_weights(*records: dict | None):
    """True when any part was never trained; False when every part says it was; else unknown."""
    flags = [(r or {}).get("random_weights") for r in records]
    return True if True in flags else False if all(f is False for f in flags) else None


class UpstreamExpert(UpstreamBase):
    def __init__(self, ckpt: str | os.PathLike, model_config: str | None = None, upstream: str = UPSTREAM, **kwargs):
        super().__init__(**kwargs)
        from care_superb.upstream.care.checkpoint import care_home
        from care_superb.upstream.care.pretraining import asr
        from care_superb.upstream.checkpoints import read_marker_file
        from care_superb.upstream.whisper.packaged import record_of

        self.settings = read_settings(model_config)
        self.text = TextEncoder(ckpt, upstream)
        try:
            self.backend, asr_folder = asr.resolve(self.settings.asr)
        except (ValueError, RuntimeError) as error:
            where = f"-g {self.settings.source}: asr" if self.settings.source else "the default asr"
            hint = " (a placeholder: put the path of your copy of the Whisper there)" if "EDIT" in self.settings.asr else ""
            raise ValueError(f"{where} {self.settings.asr}{hint}: expected a packaged Whisper (tiny.en, base), a "
                             f"CTranslate2 folder (model.bin) or a Hugging Face Whisper folder ({error})") from error
        self.language = language_of(self.settings, asr_folder)
        self.transcripts = Transcripts(care_home() / "transcripts", self.settings.asr, asr_folder, self.backend,
                                       self.language)
        self._transcribe = None  # built at the first utterance that is not cached, on the text encoder's device
        asr_record = record_of(asr_folder) or read_marker_file(asr_folder) or {}
        text_record = self.text.record or {}
        self.provenance = provenance(
            self.text.folder,
            f"Whisper -> text: {self.settings.asr} transcribes ({asr_record.get('description') or asr_folder}), "
            f"{text_record.get('description') or self.text.folder} ({self.text.model_type}, {self.text.layers} "
            "states) encodes; each layer's token mean repeated over the utterance's 50 Hz frames",
            {"random_weights": _random_weights(text_record, asr_record), "created_by": text_record.get("created_by")},
            text_encoder=str(self.text.folder),
            asr=self.settings.asr,
            asr_folder=str(asr_folder),
            asr_backend=self.backend,
            language=self.language or "detected per utterance",
            settings_file=self.settings.source,
            transcripts=str(self.transcripts.path),
            random_weights_of={"text_encoder": text_record.get("random_weights"),
                               "asr": asr_record.get("random_weights")},
        )
        self.eval()

    def get_downsample_rates(self, key: str) -> int:
        return RATE

    def transcribe(self, wav: Tensor) -> str:
        audio = wav.detach().to("cpu", torch.float32).numpy()
        digest = audio_sha256(audio)
        text = self.transcripts.get(digest)
        if text is None:
            if self._transcribe is None:
                from care_superb.upstream.care.pretraining import asr

                device = "cuda" if next(self.text.parameters()).is_cuda else "cpu"
                self._transcribe = asr.transcriber(self.settings.asr, self.language, device=device)
                self._made_with = f"{self.backend}, {device}"
            text = self._transcribe(audio)
            self.transcripts.add(digest, text, len(audio) / SAMPLE_RATE, self._made_with)
        return text

    def forward(self, wavs: list[Tensor]) -> dict[str, list[Tensor] | Tensor]:
        means = [self.text.layer_means(self.transcribe(wav)) for wav in wavs]  # each L x D
        frames = [frames_of(len(w)) for w in wavs]
        layers, width = means[0].shape
        out = [means[0].new_zeros(len(wavs), max(frames), width) for _ in range(layers)]
        for index, (mean, count) in enumerate(zip(means, frames)):
            for layer in range(layers):
                out[layer][index, :count] = mean[layer]
        return {"hidden_states": out, "last_hidden_state": out[-1]}
