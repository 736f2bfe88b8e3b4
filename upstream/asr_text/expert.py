"""The paper's Whisper -> text baseline as an s3prl upstream: Whisper transcribes each utterance,
a BERT-family encoder reads the transcript, and the downstream's weighted sum reads its layers.

A transcript has no frames, so each text layer's token mean is repeated over the utterance's 50 Hz
frames (``round(samples / 320)``, as for the Whisper encoder): mean pooling over frames, the
paper's head, then returns exactly the token mean, and so does the benchmark's cached engine.
Frames after an utterance's end are zero. Transcription: ``upstream/whisper/decoding.py``
(faster-whisper on a CTranslate2 folder, transformers on a Hugging Face folder, decoded alike),
cached by audio and by every setting that changes the text (``transcripts.py``).

The language is the task's: s3prl's runner says which task it serves (``use_task``, called by the
plug once the runner has built its downstream), the benchmark's extraction passes the task's
language; a -g file may override it, or ask for detection (``auto``); the row records which and
why. s3prl's Featurizer, which runs every upstream once on 1 s of random noise to learn its
shapes, is answered with an empty transcript's means: no ASR is loaded and nothing is cached. The
row's provenance counts the empty transcripts among the utterances heard.
"""
from __future__ import annotations

import os
import sys
import warnings

import torch
from torch import Tensor

from s3prl.upstream.interfaces import UpstreamBase

from care_superb.upstream.asr_text.settings import AUTO, SettingsError, check_language, read_settings
from care_superb.upstream.asr_text.text import TextEncoder
from care_superb.upstream.asr_text.transcripts import Transcripts, audio_sha256, made_by
from care_superb.upstream.checkpoints import provenance
from care_superb.upstream.whisper.expert import RATE, SAMPLE_RATE, frames_of

UPSTREAM = "asr_text"
# Above this share of empty transcripts (once MIN_HEARD utterances are heard) a warning says so.
# Every utterance of the emotion corpora holds speech (acted sentences, dialogue turns, interview
# answers), and Whisper gives no text only when it judges a window speechless; a few clips of
# laughter or a sigh (MELD, IEMOCAP) stay far below 5 %, while what empties transcripts in bulk
# (a language or model that does not fit, silent or mis-sampled audio) gives tens of percent.
EMPTY_WARN_SHARE = 0.05
MIN_HEARD = 20


class EmptyTranscriptsWarning(UserWarning):
    """Many of the transcripts asr_text encodes are empty: each is the same constant vector."""


def empty_count(utterances: int, empty: int) -> dict:
    """The count a row records: utterances heard, how many of them gave no text, the share."""
    return {"utterances": utterances, "empty": empty, "share": round(empty / utterances, 4) if utterances else None,
            "warn_above": EMPTY_WARN_SHARE}


def empty_transcripts(texts: list[str]) -> dict:
    return empty_count(len(texts), sum(not text.strip() for text in texts))


def _random_weights(*records: dict | None):
    """True when any part was never trained; False when every part says it was; else unknown."""
    flags = [(r or {}).get("random_weights") for r in records]
    return True if True in flags else False if all(f is False for f in flags) else None


def _shape_probe() -> bool:
    """Whether s3prl's Featurizer is calling: its __init__ runs the upstream once on 1 s of random
    noise only to learn the hidden states' count, width and frame rate."""
    from s3prl.upstream.interfaces import Featurizer

    probe, frame = Featurizer.__init__.__code__, sys._getframe(1)
    for _ in range(12):
        if frame is None:
            return False
        if frame.f_code is probe:
            return True
        frame = frame.f_back
    return False


