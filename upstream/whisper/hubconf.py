"""Whisper's encoder (``-u whisper_local -k PATH|tiny.en|base``).

=============  ============================================================  =====================
name           reads (``-k``)                                                hidden states
=============  ============================================================  =====================
whisper_local  a CTranslate2 folder (faster-whisper's), a Hugging Face        layers + 1 at 50 Hz:
               Whisper folder, an OpenAI checkpoint (tiny.en.pt, ...), or    5 x 384 tiny(.en),
               a packaged model's name: tiny.en, base                        7 x 512 base,
                                                                             33 x 1280 large-v3
=============  ============================================================  =====================

Nothing is downloaded. ``model_config`` (``-g``) is refused: the checkpoint sizes the encoder.
"""
from __future__ import annotations

from care_superb.upstream.baselines import RandomCheckpoint

__all__ = ["whisper_local"]


def whisper_local(ckpt=None, model_config=None, refresh=False, **kwargs):
    """Whisper's encoder from a local model (``-k``) or a packaged one (``-k tiny.en``, ``-k base``)."""
    from care_superb.upstream.whisper.checkpoint import EXPECTED

    if not ckpt:
        raise ValueError(f"whisper_local needs -k: {EXPECTED}")
    if model_config is not None:
        raise ValueError("whisper_local takes no -g/model_config: the checkpoint sizes the encoder")
    from care_superb.upstream.whisper.expert import UpstreamExpert

    return UpstreamExpert(ckpt, **kwargs)


def _build(out, size, seed):
    from care_superb.upstream.whisper.random import build_random_folder

    return build_random_folder(out, size, seed)


RANDOM_CHECKPOINTS = [
    RandomCheckpoint("whisper", "Whisper (base: openai/whisper-base's config) as a Hugging Face folder", _build,
                     {"whisper_local": (3, 32)}),
]

def _recognise(path, payload):
    import json

    from care_superb.upstream.checkpoints import Found

    if payload is not None:
        if {"dims", "model_state_dict"} <= set(payload):
            return Found("an OpenAI Whisper checkpoint (dims + model_state_dict)", ("whisper_local",))
        return None
    if (path / "model.bin").is_file() and (path / "config.json").is_file():
        return Found("a CTranslate2 model folder (model.bin + config.json, as faster-whisper keeps Whisper)",
                     ("whisper_local",))
    try:
        model_type = json.loads((path / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None
    return Found("a Hugging Face whisper folder", ("whisper_local",)) if model_type == "whisper" else None


RECOGNISERS = [_recognise]
FOLDER_LAYOUTS = ["model.bin + config.json (CTranslate2)"]
EXTRA = "whisper"  # faster-whisper and the packages that ship tiny.en and base
LISTING = [
    ('`whisper_local`',
     "a CTranslate2 folder (faster-whisper's: `model.bin` + `config.json`), a Hugging Face Whisper "
     'folder, an OpenAI checkpoint (`tiny.en.pt`, `large-v3.pt`: `dims` + `model_state_dict`), or a '
     'packaged model: `tiny.en`, `base`',
     "Whisper's encoder through transformers' `WhisperEncoder`, each utterance in 30 s windows as "
     'Whisper reads them',
     'layers + 1 at 50 Hz: 5 × 384 (tiny.en), 7 × 512 (base), 33 × 1280 (large-v3); the last through '
     "the encoder's final LayerNorm"),
]
