"""SONAR speech-encoder files (``spenc.eng.pt``, ``spenc.v3ap.fra.pt``, ``spenc.v3ap.deu.pt``, ...):
read with sonar-space's own model family on fairseq2, written in the same layout for tests.

Reading: fairseq2's ``ModelHub.load_custom_model`` for sonar-space's ``sonar_speech`` family,
which runs sonar-space's own converter of the released files (fairseq tensor names,
``encoder.w2v_model.*`` and ``decoder.*``, under ``"model"``) or of a fairseq2 trainer's model
file (fairseq2 names at the top level) and loads strictly. fairseq2 reads the family's files
weights-only (the ``sonar_speech`` family keeps fairseq2's default ``restrict``, and no card of
sonar-space lifts it), so the released files hold tensors and plain containers; a file that also
pickles what training checkpoints hold (``owner_pickles.py``) is read too. The architecture
comes from the file: files we write record their config; a released file is told by its tensors
(w2v-BERT 600M encoder: 24 conformer layers of 1024; a 3-layer pooler is sonar-space's
``english`` arch, the one of spenc.eng.pt, a 6-layer one its ``non_english`` arch, the one of
every spenc.v3ap.*.pt).

Writing (random weights, ``tiny`` or ``base`` = the ``english`` arch): sonar-space's factory
builds the model; its tensors are renamed back to the released files' fairseq names (the inverse
of sonar-space's converter, checked by running that converter before anything is written).
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import torch

from care_superb.upstream.checkpoints import (
    MARKER_KEY,
    UpstreamCheckpointError,
    identify,
    load_payload,
    make_metadata,
    mismatch,
)
from care_superb.upstream.owner_pickles import owner_globals

UPSTREAM = "sonar_local"
EXPECTED = "a SONAR speech encoder file (spenc.*.pt, e.g. spenc.eng.pt or spenc.v3ap.deu.pt)"
ARCH_BY_POOLER_LAYERS = {3: "english", 6: "non_english"}
SUFFIXES = (".pt", ".pth", ".bin")  # what fairseq2's checkpoint loader takes for a single file

# fairseq2 name -> the released files' fairseq name (sonar-space's converter maps them back)
FAIRSEQ_NAMES = [
    (r"^encoder_frontend\.post_extract_layer_norm\.", "encoder.w2v_model.layer_norm."),
    (r"^encoder_frontend\.model_dim_proj\.", "encoder.w2v_model.post_extract_proj."),
    (r"^encoder\.layers\.(\d+)\.conv\.(batch_norm|depthwise_conv|pointwise_conv1|pointwise_conv2)\.",
     r"encoder.w2v_model.encoder.layers.\1.conv_module.\2."),
    (r"^encoder\.layers\.(\d+)\.conv_layer_norm\.", r"encoder.w2v_model.encoder.layers.\1.conv_module.layer_norm."),
    (r"^encoder\.layers\.(\d+)\.ffn(1|2)_layer_norm\.", r"encoder.w2v_model.encoder.layers.\1.ffn\2.layer_norm."),
    (r"^encoder\.layers\.(\d+)\.ffn(1|2)\.inner_proj\.", r"encoder.w2v_model.encoder.layers.\1.ffn\2.w_1."),
    (r"^encoder\.layers\.(\d+)\.ffn(1|2)\.output_proj\.", r"encoder.w2v_model.encoder.layers.\1.ffn\2.w_2."),
    (r"^encoder\.layers\.(\d+)\.self_attn_layer_norm\.", r"encoder.w2v_model.encoder.layers.\1.self_attn_layer_norm."),
    (r"^encoder\.layers\.(\d+)\.self_attn\.(q|k|v)_proj\.", r"encoder.w2v_model.encoder.layers.\1.self_attn.linear_\2."),
    (r"^encoder\.layers\.(\d+)\.self_attn\.output_proj\.", r"encoder.w2v_model.encoder.layers.\1.self_attn.linear_out."),
    (r"^encoder\.layers\.(\d+)\.self_attn\.sdpa\.r_proj\.", r"encoder.w2v_model.encoder.layers.\1.self_attn.linear_pos."),
    (r"^encoder\.layers\.(\d+)\.self_attn\.sdpa\.(u|v)_bias$", r"encoder.w2v_model.encoder.layers.\1.self_attn.pos_bias_\2"),
    (r"^encoder\.layers\.(\d+)\.layer_norm\.", r"encoder.w2v_model.encoder.layers.\1.final_layer_norm."),
    (r"^layer_norm\.", "encoder.w2v_model.encoder.layer_norm."),
    (r"^encoder_pooler\.decoder_frontend\.embed\.", "decoder.embed_tokens."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.self_attn_layer_norm\.", r"decoder.layers.\1.self_attn_layer_norm."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.self_attn\.output_proj\.", r"decoder.layers.\1.self_attn.out_proj."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.self_attn\.", r"decoder.layers.\1.self_attn."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.encoder_decoder_attn_layer_norm\.", r"decoder.layers.\1.encoder_attn_layer_norm."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.encoder_decoder_attn\.output_proj\.", r"decoder.layers.\1.encoder_attn.out_proj."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.encoder_decoder_attn\.", r"decoder.layers.\1.encoder_attn."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.ffn\.inner_proj\.", r"decoder.layers.\1.fc1."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.ffn\.output_proj\.", r"decoder.layers.\1.fc2."),
    (r"^encoder_pooler\.decoder\.layers\.(\d+)\.ffn_layer_norm\.", r"decoder.layers.\1.final_layer_norm."),
    (r"^encoder_pooler\.projection_out\.weight$", "decoder.embed_out"),
]


def speech_hub():
    """sonar-space's ``sonar_speech`` model hub (fairseq2 initialised once, offline)."""
    try:
        from fairseq2 import init_fairseq2
        from fairseq2.error import InvalidOperationError
        from sonar.models.sonar_speech import get_sonar_speech_encoder_hub
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(f"SONAR needs sonar-space and fairseq2 ({error}): pip install "
                                  "'care-superb[sonar]' (scripts/setup.sh installs it)") from error
    try:
        init_fairseq2()
    except InvalidOperationError:  # already initialised in this process
        pass
    return get_sonar_speech_encoder_hub()