class UpstreamExpert(UpstreamBase):
    """``language``: the language of the task it serves, where the caller knows it at building
    (the benchmark's extraction); s3prl's runner says its task through ``use_task`` instead."""

    def __init__(self, ckpt: str | os.PathLike, model_config: str | None = None, upstream: str = UPSTREAM,
                 language: str | None = None, **kwargs):
        super().__init__(**kwargs)
        from care_superb.upstream.care.pretraining import asr
        from care_superb.upstream.checkpoints import read_marker_file
        from care_superb.upstream.whisper.packaged import record_of

        self.settings = read_settings(model_config)
        self.text = TextEncoder(ckpt, upstream)
        try:
            self.backend, self.asr_folder = asr.resolve(self.settings.asr)
        except (ValueError, RuntimeError) as error:
            where = f"-g {self.settings.source}: asr" if self.settings.source else "the default asr"
            hint = " (a placeholder: put the path of your copy of the Whisper there)" if "EDIT" in self.settings.asr else ""
            raise ValueError(f"{where} {self.settings.asr}{hint}: expected a packaged Whisper (tiny.en, base), a "
                             f"CTranslate2 folder (model.bin) or a Hugging Face Whisper folder ({error})") from error
        self.language: str | None = None  # a code or AUTO, once known
        self.transcripts: Transcripts | None = None  # opened at the first utterance, on the encoder's device
        self._transcribe = None  # the ASR, built at the first utterance that is not cached
        self.heard = {"utterances": 0, "empty": 0}  # the probe's noise is not heard
        self.last_transcripts: list[str] | None = None  # the last forward's, for the feature cache
        self._warned = False
        asr_record = record_of(self.asr_folder) or read_marker_file(self.asr_folder) or {}
        text_record = self.text.record or {}
        self.provenance = provenance(
            self.text.folder,
            f"Whisper -> text: {self.settings.asr} transcribes ({asr_record.get('description') or self.asr_folder}), "
            f"{text_record.get('description') or self.text.folder} ({self.text.model_type}, {self.text.layers} "
            "states) encodes; each layer's token mean repeated over the utterance's 50 Hz frames",
            {"random_weights": _random_weights(text_record, asr_record), "created_by": text_record.get("created_by")},
            text_encoder=str(self.text.folder),
            asr=self.settings.asr,
            asr_folder=str(self.asr_folder),
            asr_backend=self.backend,
            language=None,
            language_source=None,
            settings_file=self.settings.source,
            transcripts=None,
            transcription=None,
            empty_transcripts=None,
            random_weights_of={"text_encoder": text_record.get("random_weights"),
                               "asr": asr_record.get("random_weights")},
        )
        if self.settings.language is not None:
            self._use(self.settings.language, f"-g {self.settings.source}")
        elif language is not None:
            self._use(language, "the task's language")
        self.eval()

    def get_downsample_rates(self, key: str) -> int:
        return RATE

    # -- the language ---------------------------------------------------------------------------
    def use_task(self, task: str, datarc: dict | None = None) -> None:
        """The task it serves (s3prl's ``-d``, and its datarc for a task over several corpora):
        its corpus's language is the one transcribed, unless the -g file names one (an override,
        recorded as such)."""
        from care_superb.downstream.registry import TASKS

        if task not in TASKS:
            return  # s3prl's own task: no language stated; -g must name one
        language = TASKS[task].language(datarc)
        dataset = (datarc or {}).get("dataset")  # a task over several corpora (EmoBox): which one
        task = f"{task} ({dataset})" if dataset else task
        if self.settings.language is None:
            self._use(language, f"task {task} (its corpus's language)")
        elif self.settings.language != language:
            self.provenance["language_source"] = f"-g {self.settings.source}, overriding task {task}'s {language}"

    def _use(self, language: str, because: str) -> None:
        language = check_language(self.settings, self.asr_folder, language, because)
        if language != self.language:  # another task's language: its own transcripts and ASR settings
            self.transcripts, self._transcribe = None, None
        self.language = language
        self.provenance.update(language=self.language if self.language != AUTO else "auto (detected per utterance)",
                               language_source=because)

    # -- transcripts ----------------------------------------------------------------------------
    def _open_transcripts(self) -> Transcripts:
        from care_superb.upstream.care.checkpoint import care_home

        if self.language is None:
            raise SettingsError(f"asr_text does not know the language to transcribe in: run it on a care-superb "
                                f"task (its corpus states its language), or name one in a -g YAML file "
                                f"(language: en, de, ...; or auto to detect it)")
        device = "cuda" if next(self.text.parameters()).is_cuda else "cpu"
        try:
            decoding = self.settings.decoding.resolved(self.backend, device)
        except ValueError as error:
            raise SettingsError(f"-g {self.settings.source}: {error}") from error
        made = made_by(self.settings.asr, self.asr_folder, self.language, decoding)
        self.transcripts = Transcripts(care_home() / "transcripts", made)
        self.device = device
        self.provenance.update(transcripts=str(self.transcripts.path), transcription=made)
        return self.transcripts

    def transcribe(self, wav: Tensor) -> str:
        transcripts = self.transcripts or self._open_transcripts()
        audio = wav.detach().to("cpu", torch.float32).numpy()
        digest = audio_sha256(audio)
        text = transcripts.get(digest)
        if text is None:
            if self._transcribe is None:
                from care_superb.upstream.care.pretraining import asr

                language = None if self.language == AUTO else self.language
                self._transcribe = asr.transcriber(self.settings.asr, language, device=self.device,
                                                   decoding=self.settings.decoding)
            text = self._transcribe(audio)
            transcripts.add(digest, text, len(audio) / SAMPLE_RATE, f"{self.backend}, {self.device}")
        self._count(text)
        return text

    def _count(self, text: str) -> None:
        self.heard["utterances"] += 1
        self.heard["empty"] += not text.strip()
        heard, empty = self.heard["utterances"], self.heard["empty"]
        self.provenance["empty_transcripts"] = empty_count(heard, empty)
        if not self._warned and heard >= MIN_HEARD and empty / heard > EMPTY_WARN_SHARE:
            self._warned = True
            warnings.warn(f"asr_text: {empty} of the {heard} transcripts heard so far are empty "
                          f"({empty / heard:.0%}); each becomes the same vector. Silent or noisy audio, or a Whisper "
                          f"or language ({self.provenance['language']}) that does not fit the speech? Read "
                          f"{self.transcripts.path}", EmptyTranscriptsWarning, stacklevel=2)

    def forward(self, wavs: list[Tensor]) -> dict[str, list[Tensor] | Tensor]:
        if _shape_probe():  # shapes only: an empty transcript's means, no ASR, nothing cached or counted
            self.last_transcripts = None
            means = [self.text.layer_means("")] * len(wavs)
        else:
            self.last_transcripts = [self.transcribe(wav) for wav in wavs]
            means = [self.text.layer_means(text) for text in self.last_transcripts]  # each L x D
        frames = [frames_of(len(w)) for w in wavs]
        layers, width = means[0].shape
        out = [means[0].new_zeros(len(wavs), max(frames), width) for _ in range(layers)]
        for index, (mean, count) in enumerate(zip(means, frames)):
            for layer in range(layers):
                out[layer][index, :count] = mean[layer]
        return {"hidden_states": out, "last_hidden_state": out[-1]}
