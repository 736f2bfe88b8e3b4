"""Render speech with espeak-ng, emotion carried by prosody.

Every synthetic corpus is built from the same pieces: a speaker (voice, sex, personal pitch and
rate), an emotion (a prosody profile) and a sentence. A model has to listen to pitch level and
range, speaking rate, loudness and voice quality to tell emotions apart: the words are the same
for every emotion unless a layout chooses otherwise.

Who may speak and how each emotion sounds is a ``Voices`` table. The task corpora (the corpora a
model is evaluated on) share ``TASK_VOICES``: American English, German or French, espeak-ng's
numbered variants, the profiles of ``EMOTIONS``. The pre-training corpus has its own table
(``care_superb.synth.pretraining``), with no entry in common, so that what a model learns from
it about emotion must carry over from other voices and other renderings, as it must for real
speech.
"""
from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SAMPLE_RATE = 16000
INSTALL_HINT = "install it with: apt-get install -y espeak-ng (scripts/setup.sh does this)"


@dataclass(frozen=True)
class Prosody:
    """Offsets from a speaker's neutral voice (espeak-ng units: pitch 0-99, words per minute,
    amplitude 0-200, SSML pitch range in percent)."""

    pitch: int = 0
    range: int = 100
    rate: float = 1.0
    volume: float = 1.0
    variant: str | None = None  # replaces the speaker's voice variant (voice quality)


# Canonical emotion names -> prosody. Each corpus maps its own labels onto these names.
EMOTIONS: dict[str, Prosody] = {
    "neutral": Prosody(),
    "calm": Prosody(pitch=-6, range=60, rate=0.9, volume=0.85),
    "anger": Prosody(pitch=14, range=190, rate=1.22, volume=1.7),
    "happiness": Prosody(pitch=18, range=170, rate=1.1, volume=1.25),
    "sadness": Prosody(pitch=-14, range=45, rate=0.72, volume=0.55),
    "fear": Prosody(pitch=26, range=70, rate=1.35, volume=0.9),
    "disgust": Prosody(pitch=-8, range=130, rate=0.8, volume=1.0, variant="croak"),
    "boredom": Prosody(pitch=-10, range=25, rate=0.8, volume=0.7),
    "surprise": Prosody(pitch=30, range=220, rate=1.05, volume=1.35),
}


@dataclass(frozen=True)
class Voices:
    """A family of corpora's voices: espeak-ng accents (None: each layout names its corpus's
    language), variants and personal pitch ranges per sex ("m", "f"), speaking rates (words per
    minute), and the prosody of each canonical emotion."""

    accents: tuple[str, ...] | None
    variants: dict[str, tuple[str, ...]]
    pitch: dict[str, tuple[int, int]]
    rate: tuple[int, int]
    emotions: dict[str, Prosody]
    level_db: float | None = None  # every clip normalised to this RMS level (dBFS); None: as rendered


TASK_VOICES = Voices(
    accents=None,
    variants={"m": tuple(f"m{i}" for i in range(1, 8)), "f": tuple(f"f{i}" for i in range(1, 6))},
    pitch={"m": (30, 50), "f": (50, 70)},
    rate=(145, 185),
    emotions=EMOTIONS,
)


@dataclass(frozen=True)
class Speaker:
    id: str
    sex: str  # "m" or "f"
    language: str  # espeak-ng voice, e.g. "de", "fr-fr", "en-us"
    variant: str  # espeak-ng variant, e.g. "m3", "f2"
    pitch: int  # personal pitch (espeak-ng -p)
    rate: int  # personal speaking rate in words per minute

    @classmethod
    def draw(cls, speaker_id: str, sex: str, language: str | None, rng: random.Random,
             voices: Voices = TASK_VOICES) -> "Speaker":
        """A speaker of ``voices`` with a voice of the right sex and personal pitch and rate;
        ``language`` None: one of the table's accents."""
        kind = "m" if sex == "m" else "f"
        if language is None:
            if not voices.accents:
                raise ValueError("this voice table has no accents to draw from: name the language")
            language = rng.choice(voices.accents)
        return cls(
            id=speaker_id,
            sex=sex,
            language=language,
            variant=rng.choice(voices.variants[kind]),
            pitch=rng.randint(*voices.pitch[kind]),
            rate=rng.randint(*voices.rate),
        )


def require_espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise RuntimeError(f"espeak-ng was not found on PATH; {INSTALL_HINT}")
    return path


def render(
    text: str,
    speaker: Speaker,
    emotion: str | Prosody,
    rng: random.Random,
    jitter: float = 0.05,
) -> np.ndarray:
    """Speak ``text`` as ``speaker`` in ``emotion``; float32 mono at 16 kHz.

    ``jitter`` varies every prosody dimension per utterance (seeded by ``rng``), so that no two
    takes are identical and a classifier cannot key on one exact value.
    """
    prosody = EMOTIONS[emotion] if isinstance(emotion, str) else emotion

    def vary(value: float) -> float:
        return value * (1.0 + rng.uniform(-jitter, jitter))

    pitch = int(np.clip(speaker.pitch + prosody.pitch + rng.randint(-3, 3), 0, 99))
    rate = int(np.clip(vary(speaker.rate * prosody.rate), 80, 450))
    amplitude = int(np.clip(vary(100 * prosody.volume), 10, 200))
    pitch_range = int(np.clip(vary(prosody.range), 5, 400))
    voice = f"{speaker.language}+{prosody.variant or speaker.variant}"
    ssml = f'<speak><prosody range="{pitch_range}%">{_escape(text)}</prosody></speak>'
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.wav"
        cmd = [require_espeak(), "-m", "-v", voice, "-p", str(pitch), "-s", str(rate),
               "-a", str(amplitude), "-w", str(out), ssml]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"espeak-ng failed ({' '.join(cmd)}): {done.stderr.strip()}")
        audio, rate_in = sf.read(out, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    g = np.gcd(SAMPLE_RATE, rate_in)
    audio = resample_poly(audio, SAMPLE_RATE // g, rate_in // g).astype(np.float32)
    # A little noise floor: real recordings are never digitally silent.
    audio += np.float32(1e-4) * np.asarray(
        np.random.default_rng(rng.randrange(2**32)).standard_normal(len(audio)), dtype=np.float32
    )
    return np.clip(audio, -1.0, 1.0)


def at_level(audio: np.ndarray, level_db: float) -> np.ndarray:
    """``audio`` scaled to an RMS of ``level_db`` dBFS (as mastering normalises loudness)."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return np.clip(audio * np.float32(10 ** (level_db / 20) / max(rms, 1e-9)), -1.0, 1.0).astype(np.float32)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_wav(path: Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE, channels: int = 1) -> None:
    """Write 16-bit PCM WAV (24-bit AIFF when ``path`` ends in .aif/.aiff, as CaFE's 192 kHz
    edition), duplicating a mono signal when a layout needs more channels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = audio if channels == 1 else np.repeat(audio[:, None], channels, axis=1)
    if sample_rate != SAMPLE_RATE:
        g = np.gcd(sample_rate, SAMPLE_RATE)
        data = resample_poly(data, sample_rate // g, SAMPLE_RATE // g, axis=0)
    tmp = path.with_name(path.name + ".part")
    aiff = path.suffix.lower() in (".aif", ".aiff")
    sf.write(tmp, np.clip(data, -1.0, 1.0), sample_rate, subtype="PCM_24" if aiff else "PCM_16",
             format="AIFF" if aiff else "WAV")
    tmp.replace(path)
