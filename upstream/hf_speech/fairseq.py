"""fairseq's own HuBERT / data2vec training checkpoints (hubert_base_ls960.pt, audio_base_ls.pt) ->
the converted layout s3prl's ``hubert_local`` / ``data2vec_local`` read.

s3prl reads these releases only after its own converter (``s3prl.upstream.*.convert``), which needs
fairseq installed to unpickle them. The same conversion without fairseq: the file is read without
running code (``owner_pickles.py``: fairseq's ``Dictionary`` becomes a plain record), and written as
s3prl's converter writes it: ``task_cfg`` and ``model_cfg`` are ``cfg.task`` and ``cfg.model`` as
plain dicts, ``model_weight`` the model's tensors, and, for HuBERT, ``dictionaries_symbols`` the
symbols of each label dictionary in ``task_state``. A data2vec file without its EMA teacher gets an
empty ``_ema`` (s3prl's loader deletes that entry; no hidden state reads it). The training state
(optimizer, metrics) is not copied. The written file is loaded back strictly into s3prl's model.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from care_superb.upstream.checkpoints import (
    MARKER_KEY,
    UpstreamCheckpointError,
    fairseq_model_name,
    load_payload,
    make_metadata,
    weights_fields,
)
from care_superb.upstream.hf_speech.owner import owner_model, owner_state

# fairseq's cfg.model._name -> (family, s3prl's reader of the converted layout)
FAIRSEQ_FAMILIES = {"hubert": ("HuBERT", "hubert_local"), "data2vec_audio": ("data2vec", "data2vec_local")}
FAMILY_OF = {"hubert_local": "hubert", "data2vec_local": "data2vec"}


def plain(value):
    """A dict / omegaconf config as plain dicts and lists (what ``OmegaConf.to_container`` gives)."""
    from omegaconf import OmegaConf

    if OmegaConf.is_config(value):
        return OmegaConf.to_container(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def fairseq_to_s3prl(path: str | os.PathLike, out: str | os.PathLike, created_by: str | None = None) -> Path:
    """Write s3prl's converted layout of fairseq's HuBERT or data2vec checkpoint ``path``."""
    path, out = Path(path), Path(out)
    payload = load_payload(path)
    name = fairseq_model_name(payload) if isinstance(payload, dict) else None
    if name not in FAIRSEQ_FAMILIES:
        raise UpstreamCheckpointError(f"{path}: expected fairseq's HuBERT or data2vec training checkpoint "
                                      f"(cfg.model._name one of {sorted(FAIRSEQ_FAMILIES)}); found {name!r}")
    family = FAMILY_OF[FAIRSEQ_FAMILIES[name][1]]
    cfg = plain(payload["cfg"])
    weights = dict(payload["model"])
    converted = {"task_cfg": cfg["task"], "model_cfg": cfg["model"], "model_weight": weights}
    if family == "hubert":
        dictionaries = (payload.get("task_state") or {}).get("dictionaries")
        if not dictionaries:
            raise UpstreamCheckpointError(f"{path}: fairseq's HuBERT checkpoint without task_state.dictionaries "
                                          "(its label dictionaries size the model's label embeddings)")
        converted["dictionaries_symbols"] = [list(d.symbols) for d in dictionaries]
    else:
        weights.setdefault("_ema", {})
    record = payload.get(MARKER_KEY)
    fields = weights_fields(record, [path])
    converted[MARKER_KEY] = make_metadata(
        fields.pop("random_weights"), created_by or f"care-superb baseline-convert {path} {out}",
        family=family, source=str(path), source_record=record, **fields,
        note="fairseq's training checkpoint in s3prl's converted layout (s3prl's converter, without fairseq)",
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    torch.save(converted, partial)
    written = load_payload(partial)
    owner_model(family, written).load_state_dict(owner_state(family, written), strict=True)
    os.replace(partial, out)
    return out
