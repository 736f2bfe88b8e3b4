"""emotion2vec from the owners' release folder (``-u emotion2vec_local -k FOLDER``).

=================  ==========================================================  ===============
name               reads                                                       hidden states
=================  ==========================================================  ===============
emotion2vec_local  a release folder: config.yaml, configuration.json and the   13 × 768, 50 Hz
                   weight file it names (emotion2vec_base.pt, model.pt)        for base
=================  ==========================================================  ===============

Needs funasr (``pip install 'care-superb[emotion2vec]'``; ``scripts/setup.sh`` installs it),
imported only when this upstream is built. Nothing is downloaded.
"""
from __future__ import annotations

from care_superb.upstream.baselines import RandomCheckpoint
from care_superb.upstream.checkpoints import Found, state_keys

__all__ = ["emotion2vec_local"]


def emotion2vec_local(ckpt=None, model_config=None, refresh=False, **kwargs):
    """emotion2vec from a local release folder (``-k FOLDER``)."""
    from care_superb.upstream.emotion2vec.release import EXPECTED

    if not ckpt:
        raise ValueError(f"emotion2vec_local needs -k FOLDER: {EXPECTED}")
    if model_config is not None:
        raise ValueError("emotion2vec_local takes no -g/model_config: the folder's config.yaml is the config")
    from care_superb.upstream.emotion2vec.expert import UpstreamExpert

    return UpstreamExpert(ckpt, **kwargs)


def _build(out, size, seed):
    from care_superb.upstream.emotion2vec.release import build_random_release

    return build_random_release(out, size, seed)


RANDOM_CHECKPOINTS = [
    RandomCheckpoint("emotion2vec", "emotion2vec (base: emotion2vec_base) as a release folder",
                     _build, {"emotion2vec_local": (4, 32)},
                     not_in_hidden_states=("model.modality_encoders.AUDIO.decoder.",)),
]


def _recognise(path, payload):
    if payload is None:
        if (path / "config.yaml").is_file() and (path / "configuration.json").is_file():
            return Found("a funasr release folder (config.yaml + configuration.json)", ("emotion2vec_local",))
    elif any(k.startswith("modality_encoders.AUDIO.") for k in state_keys(payload)):
        return Found("emotion2vec weights alone (give the release folder holding them, their "
                     "config.yaml and configuration.json)", ("emotion2vec_local",))
    return None


RECOGNISERS = [_recognise]
FOLDER_LAYOUTS = ["config.yaml + configuration.json (funasr release)"]
EXTRA = "emotion2vec"
LISTING = [
    ("`emotion2vec_local`", "the owners' release folder: `config.yaml`, `configuration.json` and the weight file "
     "its `file_path_metas.init_param` names (`emotion2vec_base.pt`; `model.pt` for emotion2vec_plus)",
     "emotion2vec through funasr's own `Emotion2vec` class",
     "13 × 768 at 50 Hz for base: the block input, then the 4 pre-net and 8 transformer blocks' outputs "
     "(funasr's `layer_results` are the blocks' feed-forward outputs before residual and norm, not these)"),
]
