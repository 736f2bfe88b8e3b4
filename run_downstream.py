#!/usr/bin/env python
"""s3prl's own ``run_downstream.py`` with care-superb plugged in: same flags, same runner.

Run it from the repository root, as in s3prl, so that ``./downstream/<task>/config.yaml`` is found.
One convenience: without ``--device``, a machine with no CUDA runs on the CPU instead of failing.
"""
import logging
import sys
import warnings

# Known third-party noise, silenced here at the entry point and nowhere else: s3prl 0.4.18 calls
# torchaudio.set_audio_backend (deprecated in torchaudio 2.8, a no-op) at import, and logs that
# ESPnet (an upstream we never use) is missing. Each would print a page before our progress.
warnings.filterwarnings("ignore", message=r"torchaudio\._backend\.set_audio_backend has been deprecated",
                        category=UserWarning)
logging.getLogger("s3prl.upstream.espnet_hubert.expert").setLevel(logging.ERROR)

import torch  # noqa: E402

from care_superb.plug import plug  # noqa: E402

if __name__ == "__main__":
    plug()  # registers our upstreams and tasks with s3prl
    from s3prl.run_downstream import main

    if "--device" not in sys.argv and not torch.cuda.is_available():
        sys.argv += ["--device", "cpu"]
    main()
