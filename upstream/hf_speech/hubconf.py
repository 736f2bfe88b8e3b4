"""Hugging Face speech encoders from local folders (``-u NAME -k FOLDER``).

=============  ===========================================================  ==================
name           reads                                                        hidden states
=============  ===========================================================  ==================
hf_speech      any folder AutoModel reads whose config has a conv front end  layers + 1, 50 Hz
               (wav2vec2, hubert, wavlm, data2vec-audio, unispeech, ...)    for stride 320
hf_wavlm       the same, refusing any model_type but wavlm                  13 × 768 for base
hf_hubert      the same, refusing any model_type but hubert                 13 × 768 for base
hf_data2vec    the same, refusing any model_type but data2vec-audio         13 × 768 for base
=============  ===========================================================  ==================

Nothing is downloaded: ``-k`` must be a folder on disk. ``model_config`` (``-g``) is refused: the
folder's config.json is the config.
"""
from __future__ import annotations

import json
from functools import partial

from care_superb.upstream.baselines import RandomCheckpoint
from care_superb.upstream.checkpoints import Found

__all__ = ["hf_speech", "hf_wavlm", "hf_hubert", "hf_data2vec"]


def _expert(name: str, ckpt, model_config, family: str | None, **kwargs):
    from care_superb.upstream.hf_speech.expert import FOLDER, UpstreamExpert

    if not ckpt:
        raise ValueError(f"{name} needs -k FOLDER: {FOLDER}")
    if model_config is not None:
        raise ValueError(f"{name} takes no -g/model_config: the folder's config.json is the config")
    return UpstreamExpert(ckpt, upstream=name, family=family, **kwargs)


def hf_speech(ckpt=None, model_config=None, refresh=False, **kwargs):
    """Any Hugging Face speech encoder from a local folder (``-k FOLDER``)."""
    return _expert("hf_speech", ckpt, model_config, None, **kwargs)


def hf_wavlm(ckpt=None, model_config=None, refresh=False, **kwargs):
    """A Hugging Face WavLM folder (e.g. a save of microsoft/wavlm-base)."""
    return _expert("hf_wavlm", ckpt, model_config, "wavlm", **kwargs)


def hf_hubert(ckpt=None, model_config=None, refresh=False, **kwargs):
    """A Hugging Face HuBERT folder (e.g. a save of facebook/hubert-base-ls960)."""
    return _expert("hf_hubert", ckpt, model_config, "hubert", **kwargs)


def hf_data2vec(ckpt=None, model_config=None, refresh=False, **kwargs):
    """A Hugging Face data2vec-audio folder (e.g. a save of facebook/data2vec-audio-base)."""
    return _expert("hf_data2vec", ckpt, model_config, "data2vec", **kwargs)


def _build(family: str, out, size: str, seed: int):
    from care_superb.upstream.hf_speech.random import build_random_folder

    return build_random_folder(family, out, size, seed)


TINY = (4, 32)  # hidden states of the tiny configs: 3 layers + the encoder input, width 32
RANDOM_CHECKPOINTS = [  # the first reader of each is the one scripts use
    RandomCheckpoint("wavlm", "WavLM (base: microsoft/wavlm-base) as a Hugging Face folder",
                     partial(_build, "wavlm"), {"hf_wavlm": TINY, "hf_speech": TINY}),
    RandomCheckpoint("hubert", "HuBERT (base: facebook/hubert-base-ls960) as a Hugging Face folder",
                     partial(_build, "hubert"), {"hf_hubert": TINY, "hf_speech": TINY}),
    RandomCheckpoint("data2vec", "data2vec-audio (base: facebook/data2vec-audio-base) as a Hugging "
                     "Face folder", partial(_build, "data2vec"), {"hf_data2vec": TINY, "hf_speech": TINY}),
]
SPECIFIC = {"wavlm": "hf_wavlm", "hubert": "hf_hubert", "data2vec-audio": "hf_data2vec"}  # model_type -> -u


def _recognise(path, payload):
    if payload is not None or not (path / "config.json").is_file():
        return None
    try:
        config = json.loads((path / "config.json").read_text())
    except ValueError:
        return Found("a folder whose config.json is not JSON")
    model_type = config.get("model_type", "unknown")
    if "conv_stride" in config:
        readers = ("hf_speech",) + ((SPECIFIC[model_type],) if model_type in SPECIFIC else ())
        return Found(f"a Hugging Face {model_type} speech encoder folder", readers)
    return Found(f"a Hugging Face {model_type} folder, not a speech encoder with a convolutional waveform "
                 "front end")


RECOGNISERS = [_recognise]
FOLDER_LAYOUTS = ["config.json (Hugging Face)"]
LISTING = [
    ("`hf_speech`", "a Hugging Face folder (`save_pretrained`: config.json + weights, preprocessor_config.json)",
     "any speech encoder transformers' `AutoModel` reads with a conv front end: WavLM, HuBERT, data2vec-audio, "
     "wav2vec2, UniSpeech(-SAT), …",
     "transformers' own `output_hidden_states`: layers + 1 (13 × 768 for base models), at the front end's rate "
     "(50 Hz)"),
    ("`hf_wavlm`, `hf_hubert`, `hf_data2vec`", "the same, of that model type only",
     "the paper's base baselines (a folder of another type is refused)", "13 × 768 at 50 Hz for base"),
]
