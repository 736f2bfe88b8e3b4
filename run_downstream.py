#!/usr/bin/env python
"""s3prl's own ``run_downstream.py`` with care-superb plugged in: same flags, same runner.

Run it from the repository root, as in s3prl, so that ``./downstream/<task>/config.yaml`` is found.
Two additions: a config whose ``schedule`` is converge (downstream/schedule.py) stops on dev,
which s3prl's Runner cannot do itself, so the expert's stop is caught here; and without
``--device``, a machine with no CUDA runs on the CPU instead of failing.
One check: a ``-o`` key that the task does not read is refused, naming the closest valid key
(``care_superb/downstream/config_keys.py``), where s3prl would add it and run without it.
"""
import sys

from care_superb.noise import silence_known_noise

silence_known_noise()  # before s3prl is imported: it warns at import

import torch  # noqa: E402

from care_superb.plug import plug  # noqa: E402

if __name__ == "__main__":
    plug()  # registers our upstreams and tasks with s3prl
    from s3prl.run_downstream import main

    from care_superb.downstream.config_keys import UnknownSetting
    from care_superb.downstream.schedule import EarlyStop

    if "--device" not in sys.argv and not torch.cuda.is_available():
        sys.argv += ["--device", "cpu"]
    try:
        main()
    except EarlyStop as stop:  # the converge schedule stopped on dev: training is done
        print(f"[run_downstream] {stop}")
    except UnknownSetting as err:  # a misspelt -o key: the message, not a traceback
        sys.exit(f"run_downstream.py: error: {err}")
