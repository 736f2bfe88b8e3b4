"""A Whisper model's encoder weights, from what ``-k`` holds, under transformers' ``WhisperEncoder``
names (float32; float16 and bfloat16 weights convert exactly):

* a packaged model's short name (``tiny.en``, ``base``: ``packaged.py``);
* a CTranslate2 folder as faster-whisper keeps them (``model.bin`` + ``config.json``), read by
  ``ct2.py``. Its encoder names map one to one onto transformers', except self-attention's first
  linear, which stacks q, k and v; Whisper's k has no bias (stored as zeros);
* a Hugging Face folder (``config.json`` with ``model_type: whisper``; ``WhisperModel`` or
  ``WhisperForConditionalGeneration``, safetensors or ``pytorch_model.bin``, sharded or not): only
  the encoder's tensors are read;
* an OpenAI checkpoint (``tiny.en.pt``, ``base.pt``, ``large-v3.pt``): ``dims`` (n_mels,
  n_audio_state, n_audio_head, n_audio_layer, ...) + ``model_state_dict`` in OpenAI's names.

Every encoder tensor must be there with its shape; anything else is named in the error.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from care_superb.upstream.checkpoints import UpstreamCheckpointError, load_payload, mismatch, read_marker_file

UPSTREAM = "whisper_local"
EXPECTED = ("a Whisper model: a CTranslate2 folder (model.bin + config.json, as faster-whisper keeps them), a "
            "Hugging Face folder (config.json with model_type whisper), an OpenAI checkpoint (tiny.en.pt, base.pt, "
            "large-v3.pt: dims + model_state_dict), or a packaged model's name (tiny.en, base)")
OPENAI_DIMS = ("n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer")

# OpenAI's encoder names -> transformers' WhisperEncoder names
OPENAI_NAMES = [
    (r"^encoder\.positional_embedding$", "embed_positions.weight"),
    (r"^encoder\.conv(1|2)\.", r"conv\1."),
    (r"^encoder\.blocks\.(\d+)\.attn\.query\.", r"layers.\1.self_attn.q_proj."),
    (r"^encoder\.blocks\.(\d+)\.attn\.key\.", r"layers.\1.self_attn.k_proj."),
    (r"^encoder\.blocks\.(\d+)\.attn\.value\.", r"layers.\1.self_attn.v_proj."),
    (r"^encoder\.blocks\.(\d+)\.attn\.out\.", r"layers.\1.self_attn.out_proj."),
    (r"^encoder\.blocks\.(\d+)\.attn_ln\.", r"layers.\1.self_attn_layer_norm."),
    (r"^encoder\.blocks\.(\d+)\.mlp\.0\.", r"layers.\1.fc1."),
    (r"^encoder\.blocks\.(\d+)\.mlp\.2\.", r"layers.\1.fc2."),
    (r"^encoder\.blocks\.(\d+)\.mlp_ln\.", r"layers.\1.final_layer_norm."),
    (r"^encoder\.ln_post\.", "layer_norm."),
]
# CTranslate2's encoder names (LayerNorm gamma/beta -> weight/bias) -> transformers'
CT2_NAMES = [
    (r"^encoder/position_encodings/encodings$", "embed_positions.weight"),
    (r"^encoder/conv(1|2)/(weight|bias)$", r"conv\1.\2"),
    (r"^encoder/layer_(\d+)/self_attention/layer_norm/", r"layers.\1.self_attn_layer_norm."),
    (r"^encoder/layer_(\d+)/self_attention/linear_1/", r"layers.\1.self_attn.out_proj."),
    (r"^encoder/layer_(\d+)/ffn/layer_norm/", r"layers.\1.final_layer_norm."),
    (r"^encoder/layer_(\d+)/ffn/linear_0/", r"layers.\1.fc1."),
    (r"^encoder/layer_(\d+)/ffn/linear_1/", r"layers.\1.fc2."),
    (r"^encoder/layer_norm/", "layer_norm."),
]
CT2_FUSED_QKV = re.compile(r"^encoder/layer_(\d+)/self_attention/linear_0/(weight|bias)$")


@dataclasses.dataclass
class EncoderWeights:
    config: Any  # transformers.WhisperConfig (what sizes the encoder)
    state: dict[str, torch.Tensor]  # WhisperEncoder's state dict, float32
    path: Path
    form: str  # what the path is, in words
    stored: str  # the stored dtype(s)
    record: dict | None  # care_superb.json / the packaged model's record


class WhisperCheckpointError(UpstreamCheckpointError):
    pass


def error(path, upstream: str, found: str, fix: str = "") -> WhisperCheckpointError:
    return WhisperCheckpointError(f"-u {upstream} -k {path}: expected {EXPECTED}; found {found}." + (f" {fix}" if fix else ""))


def resolve(ckpt: str | os.PathLike) -> Path:
    """The path ``-k`` names: a packaged model's short name becomes its folder."""
    from care_superb.upstream.whisper.packaged import PACKAGED, locate

    return locate(str(ckpt)) if str(ckpt) in PACKAGED else Path(ckpt).expanduser()


