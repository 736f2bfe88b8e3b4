"""``care-superb care-convert``: the authors' pickled pre-training checkpoint -> a CARE checkpoint."""
from __future__ import annotations

from pathlib import Path

from care_superb.upstream.care.config import SIZES

HELP = (
    "convert a checkpoint saved by the CARE authors' pre-training script (a pickled whole model) "
    "into the CARE checkpoint format; only convert files you trust (unpickling runs code)"
)


def add_arguments(parser) -> None:
    parser.add_argument("--in", dest="source", required=True, help="the authors' .pth file")
    parser.add_argument("--out", required=True, help="CARE checkpoint to write")
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default="base",
        help="the config the weights must fit (default: base, the paper's)",
    )
    parser.add_argument("--speech", metavar="PRESET|DIR", help="speech config instead of --size's")
    parser.add_argument("--text", metavar="PRESET|DIR", help="text config instead of --size's")
    parser.add_argument("--common-layers", type=int, default=6)
    parser.add_argument(
        "--pretrained-on",
        default=None,
        help='what the authors pre-trained on, for the metadata (e.g. "MSP-PODCAST")',
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args) -> int:
    from care_superb.upstream.care.config import CareConfig
    from care_superb.upstream.care.convert import convert

    out = Path(args.out).expanduser()
    if out.exists() and not args.force:
        print(f"{out} exists; pass --force to overwrite it")
        return 1
    speech_default, text_default = SIZES[args.size]
    config = CareConfig.from_names(
        args.speech or speech_default,
        args.text or text_default,
        num_common_layers=args.common_layers,
    )
    path, metadata = convert(args.source, out, config, pretrained_on=args.pretrained_on)
    print(f"wrote {path}")
    print(f"  config: {config.describe()}")
    if metadata["source_classes_stood_in"]:
        print(f"  classes read without their code: {', '.join(metadata['source_classes_stood_in'])}")
    print(f"  left out: {', '.join(metadata['dropped_tensor_groups']) or 'nothing'}")
    return 0
