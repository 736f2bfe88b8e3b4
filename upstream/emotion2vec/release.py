"""The emotion2vec release folder, as the owners publish it (modelscope / Hugging Face
``emotion2vec/emotion2vec_base``, ``emotion2vec_plus_*``) and as funasr reads it::

    config.yaml          model: Emotion2vec, model_conf: {...}   (funasr's model config)
    configuration.json   {"file_path_metas": {"init_param": "emotion2vec_base.pt", ...}, ...}
    emotion2vec_base.pt  the weights ("model.pt" in the emotion2vec_plus releases)
    tokens.txt           the class names of the fine-tuned releases' head (unused here)

The model is funasr's ``Emotion2vec(model_conf=..., vocab_size=...)``, built from config.yaml;
funasr is imported only here and only when a folder is read or written. Its weights are loaded
strictly for everything that computes hidden states; what only pre-training or the classification
head uses may be absent, and tensors the model does not have are ignored (as funasr does) and
listed in the provenance.

``model_conf`` for the random builders: ``base`` is emotion2vec_base's (data2vec 2.0 base's audio
encoder: 7 convolutions of 512, 4 pre-net + 8 transformer blocks of 768, 12 heads, ALiBi, 10
extra tokens, waveform normalisation), ``tiny`` the same layout, narrow and shallow.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from care_superb.upstream.checkpoints import (
    UpstreamCheckpointError,
    load_payload,
    make_metadata,
    mismatch,
    read_marker_file,
    write_marker_file,
)

UPSTREAM = "emotion2vec_local"
EXPECTED = ("an emotion2vec release folder (config.yaml naming model Emotion2vec, configuration.json "
            "whose file_path_metas.init_param names the weight file, and that file)")
# Parts of the model that no hidden state reads (pre-training decoder, fine-tuned class head).
NOT_FOR_FEATURES = ("modality_encoders.AUDIO.decoder.", "proj.")

AUDIO_BASE: dict[str, Any] = {
    "type": "AUDIO", "prenet_depth": 4, "prenet_layerdrop": 0.05, "prenet_dropout": 0.1,
    "start_drop_path_rate": 0.0, "end_drop_path_rate": 0.0, "num_extra_tokens": 10,
    "init_extra_token_zero": True, "mask_noise_std": 0.01, "mask_prob_min": None, "inverse_mask": False,
    "mask_prob_adjust": 0.05, "keep_masked_pct": 0.0, "mask_length": 5, "add_masks": False,
    "remove_masks": False, "mask_dropout": 0.0, "encoder_zero_mask": True, "mask_channel_prob": 0.0,
    "mask_channel_length": 64, "ema_local_encoder": False, "local_grad_mult": 1.0,
    "use_alibi_encoder": True, "alibi_scale": 1.0, "learned_alibi": False, "alibi_max_pos": None,
    "learned_alibi_scale": True, "learned_alibi_scale_per_head": True,
    "learned_alibi_scale_per_layer": False, "num_alibi_heads": 12, "model_depth": 8,
    "decoder": {"decoder_dim": 384, "decoder_groups": 16, "decoder_kernel": 7, "decoder_layers": 4,
                "input_dropout": 0.1, "add_positions_masked": False, "add_positions_all": False,
                "decoder_residual": True, "projection_layers": 1, "projection_ratio": 2.0},
    "extractor_mode": "layer_norm",
    "feature_encoder_spec": "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]",
    "conv_pos_width": 95, "conv_pos_groups": 16, "conv_pos_depth": 5, "conv_pos_pre_ln": False,
}
MODEL_BASE: dict[str, Any] = {
    "loss_beta": 0.0, "loss_scale": None, "depth": 8, "start_drop_path_rate": 0.0,
    "end_drop_path_rate": 0.0, "num_heads": 12, "norm_eps": 1e-05, "norm_affine": True,
    "encoder_dropout": 0.1, "post_mlp_drop": 0.1, "attention_dropout": 0.1, "activation_dropout": 0.0,
    "dropout_input": 0.0, "layerdrop": 0.05, "embed_dim": 768, "mlp_ratio": 4.0,
    "layer_norm_first": False, "average_top_k_layers": 8, "end_of_block_targets": False,
    "clone_batch": 8, "layer_norm_target_layer": False, "batch_norm_target_layer": False,
    "instance_norm_target_layer": True, "instance_norm_targets": False, "layer_norm_targets": False,
    "ema_decay": 0.999, "ema_same_dtype": True, "log_norms": True, "ema_end_decay": 0.99999,
    "ema_anneal_end_step": 20000, "ema_encoder_only": False, "max_update": 100000,
    "extractor_mode": "layer_norm", "shared_decoder": None, "min_target_var": 0.1,
    "min_pred_var": 0.01, "supported_modality": "AUDIO", "mae_init": False, "seed": 1,
    "skip_ema": False, "cls_loss": 1.0, "recon_loss": 0.0, "d2v_loss": 1.0, "decoder_group": False,
    "normalize": True, "modalities": {"audio": AUDIO_BASE},
}


def model_conf(size: str) -> dict[str, Any]:
    conf = copy.deepcopy(MODEL_BASE)
    if size == "base":
        return conf
    if size != "tiny":
        raise ValueError(f"emotion2vec sizes are tiny and base, not {size!r}")
    conf.update(depth=2, num_heads=2, embed_dim=32, mlp_ratio=2.0, average_top_k_layers=2)
    conf["modalities"]["audio"].update(
        prenet_depth=1, num_extra_tokens=3, num_alibi_heads=2, model_depth=2, decoder=None,
        feature_encoder_spec="[(24, 10, 5)] + [(24, 3, 2)] * 4 + [(24,2,2)] + [(24,2,2)]",
        conv_pos_width=15, conv_pos_groups=2, conv_pos_depth=3,
    )
    return conf


def hidden_state_count(conf: dict) -> int:
    """The block input, then every pre-net and every main transformer block."""
    return 1 + conf["modalities"]["audio"]["prenet_depth"] + conf["depth"]


# ---- reading -----------------------------------------------------------------------------------
def read_release(folder: str | os.PathLike) -> tuple[dict, Path]:
    """config.yaml's contents and the weight file configuration.json names, checked."""
    import yaml

    folder = Path(folder)
    if not folder.is_dir():
        raise mismatch(folder, UPSTREAM, EXPECTED)
    config_path, meta_path = folder / "config.yaml", folder / "configuration.json"
    if not config_path.is_file() or not meta_path.is_file():
        raise mismatch(folder, UPSTREAM, EXPECTED)
    config = yaml.safe_load(config_path.read_text())
    if not isinstance(config, dict) or config.get("model") != "Emotion2vec" or "model_conf" not in config:
        model = config.get("model") if isinstance(config, dict) else None
        raise UpstreamCheckpointError(
            f"-u {UPSTREAM} -k {folder}: expected config.yaml with model: Emotion2vec and a "
            f"model_conf; found model: {model!r}")
    try:
        init_param = json.loads(meta_path.read_text())["file_path_metas"]["init_param"]
    except (ValueError, KeyError, TypeError) as error:
        raise UpstreamCheckpointError(
            f"-u {UPSTREAM} -k {folder}: expected configuration.json with "
            f"file_path_metas.init_param naming the weight file; found none ({error!r})") from error
    weights = folder / init_param
    if not weights.is_file():
        raise UpstreamCheckpointError(
            f"-u {UPSTREAM} -k {folder}: configuration.json names the weight file {init_param}, "
            f"which is not in the folder ({weights} missing)")
    return config, weights