def _converter():
    from fairseq2.runtime.dependency import get_dependency_resolver
    from fairseq2.utils.structured import ValueConverter

    return get_dependency_resolver().resolve(ValueConverter)


def config_to_dict(config) -> dict[str, Any]:
    return _converter().unstructure(config)


def config_from_dict(data: dict[str, Any]):
    from sonar.models.sonar_speech import SonarSpeechEncoderConfig

    return _converter().structure(data, SonarSpeechEncoderConfig)


def size_config(size: str):
    """``base``: sonar-space's ``english`` arch (spenc.eng.pt's); ``tiny``: its layout, narrow."""
    base = speech_hub().get_arch_config("english")
    if size == "base":
        return base
    if size != "tiny":
        raise ValueError(f"SONAR sizes are tiny and base, not {size!r}")
    encoder = dataclasses.replace(base.w2v2_encoder_config, model_dim=32, num_encoder_layers=3,
                                  num_encoder_attn_heads=2, ffn_inner_dim=64, depthwise_conv_kernel_size=5)
    return dataclasses.replace(base, w2v2_encoder_config=encoder, model_dim=32, num_decoder_layers=1,
                               num_decoder_attn_heads=2, ffn_inner_dim=64)


def _state(payload: dict) -> dict:
    return payload["model"] if isinstance(payload.get("model"), dict) else payload


