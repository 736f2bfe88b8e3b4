"""``care-superb prepare <task> --root RAW --cache DIR``: one-off preparation of a corpus whose
release the training loader cannot read directly (MELD's mp4 clips).

A corpus folder that needs it has a ``prepare.py`` with ``prepare_cache(root, cache, ffmpeg=...)
-> report`` and ``summary(report) -> str``; it is found from the folders. Running it again
resumes: only what is missing is done.
"""
from __future__ import annotations

import importlib
from pathlib import Path

HELP = "prepare a corpus once for training (MELD: decode the mp4 clips into 16 kHz wavs)"

PREPARERS = {p.parent.name: f"care_superb.downstream.{p.parent.name}.prepare"
             for p in sorted(Path(__file__).resolve().parent.glob("*/prepare.py"))}


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
