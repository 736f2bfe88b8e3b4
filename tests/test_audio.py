"""Audio reading: resampling, downmix, crop/pad, and every bad file named in its error."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from care_superb.downstream.audio import AudioError, check_audio, load_audio


def tone(seconds: float, rate: int, channels: int = 1, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return x if channels == 1 else np.stack([x, -0.5 * x], axis=1)


def test_resampled_downmixed_cropped(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, tone(25.0, 48000, channels=2), 48000)
    wav = load_audio(path, sample_rate=16000, max_seconds=20, min_seconds=1)
    assert wav.dtype == np.float32 and wav.ndim == 1
    assert len(wav) == 20 * 16000
    # Downmix is the channel mean: 0.5 * x + 0.5 * (-0.5 x) = 0.25 x, peak ~0.125.
    assert 0.11 < np.abs(wav).max() < 0.14


def test_short_utterance_is_zero_padded_to_one_second(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, tone(0.3, 16000), 16000)
    wav = load_audio(path, sample_rate=16000, max_seconds=20, min_seconds=1)
    assert len(wav) == 16000
    assert np.all(wav[int(0.3 * 16000):] == 0) and np.abs(wav[:4800]).max() > 0.4


def test_segment_is_read_by_time(tmp_path):
    path = tmp_path / "long.wav"
    x = np.concatenate([np.zeros(16000), np.ones(16000) * 0.5, np.zeros(16000)]).astype(np.float32)
    sf.write(path, x, 16000)
    wav = load_audio(path, start=1.0, end=2.0, min_seconds=None)
    assert len(wav) == 16000 and np.allclose(wav, 0.5, atol=1e-4)


@pytest.mark.parametrize("make, complaint", [
    (lambda p: None, "missing"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"not a wav file at all"), "unreadable"),
    (lambda p: sf.write(p, np.zeros(0, dtype=np.float32), 16000), "no samples"),
])
def test_bad_files_are_named(tmp_path, make, complaint):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError, match=complaint) as err:
        check_audio(path)
    assert str(path) in str(err.value)


def test_silently_truncated_wav_is_caught(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, tone(2.0, 16000), 16000, subtype="PCM_16")
    sf.info(str(path))  # whole file reads
    check_audio(path)
    with open(path, "r+b") as f:
        f.truncate(20000)
    assert sf.info(str(path)).frames > 0  # libsndfile reads the rest without complaint ...
    with pytest.raises(AudioError, match="truncated") as err:  # ... we do not
        check_audio(path)
    assert str(path) in str(err.value)
