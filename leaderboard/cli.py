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
    parser.add_argument("--resamples", type=int, default=1000,
                        help="bootstrap and randomisation resamples per cell (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")
    parser.add_argument("--published", help="CSV of published numbers to show beside ours (task,upstream,metric,"
                        "value[,source]; value in percent, e.g. EmoBox's leaderboard)")


def run(args) -> int:
    from care_superb.leaderboard.make import PAGE, make_leaderboard
    from care_superb.leaderboard.rows import LeaderboardError

    if args.resamples < 100:
        print("care-superb leaderboard: --resamples must be at least 100", file=sys.stderr)
        return 2
    try:
        text, written = make_leaderboard(args.results, args.out, args.allow_mixed_heads, args.resamples, args.seed,
                                         published=args.published)
    except LeaderboardError as err:
        print(f"care-superb leaderboard: {err}", file=sys.stderr)
        return 2
    print(text)
    print(f"[leaderboard] wrote {len(written)} files to {args.out}; open {Path(args.out).resolve() / PAGE} in a browser")
    return 0
