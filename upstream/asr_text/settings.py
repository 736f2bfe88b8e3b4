"""What ``-g`` (s3prl's model_config) tells the asr_text upstream: a small YAML file.

    asr: tiny.en        # a packaged Whisper (tiny.en, base), a CTranslate2 folder (faster-whisper)
                        # or a Hugging Face Whisper folder (transformers); default tiny.en
    language: de        # overrides the task's language (each corpus module's LANGUAGE: EmoDB de,
                        # CaFE fr, the others en); auto: detected per utterance, recorded as such;
                        # absent or null: the task's. An English-only Whisper (*.en) transcribes
                        # English only: a task or setting in another language is refused.
    beam_size: 5        # decoding (upstream/whisper/decoding.py); these are the defaults
    temperatures: [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    compute_type: null  # null: float32 on the CPU, float16 on a GPU; int8 etc. only when named
    vad: false          # faster-whisper's Silero filter before decoding

Relative paths are relative to the YAML file. Every one of these settings is part of the transcript
cache's key (``transcripts.py``); being a file, ``-g`` is also part of the benchmark's cache key.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from care_superb.upstream.whisper.decoding import Decoding

KEYS = {"asr": "the Whisper that transcribes",
        "language": "Whisper's language code to override the task's, or auto to detect it",
        "beam_size": "the beam search's width (5)", "temperatures": "the fallback temperatures ([0.0, 0.2, ... 1.0])",
        "compute_type": "float32, float16, int8, ... (null: float32 on the CPU, float16 on a GPU)",
        "vad": "true: faster-whisper's voice-activity filter (false)"}
DEFAULT_ASR = "tiny.en"
AUTO = "auto"  # detect the language per utterance: an explicit choice, recorded
class SettingsError(ValueError):
    """A -g file the asr_text upstream cannot use."""


@dataclasses.dataclass(frozen=True)
class Settings:
    asr: str = DEFAULT_ASR
    language: str | None = None  # a code or AUTO; None: the task's
    decoding: Decoding = Decoding()
    source: str | None = None  # the -g file, if any


def read_settings(model_config: str | None) -> Settings:
    if model_config is None:
        return Settings()
    path = Path(model_config).expanduser()
    if not path.is_file():
        raise SettingsError(f"-g {path}: no such file; asr_text reads a YAML file with {', '.join(KEYS)} "
                            "(e.g. benchmark/configs/asr_text/large-v3.yaml)")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"-g {path}: not YAML ({str(error).splitlines()[0]})") from error
    if not isinstance(data, dict):
        raise SettingsError(f"-g {path}: holds a {type(data).__name__}; expected a mapping with {', '.join(KEYS)}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SettingsError(f"-g {path}: unknown key(s) {', '.join(unknown)}; asr_text reads "
                            + "; ".join(f"{k}: {v}" for k, v in KEYS.items()))
    asr = str(data.get("asr") or DEFAULT_ASR)
    from care_superb.upstream.whisper.packaged import PACKAGED

    if asr not in PACKAGED and not Path(asr).expanduser().is_absolute():
        asr = str((path.parent / asr).resolve())
    language = data.get("language")
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    if language is not None and language != AUTO and language not in LANGUAGES:
        raise SettingsError(f"-g {path}: language {language!r} is not one of Whisper's language codes (en, de, fr, "
                            f"...: transformers' WHISPER LANGUAGES), nor {AUTO} (detect it); leave it out for the "
                            "task's language")
    return Settings(asr, language, _decoding(path, data), str(path.resolve()))


def _decoding(path: Path, data: dict) -> Decoding:
    default = Decoding()
    beam = data.get("beam_size", default.beam_size)
    temperatures = data.get("temperatures", list(default.temperatures))
    compute_type = data.get("compute_type")
    vad = data.get("vad", default.vad)
    if not isinstance(beam, int) or isinstance(beam, bool) or beam < 1:
        raise SettingsError(f"-g {path}: beam_size {beam!r}; expected a whole number >= 1 (default 5)")
    if isinstance(temperatures, (int, float)) and not isinstance(temperatures, bool):
        temperatures = [temperatures]
    if (not isinstance(temperatures, list) or not temperatures
            or not all(isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t <= 1 for t in temperatures)):
        raise SettingsError(f"-g {path}: temperatures {temperatures!r}; expected a list of numbers in [0, 1] "
                            "(default [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]; [0.0] for no fallback)")
    if compute_type is not None and not isinstance(compute_type, str):
        raise SettingsError(f"-g {path}: compute_type {compute_type!r}; expected a name (float32, float16, int8, "
                            "...) or null")
    if not isinstance(vad, bool):
        raise SettingsError(f"-g {path}: vad {vad!r}; expected true or false")
    return Decoding(beam_size=beam, temperatures=tuple(float(t) for t in temperatures), compute_type=compute_type,
                    vad=vad)


ENGLISH_ONLY_VOCABULARY = 51864  # Whisper's *.en models; the multilingual ones have 51865 (large-v3: 51866)


def vocabulary_size(folder: Path) -> int | None:
    """The Whisper's vocabulary size, from its CTranslate2 vocabulary or its Hugging Face config."""
    import json

    if (folder / "vocabulary.txt").is_file():
        with open(folder / "vocabulary.txt", encoding="utf-8") as f:
            return sum(1 for _ in f)
    for name, key in (("vocabulary.json", None), ("config.json", "vocab_size")):
        try:
            data = json.loads((folder / name).read_text())
        except (OSError, ValueError):
            continue
        size = len(data) if key is None else data.get(key)
        if isinstance(size, int):
            return size
    return None


def is_english_only(folder: Path) -> bool:
    return vocabulary_size(folder) == ENGLISH_ONLY_VOCABULARY


def check_language(settings: Settings, folder: Path, language: str, because: str) -> str:
    """``language`` (a code or AUTO) if the Whisper in ``folder`` can transcribe in it. An English-
    only model transcribes English whatever it is told (faster-whisper switches to "en") and
    cannot detect a language, so anything else is refused, not recorded."""
    if not is_english_only(folder) or language == "en":
        return language
    fits = "base (packaged, multilingual) or a multilingual Whisper folder such as large-v3 (the paper's)"
    what = "detection (auto)" if language == AUTO else f"language {language!r}"
    raise SettingsError(f"{because} asks for {what}, but {settings.asr} is an English-only Whisper (51,864 tokens) "
                        f"and transcribes English only; set asr: to a multilingual Whisper, e.g. {fits}"
                        + (f", in -g {settings.source}" if settings.source else " (in a -g YAML file)"))