def read(ckpt: str | os.PathLike, upstream: str = UPSTREAM) -> EncoderWeights:
    path = resolve(ckpt)
    if not path.exists():
        raise mismatch(path, upstream, EXPECTED)
    if path.is_dir():
        if (path / "model.bin").is_file():
            return _read_ct2(path, upstream)
        config = _json(path / "config.json")
        if config is not None and config.get("model_type") == "whisper":
            return _read_hf(path, upstream)
        if config is not None and "model_type" not in config and any(
                (path / name).is_file() for name in ("vocabulary.txt", "vocabulary.json", "tokenizer.json")):
            raise error(path, upstream, "a CTranslate2 model folder (config.json without model_type, a vocabulary) "
                        "without its model.bin", "Put the model's model.bin there (a model.bin shipped in parts: "
                        "join the parts, in order, byte for byte).")
        raise mismatch(path, upstream, EXPECTED)
    return _read_openai(path, upstream)


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def encoder_config(n_mels: int, width: int, layers: int, heads: int, ffn: int, positions: int):
    from transformers import WhisperConfig

    return WhisperConfig(num_mel_bins=n_mels, d_model=width, encoder_layers=layers, encoder_attention_heads=heads,
                         encoder_ffn_dim=ffn, max_source_positions=positions, decoder_layers=1,
                         decoder_attention_heads=heads, activation_function="gelu")


def check_state(state: dict[str, torch.Tensor], config, path: Path, upstream: str, form: str) -> dict[str, torch.Tensor]:
    """Exactly the tensors of transformers' WhisperEncoder for ``config``, with their shapes."""
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    with torch.device("meta"):
        expected = WhisperEncoder(config).state_dict()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"{k}: shape {tuple(state[k].shape)}, expected {tuple(v.shape)}" for k, v in expected.items()
                 if k in state and state[k].shape != v.shape]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    if problems:
        raise error(path, upstream, f"{form} whose encoder does not fit Whisper's ({len(problems)} problems: "
                    f"{problems[:6]})")
    return {k: state[k].to(torch.float32).contiguous() for k in expected}


# ---- CTranslate2 ---------------------------------------------------------------------------------
def _read_ct2(folder: Path, upstream: str) -> EncoderWeights:
    from care_superb.upstream.whisper.ct2 import ModelBinError, as_float32, read_model_bin
    from care_superb.upstream.whisper.packaged import record_of

    try:
        model = read_model_bin(folder / "model.bin", keep=lambda name: name.startswith("encoder/"))
    except ModelBinError as err:
        raise WhisperCheckpointError(f"-u {upstream} -k {folder}: {err}") from err
    if model.spec != "WhisperSpec":
        raise error(folder, upstream, f"a CTranslate2 {model.spec} model (model.bin), not a WhisperSpec one")
    form = f"a CTranslate2 folder ({model.spec} revision {model.revision})"
    try:
        state = {}
        for name in model.names("encoder/"):
            fused = CT2_FUSED_QKV.match(name)
            if fused:
                layer, kind = fused.groups()
                q, k, v = np.split(as_float32(model, name), 3, axis=0)
                # Whisper's k has no bias: CTranslate2 stores zeros, and a constant added to every key
                # would not change the softmax anyway.
                parts = {"q": q, "v": v} if kind == "bias" else {"q": q, "k": k, "v": v}
                for proj, value in parts.items():
                    state[f"layers.{layer}.self_attn.{proj}_proj.{kind}"] = torch.from_numpy(value.copy())
                continue
            if name == "encoder/num_heads":
                continue
            target = name.replace("/gamma", "/weight").replace("/beta", "/bias")
            for pattern, replacement in CT2_NAMES:
                if re.search(pattern, target):
                    state[re.sub(pattern, replacement, target)] = torch.from_numpy(as_float32(model, name))
                    break
            else:
                state[name] = torch.empty(0)  # reported as unexpected
    except ModelBinError as err:
        raise WhisperCheckpointError(f"-u {upstream} -k {folder}: {err}") from err
    if "encoder/num_heads" not in model or "conv1.weight" not in state or "layers.0.fc1.weight" not in state:
        raise error(folder, upstream, f"{form} without Whisper's encoder tensors ({model.names('encoder/')[:5]})")
    width, n_mels, _ = state["conv1.weight"].shape
    layers = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("layers."))
    config = encoder_config(n_mels, width, layers, int(model.get("encoder/num_heads")),
                            state["layers.0.fc1.weight"].shape[0], state["embed_positions.weight"].shape[0])
    stored = sorted({model.dtypes[model.aliases.get(n, n)] for n in model.names("encoder/") if n != "encoder/num_heads"})
    return EncoderWeights(config, check_state(state, config, folder, upstream, form), folder, form, "/".join(stored),
                          record_of(folder))


