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
