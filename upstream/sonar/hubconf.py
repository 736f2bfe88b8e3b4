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
                     "released-layout file", _build, {"sonar_local": (4, 32)}),
]
