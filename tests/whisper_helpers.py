"""What the Whisper tests share: Hugging Face Whisper folders that CTranslate2's own converter
reads, the reference encoders (transformers', OpenAI's, CTranslate2's), espeak-ng speech."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from baseline_helpers import perturb_


def tokenizer_file(packaged: str = "tiny.en") -> Path:
    from care_superb.upstream.whisper.packaged import locate

    return locate(packaged) / "tokenizer.json"


def save_hf_whisper(model, folder: Path, packaged: str = "tiny.en") -> Path:
    """``model`` (WhisperForConditionalGeneration) saved with a tokenizer and feature extractor, as
    CTranslate2's converter and transformers read a Hugging Face Whisper folder."""
    from transformers import WhisperFeatureExtractor, WhisperTokenizerFast

    model.save_pretrained(folder)
    WhisperTokenizerFast(tokenizer_file=str(tokenizer_file(packaged))).save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=model.config.num_mel_bins).save_pretrained(folder)
    return folder


def random_hf_whisper(folder: Path, seed: int = 0, layers: int = 2, width: int = 64) -> Path:
    """A small Whisper (tiny.en's vocabulary), every weight moved off its initial value."""
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(seed)
    config = WhisperConfig(vocab_size=51864, num_mel_bins=80, d_model=width, encoder_layers=layers,
                           encoder_attention_heads=4, encoder_ffn_dim=2 * width, decoder_layers=1,
                           decoder_attention_heads=4, decoder_ffn_dim=2 * width, max_source_positions=1500)
    model = perturb_(WhisperForConditionalGeneration(config).eval(), seed=seed, scale=0.05)
    return save_hf_whisper(model, folder)


def english_only_generation(folder: Path, max_length: int = 448) -> Path:
    """The generation_config.json of an English-only Hugging Face Whisper (as openai/whisper-tiny.en
    has it: not multilingual, no language or task tokens), its special tokens' ids read from
    tiny.en's tokenizer."""
    import json

    from transformers import GenerationConfig

    ids = {t["content"]: t["id"] for t in json.loads(tokenizer_file().read_text())["added_tokens"]}
    end, start, bare = ids["<|endoftext|>"], ids["<|startoftranscript|>"], ids["<|notimestamps|>"]
    GenerationConfig(is_multilingual=False, bos_token_id=start, decoder_start_token_id=start, eos_token_id=end,
                     pad_token_id=end, no_timestamps_token_id=bare, forced_decoder_ids=[[1, bare]],
                     begin_suppress_tokens=[220, end], max_length=max_length).save_pretrained(folder)
    return folder


def convert_with_ctranslate2(hf_folder: Path, out: Path, quantization: str | None) -> Path:
    """CTranslate2's own converter (ct2-transformers-converter) of a Hugging Face folder."""
    from ctranslate2.converters import TransformersConverter

    TransformersConverter(str(hf_folder)).convert(str(out), quantization=quantization, force=True)
    return out


def transformers_states(hf_folder: Path, mel: torch.Tensor, float16_weights: bool = False) -> list[torch.Tensor]:
    """transformers' WhisperEncoder on the folder, every hidden state (weights rounded to float16
    first when the file compared with holds them so)."""
    from transformers import WhisperForConditionalGeneration

    model = WhisperForConditionalGeneration.from_pretrained(hf_folder).eval()
    if float16_weights:
        model = model.half().float()
    with torch.no_grad():
        return list(model.model.encoder(mel, output_hidden_states=True).hidden_states)


def ctranslate2_encode(folder: Path, mel: torch.Tensor) -> np.ndarray:
    """CTranslate2's own Whisper encoder (one thread) on the same log-mel."""
    import ctranslate2

    model = ctranslate2.models.Whisper(str(folder), device="cpu", intra_threads=1)
    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel.numpy(), dtype=np.float32))
    return np.array(model.encode(features, to_cpu=True))


def speech(text: str, language: str = "en-us", seed: int = 0) -> torch.Tensor:
    """espeak-ng speaking ``text`` clearly (a neutral voice at 140 words per minute, which tiny.en
    transcribes word for word here), 16 kHz."""
    from care_superb.synth.espeak import Speaker, render

    speaker = Speaker("s", "f", language, "f4", 55, 140)
    return torch.from_numpy(render(text, speaker, "neutral", random.Random(seed), jitter=0.0))


def max_abs(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


def relative(ours, theirs) -> float:
    """Largest difference relative to the largest magnitude of the reference."""
    theirs = np.asarray(theirs, dtype=np.float64)
    return max_abs(ours, theirs) / float(np.abs(theirs).max())
