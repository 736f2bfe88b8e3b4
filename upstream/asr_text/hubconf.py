"""The paper's Whisper -> text baseline (``-u asr_text -k TEXT_ENCODER [-g SETTINGS.yaml]``).

========  =============================================================  ========================
name      reads                                                          hidden states
========  =============================================================  ========================
asr_text  -k: a BERT-family text encoder folder (roberta-base in the      layers + 1 of the text
          paper) or minilm (packaged); -g: a YAML file naming the         encoder, each its token
          Whisper that transcribes (default tiny.en), the decoding, and   mean repeated at 50 Hz:
          a language overriding the task's (or auto: detected)            13 x 768 roberta-base,
                                                                          7 x 384 MiniLM
========  =============================================================  ========================

Nothing is downloaded. Needs faster-whisper for a CTranslate2 Whisper (``pip install
'care-superb[whisper]'``; ``scripts/setup.sh`` installs it).
"""
from __future__ import annotations

from care_superb.upstream.baselines import RandomCheckpoint

__all__ = ["asr_text"]


def asr_text(ckpt=None, model_config=None, refresh=False, **kwargs):
    """Whisper transcribes in the task's language, a BERT-family encoder (``-k``) encodes; ``-g`` sets
    the Whisper and its decoding, and may override the language."""
    from care_superb.upstream.asr_text.text import EXPECTED

    if not ckpt:
        raise ValueError(f"asr_text needs -k: {EXPECTED}")
    from care_superb.upstream.asr_text.expert import UpstreamExpert

    return UpstreamExpert(ckpt, model_config, **kwargs)


def _build(out, size, seed):
    from care_superb.upstream.asr_text.random import build_random_text_encoder

    return build_random_text_encoder(out, size, seed)


RANDOM_CHECKPOINTS = [
    RandomCheckpoint("asr_text", "BERT (base: bert-base's size) as a Hugging Face folder, the text encoder of "
                     "asr_text (transcripts by Whisper tiny.en)", _build, {"asr_text": (3, 32)}),
]

def _recognise(path, payload):
    import json

    from care_superb.upstream.asr_text.text import BERT_FAMILY
    from care_superb.upstream.checkpoints import Found

    if payload is not None:
        return None
    try:
        model_type = json.loads((path / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None
    if model_type in BERT_FAMILY:
        return Found(f"a Hugging Face {model_type} text encoder folder", ("asr_text",))
    return None


RECOGNISERS = [_recognise]
TASK_LANGUAGE = ("asr_text",)  # Whisper transcribes in the task's language
EXTRA = "whisper"  # faster-whisper runs the CTranslate2 Whisper that transcribes
LISTING = [
    ('`asr_text`',
     'a BERT-family text encoder folder (roberta-base in the paper) or `minilm`; `-g`: a YAML file '
     'naming the Whisper that transcribes and the language',
     "the paper's Whisper → text baseline: Whisper transcribes, the text encoder reads the transcript",
     "the text encoder's layers + 1, each its token mean repeated over the utterance's 50 Hz frames: "
     '13 × 768 (roberta-base), 7 × 384 (MiniLM)'),
]
