"""s3prl's own loaders of the owners' formats (``-u wavlm_local -k WavLM-Base.pt``), checked.

==============  ==============================================================  ==============
name            reads                                                           hidden states
==============  ==============================================================  ==============
wavlm_local     Microsoft's WavLM checkpoint ``{"cfg", "model"}`` (WavLM-Base.pt)  13 × 768 for base
hubert_local    s3prl's converted fairseq HuBERT ``{"task_cfg", "model_cfg",      13 × 768 for base
                "model_weight", "dictionaries_symbols"}``
data2vec_local  s3prl's converted fairseq data2vec (``model_weight`` with ``_ema``)  13 × 768 for base
==============  ==============================================================  ==============

s3prl's functions are called unchanged, after the file was checked (a file of another layout stops
with what it is and which ``-u`` reads it; fairseq's own training checkpoints with the
``care-superb baseline-convert`` command that converts them), under the list of classes the owners'
files pickle (``owner_pickles.py``). s3prl's experts batch with padding, which a group-normalised
front end sees: their states depend on the batch an utterance is padded into (``BATCH_DEPENDENT``).
"""
from __future__ import annotations

import importlib
import tempfile
from functools import partial
from pathlib import Path

from care_superb.upstream.baselines import RandomCheckpoint
from care_superb.upstream.checkpoints import Found, fairseq_model_name

__all__ = ["wavlm_local", "hubert_local", "data2vec_local"]
S3PRL = {name: (f"s3prl.upstream.{family}.hubconf", family) for name, family in
         (("wavlm_local", "wavlm"), ("hubert_local", "hubert"), ("data2vec_local", "data2vec"))}
# s3prl's experts pad a batch to its longest utterance and the group-normalised front end of the
# base models sees the padding: an utterance's states depend on its batch (the contract test checks
# that they do; the feature cache batches equal lengths only).
BATCH_DEPENDENT = tuple(__all__)


def _s3prl_local(name: str, ckpt=None, *args, **kwargs):
    from care_superb.upstream.checkpoints import MARKER_KEY, identify, load_payload, mismatch, provenance
    from care_superb.upstream.hf_speech.families import FAMILIES
    from care_superb.upstream.owner_pickles import owner_globals

    module, family = S3PRL[name]
    if not ckpt or name not in identify(ckpt).readers:
        raise mismatch(ckpt, name, FAMILIES[family].owner_format)
    original = getattr(importlib.import_module(module), name)  # s3prl's own, not s3prl.hub's (ours)
    with owner_globals():  # s3prl's torch.load: weights only, and what the owners' files hold
        model = original(ckpt, *args, **kwargs).eval()  # as s3prl's runner sets a frozen upstream
    record = load_payload(ckpt).get(MARKER_KEY)
    model.provenance = provenance(ckpt, f"{FAMILIES[family].title} through s3prl's own {name}", record,
                                  weight_files=[ckpt])
    return model


def wavlm_local(ckpt=None, *args, **kwargs):
    """WavLM from Microsoft's checkpoint (WavLM-Base.pt), through s3prl's own wavlm_local."""
    return _s3prl_local("wavlm_local", ckpt, *args, **kwargs)


def hubert_local(ckpt=None, *args, **kwargs):
    """HuBERT from s3prl's converted fairseq checkpoint, through s3prl's own hubert_local."""
    return _s3prl_local("hubert_local", ckpt, *args, **kwargs)


def data2vec_local(ckpt=None, *args, **kwargs):
    """data2vec from s3prl's converted fairseq checkpoint, through s3prl's own data2vec_local."""
    return _s3prl_local("data2vec_local", ckpt, *args, **kwargs)


def _build(family: str, out: Path, size: str, seed: int) -> Path:
    """A random Hugging Face folder of the family, converted to the owners' file (``out``, or
    ``out/<family>.pt`` when ``out`` is a folder)."""
    from care_superb.upstream.hf_speech.owner import folder_to_owner
    from care_superb.upstream.hf_speech.random import build_random_folder

    out = out / f"{family}.pt" if out.is_dir() else out
    with tempfile.TemporaryDirectory(prefix=f"{family}-random-") as tmp:
        folder = build_random_folder(family, Path(tmp) / family, size, seed)
        return folder_to_owner(folder, out, f"care-superb baseline-init {family}_local --size {size} --seed {seed}")


TINY = (4, 32)
RANDOM_CHECKPOINTS = [
    RandomCheckpoint(name, f"{family} in the owners' format ({layout}), converted from a random Hugging Face "
                     "folder", partial(_build, family), {name: TINY})
    for name, family, layout in (("wavlm_local", "wavlm", "WavLM-Base.pt"),
                                 ("hubert_local", "hubert", "s3prl's hubert_base_ls960.pt"),
                                 ("data2vec_local", "data2vec", "s3prl's audio_base_ls.pt"))
]


def _recognise(path, payload):
    from care_superb.upstream.checkpoints import state_keys
    from care_superb.upstream.hf_speech.fairseq import FAIRSEQ_FAMILIES

    if payload is None:
        return None
    if {"task_cfg", "model_cfg", "model_weight", "dictionaries_symbols"} <= set(payload):
        return Found("a HuBERT checkpoint in s3prl's converted layout", ("hubert_local",))
    if {"task_cfg", "model_cfg", "model_weight"} <= set(payload):
        return Found("a data2vec checkpoint in s3prl's converted layout", ("data2vec_local",))
    keys = state_keys(payload)
    if {"cfg", "model"} <= set(payload) and any("relative_attention_bias" in k or "grep_linear" in k for k in keys):
        return Found("a WavLM checkpoint in Microsoft's layout (cfg + model)", ("wavlm_local",))
    fairseq = fairseq_model_name(payload)
    if fairseq in FAIRSEQ_FAMILIES:
        family, reader = FAIRSEQ_FAMILIES[fairseq]
        return Found(f"fairseq's own {family} training checkpoint (cfg.model._name {fairseq}), which s3prl "
                     f"reads only in its converted layout", read_after_convert=reader)
    return None


RECOGNISERS = [_recognise]
LISTING = [
    ("`wavlm_local` (s3prl's)", "Microsoft's WavLM checkpoint `{\"cfg\", \"model\"}` (WavLM-Base.pt)",
     "WavLM through s3prl's own code", "13 × 768 for base"),
    ("`hubert_local` (s3prl's)", "s3prl's converted fairseq HuBERT `{\"task_cfg\", \"model_cfg\", \"model_weight\", "
     "\"dictionaries_symbols\"}`; fairseq's own file after `baseline-convert`", "HuBERT through s3prl's own code",
     "13 × 768 for base"),
    ("`data2vec_local` (s3prl's)", "s3prl's converted fairseq data2vec `{\"task_cfg\", \"model_cfg\", "
     "\"model_weight\"}`; fairseq's own file after `baseline-convert`", "data2vec through s3prl's own code",
     "13 × 768 for base"),
]
