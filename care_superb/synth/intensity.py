"""Emotional intensity for corpora that record it (RAVDESS normal/strong, CaFE Faible/Fort) or
grade it (CMU-MOSI's -3..3 scores): an emotion's prosody offsets from neutral, scaled."""
from __future__ import annotations

from care_superb.synth.espeak import EMOTIONS, Prosody


def scaled(emotion: str | Prosody, factor: float) -> Prosody:
    """``emotion``'s departure from a neutral voice multiplied by ``factor`` (0: neutral, 1: the
    canonical profile, above 1: stronger); the voice-quality variant is kept from 0.5 on."""
    p = EMOTIONS[emotion] if isinstance(emotion, str) else emotion
    return Prosody(pitch=round(p.pitch * factor), range=round(100 + (p.range - 100) * factor),
                   rate=1 + (p.rate - 1) * factor, volume=1 + (p.volume - 1) * factor,
                   variant=p.variant if factor >= 0.5 else None)
