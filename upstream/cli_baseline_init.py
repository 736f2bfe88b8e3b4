"""``care-superb baseline-init``: a registered upstream's checkpoint with random weights."""
from __future__ import annotations

import time
from pathlib import Path

from care_superb.cli import refuse_existing

HELP = ("write a baseline's checkpoint with random weights (never trained) from its owners' config, "
        "at a tiny size (tests) or the paper's (base), in the format its -u names read")


def add_arguments(parser) -> None:
    parser.add_argument("family", nargs="?", help="wavlm, hubert, data2vec, emotion2vec, sonar, care, ... "
                        "(--list shows every registered one)")
    parser.add_argument("--size", default="tiny", help="tiny (tests) or base (the paper's size); default tiny")
    parser.add_argument("--out", help="what to write, taken as given: the file or folder its -u names read "
                        "(a Hugging Face folder for wavlm, hubert, data2vec; the owners' file for wavlm_local, "
                        "hubert_local, data2vec_local; a release folder for emotion2vec; a spenc-style file "
                        "for sonar; a CARE checkpoint file for care; --list says each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--list", action="store_true", help="list the families and the -u names reading them")
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument("--force", action="store_true", help="overwrite an existing checkpoint")
    existing.add_argument("--exist-ok", action="store_true", help="leave an existing checkpoint and succeed")


def run(args) -> int:
    from care_superb.upstream.baselines import baseline_init, random_checkpoints

    families = random_checkpoints()
    if args.list or not args.family:
        for name, spec in sorted(families.items()):
            print(f"{name:12s} {spec.description}; sizes {', '.join(spec.sizes)}; "
                  f"read by -u {', '.join(sorted(spec.readers))}")
        return 0 if args.list else 2
    if args.family not in families:
        print(f"unknown family {args.family!r}; choose from {', '.join(sorted(families))}")
        return 2
    if not args.out:
        print("--out PATH is required")
        return 2
    out = Path(args.out).expanduser()
    refused = refuse_existing(out, args.force, args.exist_ok)
    if refused is not None:
        return refused
    start = time.perf_counter()
    path = baseline_init(args.family, args.size, out, seed=args.seed)
    spec = families[args.family]
    print(f"wrote {path} ({args.family}, {args.size}, random weights, seed {args.seed}, "
          f"{time.perf_counter() - start:.1f} s)")
    print(f"  read it with: python run_downstream.py -u {spec.reader} -k {path} ...")
    return 0
