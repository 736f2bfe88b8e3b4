"""What ``-g`` (s3prl's model_config) tells the asr_text upstream: a small YAML file.

    asr: tiny.en        # a packaged Whisper (tiny.en, base), a CTranslate2 folder (faster-whisper)
                        # or a Hugging Face Whisper folder (transformers); default tiny.en
    language: de        # Whisper's language code; null (default): detected per utterance
                        # (an English-only model, *.en, transcribes English: another is refused)

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


def language_of(settings: Settings, folder: Path) -> str | None:
    """The language Whisper will transcribe in: an English-only model transcribes English whatever
    it is told (faster-whisper switches to "en"), so another language is refused, not recorded."""
    if vocabulary_size(folder) != ENGLISH_ONLY_VOCABULARY:
        return settings.language
    if settings.language not in (None, "en"):
        raise SettingsError(f"-g {settings.source}: language {settings.language!r}, but {settings.asr} is an "
                            "English-only Whisper (51,864 tokens) and transcribes English whatever it is told; "
                            "set language: en or null, or asr: a multilingual Whisper (base, large-v3)")
    return "en"
