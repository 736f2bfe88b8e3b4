"""What ``-g`` (s3prl's model_config) tells the asr_text upstream: a small YAML file.

    asr: tiny.en        # a packaged Whisper (tiny.en, base), a CTranslate2 folder (faster-whisper)
                        # or a Hugging Face Whisper folder (transformers); default tiny.en
    language: de        # Whisper's language code; null (default): detected per utterance
                        # (an English-only model, *.en, always transcribes English)

Relative paths are relative to the YAML file. A file per language is how a language reaches one
task and not the others: the benchmark file's per-task ``model_config`` (EmoDB ``de``, CaFE
``fr``); ``benchmark/configs/asr_text/`` has examples. Being a file, ``-g`` is also part of the
benchmark's cache key, by content.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

KEYS = {"asr": "the Whisper that transcribes", "language": "Whisper's language code, or null to detect it"}
DEFAULT_ASR = "tiny.en"


class SettingsError(ValueError):
    """A -g file the asr_text upstream cannot use."""


@dataclasses.dataclass(frozen=True)
class Settings:
    asr: str = DEFAULT_ASR
    language: str | None = None
    source: str | None = None  # the -g file, if any


def read_settings(model_config: str | None) -> Settings:
    if model_config is None:
        return Settings()
    path = Path(model_config).expanduser()
    if not path.is_file():
        raise SettingsError(f"-g {path}: no such file; asr_text reads a YAML file with {', '.join(KEYS)} "
                            "(e.g. benchmark/configs/asr_text/de.yaml)")
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

    if language is not None and language not in LANGUAGES:
        raise SettingsError(f"-g {path}: language {language!r} is not one of Whisper's language codes (en, de, fr, "
                            "...: transformers' WHISPER LANGUAGES); null detects it")
    return Settings(asr, language, str(path.resolve()))
