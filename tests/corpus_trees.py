"""Tiny audio files for corpus trees written by the parser tests (``from corpus_trees import tone``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(path: Path, sample_rate: int = 16000, channels: int = 1, seconds: float = 0.3, hz: float = 220.0,
         subtype: str = "PCM_16") -> Path:
    """A short sine at ``path`` (folders made as needed), WAV or AIFF as its suffix says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = 0.3 * np.sin(2 * np.pi * hz * t)
    sf.write(path, np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave, sample_rate, subtype=subtype)
    return path
