"""What the engine and extraction speed scripts share: their common options, one thread count,
the known noise silenced, and a synthetic EmoDB (or the user's) in a work folder."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from care_superb.upstream.baselines import random_checkpoints

# baseline family -> the -u name that reads the checkpoint baseline_init writes for it (its folder's
# RandomCheckpoint says; a new upstream folder joins by itself)
READERS = {family: spec.reader for family, spec in random_checkpoints().items()}


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--families", default="care,wavlm", help=f"comma-separated, of {', '.join(READERS)}")
    parser.add_argument("--size", default="base")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--corpus", help="an EmoDB-layout corpus (default: synthesise the demo one)")
    parser.add_argument("--workdir")


def prepare(args: argparse.Namespace, prefix: str) -> tuple[Path, Path]:
    """Set the thread count and silence the known noise; -> (work folder, EmoDB root)."""
    import torch

    from care_superb.noise import silence_known_noise
    from care_superb.synth import synthesize

    torch.set_num_threads(args.threads)
    silence_known_noise()
    work = Path(args.workdir or tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    root = Path(args.corpus) if args.corpus else synthesize("emodb", work / "emodb", seed=0, size="demo")
    return work, root
