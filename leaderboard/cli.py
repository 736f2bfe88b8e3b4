"""``care-superb leaderboard RESULTS... --out DIR``: the paper's tables and figures from result rows."""
from __future__ import annotations

import sys
from pathlib import Path

HELP = "regenerate the tables (Markdown, CSV, LaTeX), figures and the page (index.html) from result rows"


def add_arguments(parser) -> None:
    parser.add_argument("results", nargs="+",
                        help="result rows (result-test-*.json), or folders searched recursively for them")
    parser.add_argument("--out", required=True, help="folder for the tables, figures and index.html")
    parser.add_argument("--allow-mixed-heads", action="store_true",
                        help="tabulate rows of one task trained with different head configurations")
    # The statistics are analytic since issue 27 (nothing resampled): both are accepted for old scripts.
    parser.add_argument("--resamples", type=int, default=None, help="ignored (the statistics resample nothing)")
    parser.add_argument("--seed", type=int, default=None, help="ignored (the statistics draw nothing at random)")
    parser.add_argument("--published", help="CSV of published numbers to show beside ours (task,upstream,metric,"
                        "value[,source]; value in percent, e.g. EmoBox's leaderboard)")


def run(args) -> int:
    from care_superb.leaderboard.make import PAGE, make_leaderboard
    from care_superb.leaderboard.rows import LeaderboardError

    if args.resamples is not None or args.seed is not None:
        print("care-superb leaderboard: --resamples and --seed are ignored: intervals and tests are analytic "
              "(seeds and clusters as random effects), nothing is resampled", file=sys.stderr)
    try:
        text, written = make_leaderboard(args.results, args.out, args.allow_mixed_heads, published=args.published)
    except LeaderboardError as err:
        print(f"care-superb leaderboard: {err}", file=sys.stderr)
        return 2
    print(text)
    print(f"[leaderboard] wrote {len(written)} files to {args.out}; open {Path(args.out).resolve() / PAGE} in a browser")
    return 0
