"""``care-superb prepare <task> --root RAW --cache DIR``: one-off preparation of a corpus whose
release the training loader cannot read directly (MELD's mp4 clips).

One row per task in ``PREPARERS``: a module with ``prepare_cache(root, cache, ffmpeg=...) ->
report`` and ``summary(report) -> str``. Running it again resumes: only what is missing is done.
"""
from __future__ import annotations

import importlib

HELP = "prepare a corpus once for training (MELD: decode the mp4 clips into 16 kHz wavs)"

PREPARERS = {
    "meld": "care_superb.downstream.meld.prepare",
}


def add_arguments(parser) -> None:
    parser.add_argument("task", choices=sorted(PREPARERS))
    parser.add_argument("--root", required=True, help="the corpus as distributed (e.g. MELD.Raw)")
    parser.add_argument("--cache", required=True,
                        help="folder for the prepared audio; set downstream_expert.datarc.corpus.cache to it")
    parser.add_argument("--ffmpeg", default="ffmpeg", help="ffmpeg executable (default: the one on PATH)")


def run(args) -> int:
    module = importlib.import_module(PREPARERS[args.task])
    report = module.prepare_cache(args.root, args.cache, ffmpeg=args.ffmpeg)
    print(module.summary(report))
    return 0
