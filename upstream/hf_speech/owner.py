"""Hugging Face folder <-> the owners' checkpoint formats, as s3prl's own loaders read them.

==========  ===============  ==========================================================
family      ``-u``           file
==========  ===============  ==========================================================
wavlm       wavlm_local      Microsoft's WavLM-Base.pt layout: ``{"cfg", "model"}``
hubert      hubert_local     s3prl's converted fairseq HuBERT: ``{"task_cfg", "model_cfg",
                             "model_weight", "dictionaries_symbols"}``
data2vec    data2vec_local   s3prl's converted fairseq data2vec: ``{"task_cfg", "model_cfg",
                             "model_weight"}``, ``model_weight`` holding ``"_ema"``
==========  ===============  ==========================================================

The tensor names are fairseq's (Microsoft's WavLM keeps them); one table per family maps each
transformers name to its fairseq name, used in both directions. What only the owners' pre-training
had (HuBERT's label embeddings and final projection, data2vec's EMA teacher) has no counterpart in
a transformers model: from a folder it is written as zeros (an empty EMA), which no hidden state
reads, and the file's ``care_superb`` record says so. Every written file is loaded back with
s3prl's own loader before this returns.
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

import torch

from care_superb.upstream.checkpoints import (
    MARKER_KEY,
    UpstreamCheckpointError,
    load_payload,
    make_metadata,
    mismatch,
    read_marker_file,
    weights_fields,
)
from care_superb.upstream.hf_speech.families import BY_MODEL_TYPE, FAMILIES

# transformers name -> fairseq name; the first matching pattern applies.
SHARED_KEYS = [
    (r"^masked_spec_embed$", "mask_emb"),
    (r"^feature_extractor\.conv_layers\.(\d+)\.conv\.", r"feature_extractor.conv_layers.\1.0."),
    (r"^feature_projection\.layer_norm\.", "layer_norm."),
    (r"^feature_projection\.projection\.", "post_extract_proj."),
    (r"^encoder\.pos_conv_embed\.conv\.bias$", "encoder.pos_conv.0.bias"),
    (r"^encoder\.pos_conv_embed\.conv\.parametrizations\.weight\.original0$", "encoder.pos_conv.0.weight_g"),
    (r"^encoder\.pos_conv_embed\.conv\.parametrizations\.weight\.original1$", "encoder.pos_conv.0.weight_v"),
    (r"^encoder\.pos_conv_embed\.layers\.(\d+)\.conv\.", r"encoder.pos_conv.\1.0."),
    (r"^encoder\.layer_norm\.", "encoder.layer_norm."),
    (r"^encoder\.layers\.(\d+)\.attention\.(q|k|v|out)_proj\.", r"encoder.layers.\1.self_attn.\2_proj."),
    (r"^encoder\.layers\.(\d+)\.attention\.gru_rel_pos_const$", r"encoder.layers.\1.self_attn.grep_a"),
    (r"^encoder\.layers\.(\d+)\.attention\.gru_rel_pos_linear\.", r"encoder.layers.\1.self_attn.grep_linear."),
    (r"^encoder\.layers\.(\d+)\.attention\.rel_attn_embed\.", r"encoder.layers.\1.self_attn.relative_attention_bias."),
    (r"^encoder\.layers\.(\d+)\.layer_norm\.", r"encoder.layers.\1.self_attn_layer_norm."),
    (r"^encoder\.layers\.(\d+)\.feed_forward\.intermediate_dense\.", r"encoder.layers.\1.fc1."),
    (r"^encoder\.layers\.(\d+)\.feed_forward\.output_dense\.", r"encoder.layers.\1.fc2."),
    (r"^encoder\.layers\.(\d+)\.final_layer_norm\.", r"encoder.layers.\1.final_layer_norm."),
]
# The front end's norms: fairseq's "default" mode has one GroupNorm (module 2 of conv layer 0);
# "layer_norm" mode wraps a LayerNorm in TransposeLast (module 2.1 of every conv layer).
FRONT_END_NORM = {
    "group": (r"^feature_extractor\.conv_layers\.(\d+)\.layer_norm\.", r"feature_extractor.conv_layers.\1.2."),
    "layer": (r"^feature_extractor\.conv_layers\.(\d+)\.layer_norm\.", r"feature_extractor.conv_layers.\1.2.1."),
}
PRETRAINING_ONLY = {"wavlm": (), "hubert": ("label_embs_concat", "final_proj."), "data2vec": ()}


def front_end_norm(config) -> str:
    return getattr(config, "feat_extract_norm", "layer")  # data2vec-audio: always layer-normed


def fairseq_key(hf_key: str, config) -> str:
    for pattern, replacement in [FRONT_END_NORM[front_end_norm(config)], *SHARED_KEYS]:
        if re.search(pattern, hf_key):
            return re.sub(pattern, replacement, hf_key)
    raise KeyError(f"no fairseq name for the transformers tensor {hf_key}")


# ---- configs -----------------------------------------------------------------------------------
def conv_spec(config) -> str:
    return "[" + ", ".join(f"({d}, {k}, {s})" for d, k, s in
                           zip(config.conv_dim, config.conv_kernel, config.conv_stride)) + "]"


def parse_conv_spec(spec: str) -> list[tuple[int, int, int]]:
    """fairseq's ``conv_feature_layers`` string (lists, tuples, ints, + and *), without ``eval``."""
    def value(node):
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [value(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = value(node.left), value(node.right)
            return left + right if isinstance(node.op, ast.Add) else left * right
        raise ValueError(f"unsupported conv_feature_layers {spec!r}")

    return [tuple(layer) for layer in value(ast.parse(spec, mode="eval"))]


def _check_convertible(config) -> None:
    problems = []
    if getattr(config, "layer_norm_eps", 1e-5) != 1e-5:
        problems.append(f"layer_norm_eps={config.layer_norm_eps} (fairseq's LayerNorm uses 1e-5)")
    if getattr(config, "feat_extract_activation", "gelu") != "gelu":
        problems.append(f"feat_extract_activation={config.feat_extract_activation} (fairseq: gelu)")
    if config.hidden_act not in ("gelu", "relu", "tanh", "linear"):
        problems.append(f"hidden_act={config.hidden_act}")
    if problems:
        raise ValueError(f"this {config.model_type} config has no fairseq equivalent: {'; '.join(problems)}")


def owner_model_cfg(family: str, config) -> dict[str, Any]:
    """The owners' model config (fairseq names) of a transformers config."""
    _check_convertible(config)
    cfg = {
        "extractor_mode": "default" if front_end_norm(config) == "group" else "layer_norm",
        "encoder_layers": config.num_hidden_layers,
        "encoder_embed_dim": config.hidden_size,
        "encoder_ffn_embed_dim": config.intermediate_size,
        "encoder_attention_heads": config.num_attention_heads,
        "activation_fn": config.hidden_act,
        "layer_norm_first": bool(getattr(config, "do_stable_layer_norm", False)),
        "conv_feature_layers": conv_spec(config),
        "conv_bias": bool(config.conv_bias),
        "conv_pos_groups": config.num_conv_pos_embedding_groups,
        "dropout": config.hidden_dropout,
        "attention_dropout": config.attention_dropout,
        "activation_dropout": config.activation_dropout,
        "encoder_layerdrop": config.layerdrop,
        "dropout_input": config.feat_proj_dropout,
        "feature_grad_mult": 0.1,
    }
    if family == "data2vec":
        depth = config.num_conv_pos_embeddings  # transformers: the number of positional conv layers
        cfg.update(conv_pos=config.conv_pos_kernel_size * depth, pos_conv_depth=depth)
    else:
        cfg["conv_pos"] = config.num_conv_pos_embeddings  # the one positional conv's kernel
    if family == "wavlm":
        cfg.update(relative_position_embedding=True, num_buckets=config.num_buckets,
                   max_distance=config.max_bucket_distance, gru_rel_pos=True)
    if family == "hubert":
        cfg.update(label_rate=50.0, final_dim=256 if config.hidden_size >= 256 else config.hidden_size // 2)
    return cfg


def hf_config_from_owner(family: str, cfg: dict[str, Any]):
    """A transformers config of the owners' model config (inverse of :func:`owner_model_cfg`)."""
    from transformers import Data2VecAudioConfig, HubertConfig, WavLMConfig

    layers = parse_conv_spec(cfg["conv_feature_layers"])
    common = dict(
        conv_dim=[d for d, _, _ in layers], conv_kernel=[k for _, k, _ in layers],
        conv_stride=[s for _, _, s in layers], conv_bias=bool(cfg.get("conv_bias", False)),
        hidden_size=cfg["encoder_embed_dim"], num_hidden_layers=cfg["encoder_layers"],
        num_attention_heads=cfg["encoder_attention_heads"], intermediate_size=cfg["encoder_ffn_embed_dim"],
        hidden_act=cfg.get("activation_fn", "gelu"), layer_norm_eps=1e-5,
        num_conv_pos_embedding_groups=cfg.get("conv_pos_groups", 16),
    )
    norm = "group" if cfg.get("extractor_mode", "default") == "default" else "layer"
    stable = bool(cfg.get("layer_norm_first", False))
    if family == "data2vec":
        if norm != "layer" or stable:
            raise ValueError("transformers' data2vec-audio has a layer-normed front end and a post-LN encoder")
        depth = int(cfg.get("pos_conv_depth", 1))
        return Data2VecAudioConfig(**common, num_conv_pos_embeddings=depth,
                                   conv_pos_kernel_size=max(3, cfg["conv_pos"] // depth))
    common.update(feat_extract_norm=norm, do_stable_layer_norm=stable, num_conv_pos_embeddings=cfg["conv_pos"])
    if family == "wavlm":
        if not (cfg.get("relative_position_embedding") and cfg.get("gru_rel_pos")):
            raise ValueError("transformers' WavLM needs relative_position_embedding and gru_rel_pos")
        return WavLMConfig(**common, num_buckets=cfg.get("num_buckets", 320),
                           max_bucket_distance=cfg.get("max_distance", 800))
    return HubertConfig(**common)


# ---- s3prl's loaders: the reference for what each owner file must hold ------------------------
def owner_model(family: str, payload: dict):
    """The model s3prl's own loader builds for this payload (weights not loaded)."""
    if family == "wavlm":
        from s3prl.upstream.wavlm.WavLM import WavLM, WavLMConfig

        return WavLM(WavLMConfig(payload["cfg"]))
    from s3prl.upstream.utils import merge_with_parent

    if family == "hubert":
        from s3prl.upstream.hubert.hubert_model import HubertConfig, HubertModel, HubertPretrainingConfig

        return HubertModel(merge_with_parent(HubertConfig, payload["model_cfg"]),
                           merge_with_parent(HubertPretrainingConfig, payload["task_cfg"]),
                           payload["dictionaries_symbols"])
    from s3prl.upstream.data2vec.data2vec_model import Data2VecAudioConfig, Data2VecAudioModel

    model = Data2VecAudioModel(merge_with_parent(Data2VecAudioConfig, payload["model_cfg"]))
    model.remove_pretraining_modules()
    return model


def owner_normalize(family: str, payload: dict) -> bool:
    return bool(payload["cfg"].get("normalize", False) if family == "wavlm" else payload["task_cfg"].get("normalize", False))


def owner_state(family: str, payload: dict) -> dict:
    state = payload["model"] if family == "wavlm" else payload["model_weight"]
    return {k: v for k, v in state.items() if k != "_ema"}


def family_of_owner_file(path: str | os.PathLike) -> tuple[str, dict]:
    from care_superb.upstream.checkpoints import identify

    found = identify(path)
    for family in FAMILIES.values():
        if family.owner_upstream in found.readers:
            return family.name, load_payload(path)
    raise mismatch(path, "baseline-convert", "an owners' checkpoint of " + ", ".join(
        f"{f.title} ({f.owner_format})" for f in FAMILIES.values()))


# ---- folder -> owner file ----------------------------------------------------------------------
def folder_to_owner(folder: str | os.PathLike, out: str | os.PathLike, created_by: str | None = None) -> Path:
    """Write the owners' checkpoint of a Hugging Face WavLM / HuBERT / data2vec-audio folder."""
    from transformers import AutoModel

    from care_superb.upstream.hf_speech.expert import read_folder, waveform_normalisation, weight_files

    folder = Path(folder)
    config = read_folder(folder, "baseline-convert")
    if config.model_type not in BY_MODEL_TYPE:
        raise mismatch(folder, "baseline-convert", "a Hugging Face folder of "
                       + ", ".join(f.model_type for f in FAMILIES.values()))
    family = BY_MODEL_TYPE[config.model_type].name
    normalize = waveform_normalisation(folder, config.model_type)[0]
    hf_state = AutoModel.from_pretrained(folder, config=config, local_files_only=True).state_dict()
    cfg = owner_model_cfg(family, config)
    if family == "wavlm":
        payload = {"cfg": dict(cfg, normalize=normalize)}
    else:
        payload = {"task_cfg": {"normalize": normalize, "sample_rate": 16000}, "model_cfg": cfg}
        if family == "hubert":
            payload["task_cfg"]["label_rate"] = 50.0
            # one label dictionary (fairseq's four special symbols + cluster ids): sizes the zero heads
            clusters = 500 if config.hidden_size >= 256 else 8
            payload["dictionaries_symbols"] = [["<s>", "<pad>", "</s>", "<unk>"] + [str(i) for i in range(clusters)]]
    expected = owner_model(family, payload).state_dict()
    state = {fairseq_key(k, config): v.detach().clone() for k, v in hf_state.items()}
    zeroed = []
    for key, tensor in expected.items():
        if key not in state and key.startswith(PRETRAINING_ONLY[family]):
            state[key] = torch.zeros_like(tensor)
            zeroed.append(key)
    problems = [f"missing: {k}" for k in expected if k not in state]
    problems += [f"unexpected: {k}" for k in state if k not in expected]
    problems += [f"shape: {k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
                 if k in state and state[k].shape != v.shape]
    if problems:
        raise UpstreamCheckpointError(f"{folder}: does not map onto s3prl's {family} model: {problems[:10]}")
    record = read_marker_file(folder) or {}
    weights = weights_fields(record, weight_files(folder))
    metadata = make_metadata(
        weights.pop("random_weights"), created_by or f"care-superb baseline-convert {folder} {out}",
        family=family, source=str(folder), source_record=record or None, **weights,
        pretraining_only_zeroed=zeroed or None,
        note="weights as the folder's care_superb.json says; without one, the folder's release (hashed)",
    )
    if family == "wavlm":
        payload["model"] = state
    else:
        payload["model_weight"] = dict(state, _ema={}) if family == "data2vec" else state
    payload[MARKER_KEY] = metadata
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    torch.save(payload, partial)
    check = owner_model(family, load_payload(partial))  # s3prl's model, strictly loaded
    check.load_state_dict(owner_state(family, load_payload(partial)), strict=True)
    os.replace(partial, out)
    return out


# ---- owner file -> folder ----------------------------------------------------------------------
def owner_to_folder(path: str | os.PathLike, out: str | os.PathLike, created_by: str | None = None) -> Path:
    """Write the Hugging Face folder of an owners' WavLM / HuBERT / data2vec checkpoint."""
    from transformers import AutoModel

    from care_superb.upstream.hf_speech.random import save_folder

    family, payload = family_of_owner_file(path)
    cfg = payload["cfg"] if family == "wavlm" else payload["model_cfg"]
    config = hf_config_from_owner(family, cfg)
    model = AutoModel.from_config(config).eval()
    source = owner_state(family, payload)
    problems, state = [], {}
    for key, tensor in model.state_dict().items():
        name = fairseq_key(key, config)
        if name not in source:
            problems.append(f"missing: {name}")
        elif source[name].shape != tensor.shape:
            problems.append(f"shape: {name} {tuple(source[name].shape)} vs {tuple(tensor.shape)}")
        else:
            state[key] = source[name]
    if problems:
        raise UpstreamCheckpointError(f"{path}: does not fit transformers' {config.model_type} model "
                                      f"its config builds: {problems[:10]}")
    model.load_state_dict(state, strict=True)
    record = payload.get(MARKER_KEY) or {}
    weights = weights_fields(record, [path])
    metadata = make_metadata(
        weights.pop("random_weights"), created_by or f"care-superb baseline-convert {path} {out}",
        family=family, source=str(path), source_record=record or None, **weights,
        dropped_pretraining_only=sorted(set(source) - {fairseq_key(k, config) for k in state}) or None,
    )
    return save_folder(model, Path(out), owner_normalize(family, payload), metadata)