# ---- Hugging Face --------------------------------------------------------------------------------
def _read_hf(folder: Path, upstream: str) -> EncoderWeights:
    from transformers import WhisperConfig

    from care_superb.upstream.hf_speech.expert import weight_files

    config = WhisperConfig.from_pretrained(folder, local_files_only=True)
    files = weight_files(folder)
    form = "a Hugging Face Whisper folder"
    if not files or not all(f.is_file() for f in files):
        raise error(folder, upstream, f"{form} without its weights (model.safetensors or pytorch_model.bin: "
                    f"{[f.name for f in files] or 'none'})")
    state, dtypes = {}, set()
    for file in files:
        if file.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(file), framework="pt") as f:
                tensors = {k: f.get_tensor(k) for k in f.keys() if re.match(r"^(model\.)?encoder\.", k)}
        else:
            tensors = {k: v for k, v in load_payload(file).items() if re.match(r"^(model\.)?encoder\.", k)}
        for key, value in tensors.items():
            state[re.sub(r"^(model\.)?encoder\.", "", key)] = value
            dtypes.add(str(value.dtype).replace("torch.", ""))
    if not state:
        raise error(folder, upstream, f"{form} whose weights hold no encoder tensors (encoder.* or model.encoder.*)")
    if config.activation_function != "gelu" or config.scale_embedding:
        raise error(folder, upstream, f"{form} whose config is not Whisper's encoder (activation_function gelu, "
                    "scale_embedding false)")
    config = encoder_config(config.num_mel_bins, config.d_model, config.encoder_layers, config.encoder_attention_heads,
                            config.encoder_ffn_dim, config.max_source_positions)
    return EncoderWeights(config, check_state(state, config, folder, upstream, form), folder, form,
                          "/".join(sorted(dtypes)), read_marker_file(folder))


# ---- OpenAI --------------------------------------------------------------------------------------
def _read_openai(path: Path, upstream: str) -> EncoderWeights:
    try:
        payload = load_payload(path)
    except Exception:  # noqa: BLE001 - mismatch() says what it is
        raise mismatch(path, upstream, EXPECTED) from None
    if not (isinstance(payload, dict) and isinstance(payload.get("dims"), dict)
            and isinstance(payload.get("model_state_dict"), dict)):
        raise mismatch(path, upstream, EXPECTED)
    dims, weights = payload["dims"], payload["model_state_dict"]
    form = "an OpenAI-layout checkpoint (dims + model_state_dict)"
    missing = [k for k in OPENAI_DIMS if k not in dims]
    if missing or not any(k.startswith("encoder.blocks.") for k in weights):
        raise error(path, upstream, f"{form} of another model: dims {sorted(dims)[:8]}, tensors "
                    f"{sorted(weights)[:4]} (Whisper's dims have {', '.join(OPENAI_DIMS)}; its encoder encoder.blocks.*)")
    state, dtypes = {}, set()
    for key, value in weights.items():
        if not key.startswith("encoder."):
            continue
        dtypes.add(str(value.dtype).replace("torch.", ""))
        for pattern, replacement in OPENAI_NAMES:
            if re.search(pattern, key):
                state[re.sub(pattern, replacement, key)] = value
                break
        else:
            state[key] = torch.empty(0)  # reported as unexpected
    ffn = state["layers.0.fc1.weight"].shape[0] if "layers.0.fc1.weight" in state else 4 * dims["n_audio_state"]
    config = encoder_config(dims["n_mels"], dims["n_audio_state"], dims["n_audio_layer"], dims["n_audio_head"], ffn,
                            dims["n_audio_ctx"])
    record = payload.get("care_superb") if isinstance(payload.get("care_superb"), dict) else None
    return EncoderWeights(config, check_state(state, config, path, upstream, form), path, form,
                          "/".join(sorted(dtypes)), record)
