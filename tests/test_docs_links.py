"""Every relative link and #anchor in README.md, docs/*.md and tools/README.md resolves: the file
exists in the repository and the anchor is a heading of the target page, slugged as GitHub does."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", REPO / "tools" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)   # https:, mailto:, ...
MD = MarkdownIt("commonmark").enable("table")          # GitHub renders tables; links inside them count


def slug(text: str) -> str:
    """GitHub's heading id (github-slugger): lower case, punctuation and symbols dropped, each space
    a hyphen (so `a → b` gives `a--b`)."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def _inline_text(token) -> str:
    return "".join(c.content for c in token.children or () if c.type in ("text", "code_inline"))


def anchors(text: str) -> set[str]:
    """The ids GitHub gives the page's headings (a repeated slug gets -1, -2, ...)."""
    tokens = MD.parse(text)
    seen: Counter = Counter()
    ids = set()
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type == "heading_open":
            base = slug(_inline_text(inline))
            ids.add(f"{base}-{seen[base]}" if seen[base] else base)
            seen[base] += 1
    return ids


def targets(text: str) -> list[str]:
    """Every link's and image's target, outside code."""
    found = []
    for token in MD.parse(text):
        for child in token.children or ():
            if child.type == "link_open":
                found.append(child.attrs["href"])
            elif child.type == "image":
                found.append(child.attrs["src"])
    return found


def broken(page: Path, root: Path = REPO) -> list[str]:
    """What does not resolve among the page's relative links, each said with why."""
    problems = []
    for target in targets(page.read_text()):
        if EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        where = (page.parent / unquote(path)).resolve() if path else page
        if root.resolve() not in where.parents and where != root.resolve():
            problems.append(f"{page.name}: {target}: outside the repository")
        elif not where.exists():
            problems.append(f"{page.name}: {target}: no such file {where.relative_to(root.resolve())}")
        elif anchor and where.suffix == ".md" and unquote(anchor) not in anchors(where.read_text()):
            problems.append(f"{page.name}: {target}: no heading of {where.name} has the id #{anchor}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves(page):
    assert page.is_file()
    assert targets(page.read_text()), f"{page} links nowhere: the parser found no link"
    assert broken(page) == []


def test_the_docs_pages_are_all_linked_from_the_readme():
    linked = {(REPO / t.partition("#")[0]).resolve() for t in targets((REPO / "README.md").read_text())}
    assert {p.resolve() for p in (REPO / "docs").glob("*.md")} <= linked


def test_github_slugs():
    # ids as GitHub shows them for headings of these pages
    assert slug("Whisper's encoder and the Whisper → text baseline: real weights, offline") == \
        "whispers-encoder-and-the-whisper--text-baseline-real-weights-offline"
    assert slug("Pre-training CARE (care-superb pretrain)") == "pre-training-care-care-superb-pretrain"
    assert slug("MELD: a preparation step first") == "meld-a-preparation-step-first"
    assert anchors("# The page (`index.html`)\n\n## A\n\n## A\n") == {"the-page-indexhtml", "a", "a-1"}


def test_a_broken_file_anchor_or_image_is_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## A section\n")
    (tmp_path / "docs" / "pic.png").write_bytes(b"")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n"
        "[fine](other.md#a-section) [fine](#page) ![fine](pic.png) [web](https://example.org/x#y)\n\n"
        "| a | [in a table](missing.md) |\n|---|---|\n\n"
        "[anchor](other.md#no-such-section) ![image](../pic.png) [self](#nowhere)\n\n"
        "```\n[in code](not-a-link.md)\n```\n")
    assert broken(page, tmp_path) == [
        "page.md: missing.md: no such file docs/missing.md",
        "page.md: other.md#no-such-section: no heading of other.md has the id #no-such-section",
        "page.md: ../pic.png: no such file pic.png",
        "page.md: #nowhere: no heading of page.md has the id #nowhere",
    ]
