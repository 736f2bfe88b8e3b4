"""Every non-blank line of README.md at a git revision is still in README.md or docs/*.md.

The README was split into a landing page and docs/<area>.md (issue 30), text moved verbatim. A line
counts as kept when it appears, whitespace-trimmed, in one of the files now; markdown links are
compared by their text, since a moved page's relative targets change, and headings by their text,
since a section's heading became its page's title. Prints every line not found
(each should be an edit made on purpose) and exits 1 if there is any.

    .venv/bin/python tools/docs_nothing_lost.py f4f8347      # the last commit before the split
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"(!?)\[([^\]]*)\]\([^)]*\)")
HEADING = re.compile(r"^#{2,} ")


def normal(line: str) -> str:
    """A line as compared: trimmed, link targets dropped, a heading's level not counted (a section
    became a page)."""
    return HEADING.sub("# ", LINK.sub(r"\1[\2]", line.strip()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="git revision whose README.md is the reference")
    args = parser.parse_args(argv)
    old = subprocess.run(["git", "show", f"{args.rev}:README.md"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    now = {normal(line) for f in files for line in f.read_text().splitlines()}
    lost = [(n, line) for n, line in enumerate(old, 1) if line.strip() and normal(line) not in now]
    kept = sum(1 for line in old if line.strip()) - len(lost)
    print(f"{kept} of {kept + len(lost)} non-blank lines of README.md at {args.rev} are in README.md or docs/*.md")
    for n, line in lost:
        print(f"  not found, line {n}: {line}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
