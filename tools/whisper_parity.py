#!/usr/bin/env python
"""whisper_local's hidden states against the owners' own code, layer by layer (the figures in docs/upstreams.md).

1. Real weights (the packaged tiny.en and base) against CTranslate2's own ``encode()``, which returns
   only the last state (the final LayerNorm of the last layer). So for each k >= 1 (CTranslate2
   loads no encoder without a layer) the encoder's first k layers and its final LayerNorm are saved as a Hugging Face folder and
   converted by CTranslate2's own converter (float32: the float16 weights exactly); its ``encode()``
   is compared with our state k through the same final LayerNorm. Speech: espeak-ng (English for
   tiny.en, German for base), on the utterance's own frames.
2. transformers on a converted folder: a small Whisper with random weights (every weight moved off
   its initialisation) saved as a Hugging Face folder, converted by CTranslate2's converter to
   float32 and to float16; whisper_local on the converted folder against transformers'
   ``WhisperEncoder`` on the original (its weights rounded to float16 for the float16 file), state
   by state; and an OpenAI checkpoint made by OpenAI's own ``Whisper`` class against its encoder.
Each comparison is repeated with one weight of our encoder off by 0.5 (the first layer's fc1[0, 0]).
One CPU thread.

    python tools/whisper_parity.py [--models tiny.en,base]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
from pathlib import Path

import numpy as np
import torch
from tabulate import tabulate


def ctranslate2_encode(folder: Path, mel: torch.Tensor) -> np.ndarray:
    import ctranslate2

    model = ctranslate2.models.Whisper(str(folder), device="cpu", intra_threads=1)
    return np.array(model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel.numpy())), to_cpu=True))


def convert(hf_folder: Path, out: Path, quantization: str) -> Path:
    from ctranslate2.converters import TransformersConverter

    TransformersConverter(str(hf_folder)).convert(str(out), quantization=quantization, force=True)
    return out


def save_hf(model, folder: Path, tokenizer_json: Path) -> Path:
    from transformers import WhisperFeatureExtractor, WhisperTokenizerFast

    model.save_pretrained(folder)
    WhisperTokenizerFast(tokenizer_file=str(tokenizer_json)).save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=model.config.num_mel_bins).save_pretrained(folder)
    return folder


def speech(text: str, language: str) -> torch.Tensor:
    from care_superb.synth.espeak import Speaker, render

    return torch.from_numpy(render(text, Speaker("s", "f", language, "f4", 55, 140), "neutral", random.Random(0), 0.0))


def off(upstream, layer: int = 0):
    with torch.no_grad():
        upstream.encoder.layers[min(layer, len(upstream.encoder.layers) - 1)].fc1.weight[0, 0] += 0.5
    return upstream


def diff(a, b) -> tuple[float, float]:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max()), float(np.abs(a - b).max() / np.abs(b).max())


def real_against_ctranslate2(name: str, work: Path) -> list[list]:
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    from care_superb.upstream.whisper.hubconf import whisper_local
    from care_superb.upstream.whisper.packaged import locate

    upstream = whisper_local(ckpt=name)
    encoder, config = upstream.encoder, upstream.encoder.config
    text, language = ("I am so happy to see you today.", "en-us") if name.endswith(".en") else \
        ("Der Lappen liegt auf dem Eisschrank.", "de")
    wav = speech(text, language)
    frames = round(len(wav) / 320)
    mel = upstream.log_mel([wav])
    with torch.no_grad():
        ours = [encoder.layer_norm(s) for s in upstream.encode(mel)[:-1]] + [upstream.encode(mel)[-1]]
        wrong = off(whisper_local(ckpt=name))
        wrong_states = [wrong.encoder.layer_norm(s) for s in wrong.encode(mel)[:-1]] + [wrong.encode(mel)[-1]]
    tokenizer = locate(name) / "tokenizer.json"
    vocab = 51864 if name.endswith(".en") else 51865
    rows = []
    for k in range(1, config.encoder_layers + 1):  # CTranslate2 loads no encoder without a layer
        truncated = WhisperConfig(vocab_size=vocab, num_mel_bins=config.num_mel_bins, d_model=config.d_model,
                                  encoder_layers=k, encoder_attention_heads=config.encoder_attention_heads,
                                  encoder_ffn_dim=config.encoder_ffn_dim, decoder_layers=1,
                                  decoder_attention_heads=config.encoder_attention_heads,
                                  max_source_positions=config.max_source_positions)
        model = WhisperForConditionalGeneration(truncated).eval()
        state = {key: value for key, value in encoder.state_dict().items()
                 if not key.startswith("layers.") or int(key.split(".")[1]) < k}
        model.model.encoder.load_state_dict(state, strict=True)
        ct2 = convert(save_hf(model, work / f"{name}-{k}", tokenizer), work / f"{name}-{k}-ct2", "float32")
        engine = ctranslate2_encode(ct2, mel)[:, :frames]
        (abs_, rel), (wrong_abs, _) = diff(ours[k][:, :frames], engine), diff(wrong_states[k][:, :frames], engine)
        rows.append([f"{name} (real)", f"layer {k}", "CTranslate2 encode()",
                     abs_, rel, wrong_abs])
    return rows


def random_against_transformers(work: Path) -> list[list]:
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    from whisper.model import ModelDimensions, Whisper

    from care_superb.upstream.whisper.hubconf import whisper_local
    from care_superb.upstream.whisper.packaged import locate

    def perturbed(module, seed):
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in module.parameters():
                p.add_(torch.randn(p.shape, generator=generator) * 0.05)
        return module

    torch.manual_seed(0)
    config = WhisperConfig(vocab_size=51864, num_mel_bins=80, d_model=64, encoder_layers=2, encoder_attention_heads=4,
                           encoder_ffn_dim=128, decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=128,
                           max_source_positions=1500)
    hf = save_hf(perturbed(WhisperForConditionalGeneration(config).eval(), 0), work / "random-hf",
                 locate("tiny.en") / "tokenizer.json")
    wav = torch.from_numpy(np.random.default_rng(3).standard_normal(int(4.3 * 16000)).astype(np.float32) * 0.1)
    rows = []
    for quantization in ("float32", "float16"):
        ct2 = convert(hf, work / f"random-{quantization}", quantization)
        upstream = whisper_local(ckpt=str(ct2))
        mel = upstream.log_mel([wav])
        reference = WhisperForConditionalGeneration.from_pretrained(hf).eval()
        if quantization == "float16":
            reference = reference.half().float()
        with torch.no_grad():
            theirs = reference.model.encoder(mel, output_hidden_states=True).hidden_states
            ours, wrong = upstream.encode(mel), off(whisper_local(ckpt=str(ct2))).encode(mel)
        for k, (a, w, b) in enumerate(zip(ours, wrong, theirs)):
            rows.append([f"random, CTranslate2 {quantization} file", "front end" if k == 0 else f"layer {k}",
                         "transformers' WhisperEncoder", *diff(a, b), diff(w, b)[0]])
    dims = ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=4, n_audio_layer=2,
                           n_vocab=51864, n_text_ctx=448, n_text_state=64, n_text_head=4, n_text_layer=1)
    torch.manual_seed(1)
    model = perturbed(Whisper(dims).eval(), 1)
    path = work / "random-openai.pt"
    torch.save({"dims": dataclasses.asdict(dims), "model_state_dict": model.state_dict()}, path)
    upstream = whisper_local(ckpt=str(path))
    mel = upstream.log_mel([wav])
    seen = []
    model.encoder.blocks[0].register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    for block in model.encoder.blocks:
        block.register_forward_hook(lambda m, args, out: seen.append(out))
    with torch.no_grad():
        last = model.encoder(mel)
        ours, wrong = upstream.encode(mel), off(whisper_local(ckpt=str(path))).encode(mel)
    for k, (a, w, b) in enumerate(zip(ours, wrong, seen[:-1] + [last])):
        rows.append(["random, OpenAI checkpoint", "front end" if k == 0 else f"layer {k}", "OpenAI's AudioEncoder",
                     *diff(a, b), diff(w, b)[0]])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tiny.en,base")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row for name in args.models.split(",") if name for row in real_against_ctranslate2(name, Path(tmp))]
        rows += random_against_transformers(Path(tmp))
    print(tabulate(rows, headers=["weights", "state", "against", "max |diff|", "relative", "one weight off: max |diff|"],
                   floatfmt=".1e", tablefmt="github"))
    print("(real: the last layer's state is compared as is; the others through the encoder's final LayerNorm; "
          "relative: max |diff| / max |reference|)")


if __name__ == "__main__":
    main()
