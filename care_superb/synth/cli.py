"""``care-superb synth``: write a synthetic corpus in a corpus's own layout."""
from __future__ import annotations

from care_superb.synth import layouts, synthesize

HELP = "render a synthetic corpus (espeak-ng) in a corpus's exact layout"


def add_arguments(parser) -> None:
    parser.add_argument("corpus", choices=sorted(layouts()))
    parser.add_argument("--out", required=True, help="corpus root to write (resumes a partial one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="demo", help="demo (small, the default) or full; msp_podcast also "
                        "demo-blind and full-blind (the control: words independent of the emotion)")


def run(args) -> int:
    import sys

    try:
        root = synthesize(args.corpus, args.out, seed=args.seed, size=args.size)
    except (FileExistsError, ValueError) as err:  # an --out holding something else; an unknown size
        print(f"error: {err}", file=sys.stderr)
        return 2
    n = sum(1 for p in root.rglob("*") if p.is_file())
    print(f"synthetic {args.corpus} corpus ({args.size}, seed {args.seed}): {root} ({n} files)")
    return 0
