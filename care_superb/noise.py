"""Known third-party noise, silenced by our entry points (``run_downstream.py``, ``care-superb``
and the benchmark's job processes) and nowhere else. Each would print before our progress:

- s3prl 0.4.18 calls ``torchaudio.set_audio_backend`` at import (deprecated in torchaudio 2.8, a no-op);
- s3prl logs that ESPnet, an upstream we never use, is missing;
- s3prl's runner enters ``torch.cuda.amp.autocast(...)`` (deprecated spelling) at every step;
- transformers' WavLM attention passes a boolean padding mask with a float position bias to
  ``F.multi_head_attention_forward``, which torch 2.8 calls deprecated (CARE's speech side is WavLM).

Importing this module imports nothing heavy (``care-superb synth`` stays torch-free).
"""
from __future__ import annotations

import logging
import warnings


def silence_known_noise() -> None:
    warnings.filterwarnings("ignore", message=r"torchaudio\._backend\.set_audio_backend has been deprecated",
                            category=UserWarning)
    warnings.filterwarnings("ignore", message=r".*torch\.cuda\.amp\.autocast.*is deprecated", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r"Support for mismatched key_padding_mask and attn_mask is deprecated",
                            category=UserWarning)
    logging.getLogger("s3prl.upstream.espnet_hubert.expert").setLevel(logging.ERROR)
