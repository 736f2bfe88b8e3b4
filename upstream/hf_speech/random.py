"""A family's model with transformers' own random initialisation, saved as a Hugging Face folder
(config.json, model.safetensors, preprocessor_config.json, care_superb.json)."""
from __future__ import annotations

import shutil
from pathlib import Path

import torch

from care_superb.upstream.checkpoints import make_metadata, write_marker_file
from care_superb.upstream.hf_speech.families import FAMILIES, family_config


def save_folder(model, folder: Path, normalize: bool, metadata: dict) -> Path:
    """``model.save_pretrained`` plus the preprocessor s3prl's 16 kHz input needs, and our record.
    Written beside the target and renamed, so that an interrupted run leaves no half folder."""
    from transformers import Wav2Vec2FeatureExtractor

    folder = Path(folder)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=normalize,
        return_attention_mask=getattr(model.config, "feat_extract_norm", "layer") == "layer",
    ).save_pretrained(partial)
    write_marker_file(partial, metadata)
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    return folder


def build_random_folder(family: str, out: Path, size: str, seed: int) -> Path:
    from transformers import AutoModel

    config = family_config(family, size)
    torch.manual_seed(seed)
    model = AutoModel.from_config(config).eval()
    metadata = make_metadata(
        True, f"care-superb baseline-init {family} --size {size} --seed {seed}",
        family=family, size=size, seed=seed,
        description=f"random {FAMILIES[family].title} ({size}): transformers' initialisation, never trained",
    )
    return save_folder(model, out, FAMILIES[family].normalize, metadata)
