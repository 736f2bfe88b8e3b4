"""``care-superb care-info``: parameter count per block of a CARE checkpoint or configuration."""
from __future__ import annotations

from care_superb.upstream.care.config import SIZES

HELP = "print a CARE's parameter count per block (a checkpoint, or --size tiny|base)"

PAPER_TOTAL = "~160M"  # the paper's figure for CARE (base)


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", nargs="?", help="a CARE checkpoint")
    parser.add_argument("--size", choices=sorted(SIZES), help="a configuration instead (no weights)")
    parser.add_argument("--upgrade", action="store_true", help="rewrite the checkpoint's metadata in "
                        "today's form (free-text speech_init -> speech_init.kind); weights untouched")


def run(args) -> int:
    import torch

    from care_superb.upstream.care.checkpoint import read_checkpoint
    from care_superb.upstream.care.config import CareConfig
    from care_superb.upstream.care.model import CareModel, parameter_counts

    if bool(args.checkpoint) == bool(args.size):
        print("give a checkpoint or --size, not both or neither")
        return 2
    if args.upgrade:
        from care_superb.upstream.care.checkpoint import upgrade_checkpoint

        if not args.checkpoint:
            print("--upgrade needs a checkpoint")
            return 2
        done = upgrade_checkpoint(args.checkpoint)
        print(f"{args.checkpoint}: " + ("metadata rewritten (speech_init.kind)" if done else "already current"))
    metadata = None
    if args.checkpoint:
        payload = read_checkpoint(args.checkpoint)
        config, metadata = CareConfig.from_dict(payload["config"]), payload["metadata"]
        source = args.checkpoint
    else:
        config, source = CareConfig.preset(args.size), f"--size {args.size} (configuration only)"
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        model = CareModel(config)
    counts = parameter_counts(model)
    total = counts.pop("total")
    print(f"CARE {source}")
    print(f"  {config.describe()}")
    head = counts["acoustic head (pre-training only)"]
    rows = [*counts.items(), ("total", total), ("at inference (no acoustic head)", total - head)]
    width = max(len(name) for name, _ in rows)
    for name, count in rows:
        print(f"  {name:<{width}}  {count:>12,}  {count / 1e6:8.2f}M")
    shared = ("feature extractor (conv)", "feature projection", "positional conv + layer norm",
              "common encoder")
    front = sum(counts[k] for k in shared)
    semantic = counts["semantic encoder: text layers"] + counts["semantic encoder: adapters"]
    print(
        f"  used by care_acoustic: {(front + counts['acoustic encoder']) / 1e6:.2f}M, "
        f"care_semantic: {(front + semantic) / 1e6:.2f}M"
    )
    if args.size == "base":
        print(f"  the paper gives {PAPER_TOTAL} for CARE")
    print(
        f"  hidden states: {config.num_hidden_states} x {2 * config.hidden_size} (care), "
        f"{config.num_hidden_states} x {config.hidden_size} (care_acoustic, care_semantic), "
        f"one frame per {config.downsample_rate} samples"
    )
    if metadata:
        for key, value in metadata.items():
            print(f"  {key}: {value}")
    return 0
