#!/usr/bin/env python
"""s3prl's own ``run_downstream.py`` with care-superb plugged in: same flags, same runner.

Run it from the repository root, as in s3prl, so that ``./downstream/<task>/config.yaml`` is found.
One convenience: without ``--device``, a machine with no CUDA runs on the CPU instead of failing.
"""
import sys

import torch

import care_superb  # noqa: F401  (registers our upstreams and tasks with s3prl)
from s3prl.run_downstream import main

if __name__ == "__main__":
    if "--device" not in sys.argv and not torch.cuda.is_available():
        sys.argv += ["--device", "cpu"]
    main()
