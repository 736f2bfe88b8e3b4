"""A BERT text encoder with transformers' random initialisation, saved as a Hugging Face folder
with a character-level WordPiece vocabulary (any lower-case ASCII text tokenizes without [UNK]):
what the upstream contract test and ``care-superb baseline-init asr_text`` use. ``base`` is
bert-base's size; ``tiny`` is narrow and shallow. Nothing is downloaded."""
from __future__ import annotations

import shutil
import string
from pathlib import Path

import torch

from care_superb.upstream.checkpoints import make_metadata, write_marker_file

SIZES = {
    "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64),
    "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
}
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_random_text_encoder(out: Path, size: str, seed: int) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    symbols = string.ascii_lowercase + string.digits + string.punctuation
    (partial / "vocab.txt").write_text("\n".join(SPECIAL + list(symbols) + [f"##{c}" for c in symbols]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(partial / "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(partial)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(tokenizer), max_position_embeddings=512, **SIZES[size])
    BertModel(config).eval().save_pretrained(partial)
    write_marker_file(partial, make_metadata(
        True, f"care-superb baseline-init asr_text --size {size} --seed {seed}", family="asr_text", size=size,
        seed=seed, description=f"random BERT ({size}, character vocabulary): transformers' initialisation, never trained"))
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return out