def state_dict_of(weights: Path) -> dict[str, torch.Tensor]:
    """The tensors of a weight file, unwrapped as funasr unwraps them (``state_dict`` of funasr's
    trainer, ``model`` of fairseq's, as emotion2vec_base.pt was trained), the rest dropped."""
    try:
        payload = load_payload(weights)
    except UpstreamCheckpointError:
        raise
    except Exception as error:  # noqa: BLE001
        raise UpstreamCheckpointError(f"{weights}: torch cannot read it as weights without running code "
                                      f"({type(error).__name__}: {error})") from error
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(payload, dict) and isinstance(payload.get(key), dict):
            payload = payload[key]
    if not isinstance(payload, dict):
        raise UpstreamCheckpointError(f"{weights}: expected a dict of tensors, found {type(payload).__name__}")
    return payload


def build_model(conf: dict, vocab_size: int = -1):
    """funasr's own model class, built from a model_conf (random weights, eval mode)."""
    try:
        from funasr.models.emotion2vec.model import Emotion2vec
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(f"emotion2vec needs funasr ({error}): pip install "
                                  "'care-superb[emotion2vec]' (scripts/setup.sh installs it)") from error

    return Emotion2vec(model_conf=conf, vocab_size=vocab_size).eval()


def load_release(folder: str | os.PathLike):
    """funasr's ``Emotion2vec`` with the folder's weights, and what loading found."""
    config, weights = read_release(folder)
    state = state_dict_of(weights)
    head = state.get("proj.weight")
    model = build_model(config["model_conf"], vocab_size=head.shape[0] if head is not None else -1)
    expected = model.state_dict()
    needed = [k for k in expected if not k.startswith(NOT_FOR_FEATURES)]
    problems = [f"missing: {k}" for k in needed if k not in state]
    problems += [f"shape: {k} is {tuple(state[k].shape)} in the file, {tuple(v.shape)} in the model"
                 for k, v in expected.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if problems:
        raise UpstreamCheckpointError(
            f"-u {UPSTREAM} -k {folder}: {weights.name} does not fit the Emotion2vec model its "
            f"config.yaml builds ({len(problems)} problems): {problems[:8]}"
            + (f". The file holds {identify_kind(weights)}." if len(problems) == len(needed) else ""))
    loaded = {k: v for k, v in state.items() if k in expected}
    model.load_state_dict(loaded, strict=False)
    info = {
        "weight_file": weights.name,
        "ignored_tensors": sorted(k for k in state if k not in expected)[:20] or None,
        "absent_unused_tensors": sorted(k for k in expected if k not in state)[:20] or None,
    }
    return model, config["model_conf"], info


def identify_kind(path: Path) -> str:
    from care_superb.upstream.checkpoints import identify

    return identify(path).kind


# ---- writing -----------------------------------------------------------------------------------
def write_release(folder: Path, model, conf: dict, metadata: dict, weight_name: str = "emotion2vec_base.pt") -> Path:
    """A release-layout folder for ``model`` (written beside the target, then renamed)."""
    import yaml

    folder = Path(folder)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / "config.yaml").write_text(yaml.safe_dump({"model": "Emotion2vec", "model_conf": conf}, sort_keys=False))
    (partial / "configuration.json").write_text(json.dumps({
        "framework": "pytorch", "task": "emotion-recognition", "model": {"type": "funasr"},
        "file_path_metas": {"init_param": weight_name, "config": "config.yaml"},
    }, indent=2) + "\n")
    torch.save({"model": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}},
               partial / weight_name)
    write_marker_file(partial, metadata)
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    return folder


def build_random_release(out: Path, size: str, seed: int) -> Path:
    """emotion2vec with funasr's own random initialisation, in the release layout."""
    conf = model_conf(size)
    torch.manual_seed(seed)
    model = build_model(conf)
    metadata = make_metadata(True, f"care-superb baseline-init emotion2vec --size {size} --seed {seed}",
                             family="emotion2vec", size=size, seed=seed,
                             description=f"random emotion2vec ({size}): funasr's initialisation, never trained")
    return write_release(out, model, conf, metadata)


def release_record(folder: str | os.PathLike) -> dict | None:
    return read_marker_file(folder)
