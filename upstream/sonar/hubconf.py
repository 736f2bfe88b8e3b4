"""SONAR speech encoders from their released files (``-u sonar_local -k spenc.eng.pt``).

============  ===========================================================  =================
name          reads                                                        hidden states
============  ===========================================================  =================
sonar_local   a SONAR speech encoder file: spenc.eng.pt (English),         25 × 1024, 50 Hz
              spenc.v3ap.fra.pt (CaFE), spenc.v3ap.deu.pt (EmoDB), ...     for the released
============  ===========================================================  =================

Needs sonar-space and fairseq2 (``pip install 'care-superb[sonar]'``; ``scripts/setup.sh``
installs them), imported only when this upstream is built. Nothing is downloaded.
"""
from __future__ import annotations

from care_superb.upstream.baselines import RandomCheckpoint
from care_superb.upstream.checkpoints import Found, state_keys

__all__ = ["sonar_local"]


def sonar_local(ckpt=None, model_config=None, refresh=False, **kwargs):
    """A SONAR speech encoder from a local spenc.*.pt file (``-k FILE``)."""
    from care_superb.upstream.sonar.checkpoint import EXPECTED

    if not ckpt:
        raise ValueError(f"sonar_local needs -k FILE: {EXPECTED}")
    if model_config is not None:
        raise ValueError("sonar_local takes no -g/model_config: the architecture comes from the file")
    from care_superb.upstream.sonar.expert import UpstreamExpert

    return UpstreamExpert(ckpt, **kwargs)


def _build(out, size, seed):
    from care_superb.upstream.sonar.checkpoint import build_random_spenc

    return build_random_spenc(out, size, seed)


RANDOM_CHECKPOINTS = [
    RandomCheckpoint("sonar", "SONAR speech encoder (base: spenc.eng.pt's english arch) as a "
                     "released-layout file", _build, {"sonar_local": (4, 32)},
                     not_in_hidden_states=("model.encoder_pooler.",)),
]


def _recognise(path, payload):
    keys = state_keys(payload) if payload is not None else ()
    if any(k.startswith(("encoder.w2v_model.", "encoder_frontend.")) for k in keys) and any(
        k.startswith(("decoder.layers.", "encoder_pooler.")) for k in keys
    ):
        return Found("a SONAR speech encoder checkpoint (spenc.*.pt)", ("sonar_local",))
    return None


RECOGNISERS = [_recognise]
EXTRA = "sonar"
LISTING = [
    ("`sonar_local`", "a SONAR speech encoder file: `spenc.eng.pt`, `spenc.v3ap.fra.pt` (CaFE), "
     "`spenc.v3ap.deu.pt` (EmoDB), …",
     "SONAR through sonar-space's own model family on fairseq2, input as its speech pipeline prepares it "
     "(80 log-mel filterbanks)",
     "25 × 1024 at 50 Hz: the front end's output, then every conformer layer's; the last through SONAR's "
     "final LayerNorm, i.e. what its attention pooler reads"),
]
