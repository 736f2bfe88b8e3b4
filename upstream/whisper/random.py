"""A Whisper model with transformers' random initialisation, saved as a Hugging Face folder
(config.json, model.safetensors, preprocessor_config.json, care_superb.json): what the upstream
contract test and ``care-superb baseline-init whisper`` use. ``base`` is openai/whisper-base's
config; ``tiny`` keeps Whisper's front end (80 mel bands, 1500 positions = 30 s) and is narrow."""
from __future__ import annotations

import shutil
from pathlib import Path

import torch

from care_superb.upstream.checkpoints import make_metadata, write_marker_file

SIZES = {
    "tiny": dict(d_model=32, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64, decoder_layers=1,
                 decoder_attention_heads=2, decoder_ffn_dim=64),
    "base": dict(d_model=512, encoder_layers=6, encoder_attention_heads=8, encoder_ffn_dim=2048, decoder_layers=6,
                 decoder_attention_heads=8, decoder_ffn_dim=2048),
}


def build_random_folder(out: Path, size: str, seed: int) -> Path:
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    config = WhisperConfig(num_mel_bins=80, max_source_positions=1500, **SIZES[size])
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(partial)
    write_marker_file(partial, make_metadata(
        True, f"care-superb baseline-init whisper --size {size} --seed {seed}", family="whisper", size=size, seed=seed,
        description=f"random Whisper ({size}): transformers' initialisation, never trained"))
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return out