def released_arch(path: Path, state: dict):
    """The sonar-space arch config of a released file, told by its tensors."""
    pooler = {int(m.group(1)) for k in state for m in [re.match(r"^(?:encoder_pooler\.)?decoder\.layers\.(\d+)\.", k)] if m}
    encoder = {int(m.group(1)) for k in state for m in [re.search(r"encoder\.layers\.(\d+)\.", k)] if m
               and not k.startswith(("decoder.", "encoder_pooler."))}
    arch = ARCH_BY_POOLER_LAYERS.get(len(pooler))
    config = speech_hub().get_arch_config(arch) if arch else None
    if config is None or len(encoder) != config.w2v2_encoder_config.num_encoder_layers:
        raise UpstreamCheckpointError(
            f"-u {UPSTREAM} -k {path}: expected a released SONAR speech encoder (24 conformer layers "
            f"and a 3- or 6-layer pooler) or a file recording its config; found {len(encoder)} encoder "
            f"and {len(pooler)} pooler layers")
    return config


def load_spenc(path: str | os.PathLike):
    """sonar-space's ``SonarSpeechEncoderModel`` with the file's weights, its config, our record."""
    path = Path(path)
    if not path.is_file() or UPSTREAM not in identify(path).readers:
        raise mismatch(path, UPSTREAM, EXPECTED)
    if path.suffix not in SUFFIXES:
        raise UpstreamCheckpointError(f"-u {UPSTREAM} -k {path}: fairseq2 reads checkpoint files named "
                                      f"*{', *'.join(SUFFIXES)}; rename or link it (e.g. {path.name}.pt)")
    payload = load_payload(path)
    record = payload.get(MARKER_KEY) or {}
    if record.get("sonar_config"):
        config = config_from_dict(record["sonar_config"])
    else:
        config = released_arch(path, _state(payload))
    del payload
    hub = speech_hub()
    try:
        with owner_globals():  # fairseq2 reads it weights-only too; this allows what owners' files hold
            model = hub.load_custom_model(path, config, device=torch.device("cpu"), mmap=True, progress=False)
    except Exception as error:  # noqa: BLE001 - fairseq2 says which tensors do not fit
        raise UpstreamCheckpointError(f"-u {UPSTREAM} -k {path}: sonar-space could not load it as "
                                      f"{EXPECTED} ({type(error).__name__}: {error})") from error
    return model.eval(), config, record


def fairseq_name(name: str) -> str:
    for pattern, replacement in FAIRSEQ_NAMES:
        if re.search(pattern, name):
            return re.sub(pattern, replacement, name)
    raise KeyError(f"no released-file name for the fairseq2 tensor {name}")


def write_spenc(path: Path, model, config, metadata: dict) -> Path:
    """``model`` as a released-layout SONAR file (tensor names checked against sonar-space's own
    converter before writing)."""
    from sonar.models.sonar_speech import _convert_sonar_speech_checkpoint

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    released = {fairseq_name(k): v for k, v in state.items()}
    back = _convert_sonar_speech_checkpoint({"model": dict(released)}, config)
    if set(back) != set(state):
        raise AssertionError(f"renaming does not invert sonar-space's converter: {sorted(set(back) ^ set(state))[:5]}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save({"model": released, MARKER_KEY: dict(metadata, sonar_config=config_to_dict(config))}, partial)
    os.replace(partial, path)
    return path


def build_random_spenc(out: Path, size: str, seed: int) -> Path:
    """A SONAR speech encoder with sonar-space's own random initialisation, released layout."""
    config = size_config(size)
    torch.manual_seed(seed)
    model = speech_hub().create_new_model(config, device=torch.device("cpu")).eval()
    metadata = make_metadata(True, f"care-superb baseline-init sonar --size {size} --seed {seed}",
                             family="sonar", size=size, seed=seed,
                             description=f"random SONAR speech encoder ({size}): sonar-space's "
                                         "initialisation, never trained")
    out = Path(out)
    if out.suffix not in SUFFIXES:  # a folder to write into
        out = out / f"spenc.random-{size}.pt"
    return write_spenc(out, model, config, metadata)
