"""Fitting the initial CARE and the targets to each other, each choice said out loud.

* the acoustic head's width follows the acoustic target (care-init makes a 256-d head, for PASE+);
* the semantic state's width must equal the teacher's (768 = 768 in the paper); a narrower CARE
  can reduce the teacher's vectors by PCA (not in the paper, so only when asked);
* what the corpus was, for the checkpoint's provenance.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from care_superb.upstream.care.checkpoint import load_weights
from care_superb.upstream.care.config import CareConfig
from care_superb.upstream.care.model import CareModel


def require_semantic_width(model: CareModel, teacher_dim: int, projection: str) -> None:
    width = model.config.hidden_size
    if teacher_dim != width and projection != "pca":
        raise ValueError(
            f"the teacher's embeddings are {teacher_dim}-d but this CARE's semantic states are "
            f"{width}-d (its speech width), so the semantic loss cannot compare them. Use a teacher "
            f"of width {width}, a CARE whose speech side is {teacher_dim} wide (care-init --speech), "
            f"or --teacher-projection pca (reduces the targets to {width} dims; not in the paper)"
        )


def fit_acoustic_head(model: CareModel, metadata: dict, dim: int, kind: str, resize: bool, seed: int
                      ) -> tuple[CareModel, dict, str | None]:
    """The model with an acoustic head of width ``dim``; a note when it was resized."""
    old = model.config.acoustic_head_size
    if old == dim:
        return model, metadata, None
    pretrained = metadata.get("pretrained_on") is not None
    if pretrained and not resize:
        raise ValueError(
            f"this checkpoint's acoustic head was pre-trained at {old}-d; the {kind} target is "
            f"{dim}-d. Pass --resize-acoustic-head to replace it by a new random {dim}-d head "
            "(the encoders keep their weights)"
        )
    config = CareConfig.from_dict({**model.config.to_dict(), "acoustic_head_size": dim})
    torch.manual_seed(seed)
    resized = CareModel(config)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("acoustic_head.")}
    state.update({k: v for k, v in resized.state_dict().items() if k.startswith("acoustic_head.")})
    load_weights(resized, state, source="resized checkpoint")
    note = (f"acoustic head resized {old} -> {dim} for the {kind} target "
            f"({'its pre-trained weights replaced' if pretrained else 'it was random'}; "
            f"new head: PyTorch default initialisation, seed {seed})")
    metadata = {**metadata, "acoustic_head_init": note}
    return resized, metadata, note


class PCAProjection:
    """Teacher vectors -> the top ``width`` principal components of the training targets."""

    def __init__(self, mean: np.ndarray, components: np.ndarray, n: int):
        self.mean, self.components, self.n = mean, components, n

    @classmethod
    def fit(cls, files: list[Path], width: int) -> "PCAProjection":
        vectors = np.stack([np.load(f) for f in files]).astype(np.float64)
        if len(vectors) <= width:
            raise ValueError(
                f"--teacher-projection pca needs more training utterances ({len(vectors)}) than "
                f"CARE's width ({width})"
            )
        mean = vectors.mean(axis=0)
        _, _, vt = np.linalg.svd(vectors - mean, full_matrices=False)
        # A component's sign is arbitrary; fix it so that the projection is reproducible.
        signs = np.sign(vt[:width, np.argmax(np.abs(vt[:width]), axis=1)].diagonal())
        return cls(mean.astype(np.float32), (vt[:width] * signs[:, None]).astype(np.float32), len(vectors))

    def __call__(self, vector: np.ndarray) -> np.ndarray:
        return ((vector - self.mean) @ self.components.T).astype(np.float32)

    def describe(self) -> str:
        return (f"PCA {self.components.shape[1]} -> {self.components.shape[0]} dims over "
                f"{self.n} training targets")


def corpus_facts(source: str, items: list, bad: dict, name: str | None) -> dict:
    from care_superb.synth import MARKER, is_synthetic

    path = Path(source).expanduser().resolve()
    root = path if path.is_dir() else path.parent
    synthetic = is_synthetic(root)
    hours = sum(it.samples for it in items) / 16000 / 3600
    name = name or root.name
    return {
        "name": name,
        "source": str(path),
        "synthetic": synthetic,
        "synthetic_marker": str(root / MARKER) if synthetic else None,
        "utterances": len(items),
        "excluded": len(bad),
        "hours": round(hours, 4),
        "description": f"{name}{' (SYNTHETIC)' if synthetic else ''}: {len(items)} utterances, {hours:.2f} h",
    }
