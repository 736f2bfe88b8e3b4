"""The leaderboard's page (index.html): the same cells as the Markdown, nothing fetched, and the
page working in a real browser (headless Chromium driven by Playwright)."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from care_superb.leaderboard.make import make_leaderboard
from leaderboard_rows import write_sample_rows

CHROMIUM = "/usr/bin/chromium"
# As /work's machines run it: no sandbox as root, and none of Chromium's own background traffic.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = "CARE_SUPERB_PAGE_SCREENSHOTS"  # a folder: the browser test also saves docs/leaderboard.md's screenshots there


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """The sample rows (SYNTHETIC, made-up numbers) and their leaderboard."""
    root = tmp_path_factory.mktemp("page")
    write_sample_rows(root / "rows")
    make_leaderboard([root / "rows"], root / "out")
    return root / "rows", root / "out"


class Page(HTMLParser):
    """The board tables' text (per table: header titles, rows of cell texts) and every URL-valued
    attribute of the page."""

    URL_ATTRIBUTES = {"src", "href", "xlink:href", "action", "formaction", "poster", "srcset", "data", "background"}

    def __init__(self, html: str):
        super().__init__()
        self.tables, self.urls, self.tags = [], [], set()
        self._table = self._row = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        self.urls += [(tag, k, v) for k, v in attrs.items() if k in self.URL_ATTRIBUTES]
        if tag == "table" and "board" in (attrs.get("class") or "").split():
            self._table = {"head": [], "rows": []}
            self.tables.append(self._table)
        elif self._table is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if self._cell is not None and tag in ("td", "th"):
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif self._row is not None and tag == "tr":
            if self._table["head"]:
                self._table["rows"].append(self._row)
            else:  # the first row is the header
                self._table["head"] = self._row
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def markdown_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
    split = lambda line: [c.strip() for c in line.strip("|").split("|")]  # noqa: E731
    return split(lines[0]), [split(line) for line in lines[2:]]


def test_the_page_shows_the_markdowns_cells_and_fetches_nothing(board):
    rows, out = board
    html = (out / "index.html").read_text()
    page = Page(html)
    names = ["table2", "table3", "table4"]
    assert len(page.tables) == len(names)
    for table, name in zip(page.tables, names):
        md_head, md_rows = markdown_cells(out / f"{name}.md")
        assert table["head"][:2] == ["group", "upstream"] and table["head"][3:] == md_head[2:]
        assert len(table["rows"]) == len(md_rows)
        for got, want in zip(table["rows"], md_rows):
            # the same upstream with the same marks, and each cell's text exactly the Markdown's but bold
            assert got[1] == want[1]
            assert got[3:] == [c.replace("**", "") for c in want[2:]], name
    # Table II as the CSV says: the sample's four upstreams, ablation in Table IV only
    t2 = pd.read_csv(out / "table2.csv", comment="#")
    assert [r[1].rstrip("§¶") for r in page.tables[0]["rows"]] == list(dict.fromkeys(t2.upstream))
    assert {r[1].rstrip("§¶") for r in page.tables[2]["rows"]} == {"care", "care_acoustic"}

    # nothing to fetch: in-page links only, images inline; a CSP refuses anything else
    assert {"link", "iframe", "img", "object", "embed"}.isdisjoint(page.tags)
    assert [u for u in page.urls if not u[2].startswith(("#", "data:image/png;base64,"))] == []
    assert not re.search(r"url\((?!#)", html)  # CSS and SVG references stay inside the page
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'" in html
    assert html.count("<script") == 1

    # per task a score figure and, for upstreams with layers, the layer-weight figure; per cell its details
    assert html.count('<details class="cell"') == 8 * 5 + 4  # 8 tasks x (Table II's 4 upstreams + Table IV's ablation); MSP-IMPROV x 4
    assert 'id="cell-care-emodb"' in html and 'href="#cell-care-emodb"' in html
    assert "No learned layer weights in the rows of fbank" in html


def open_page(playwright, path: Path, requests: list, problems: list):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    url = path.resolve().as_uri()

    def route(r):  # every request passes here: the page's own file loads, anything else is refused
        requests.append(f"routed {r.request.url}")
        r.continue_() if r.request.url == url else r.abort()

    page.route("**/*", route)
    page.goto(url)
    return browser, page, url


def chromium_or_skip():
    """Playwright's Python package pointed at Debian's chromium (installed by scripts/setup.sh)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (scripts/setup.sh installs it: .venv/bin/pip install playwright)"
    else:
        if os.path.exists(CHROMIUM) and shutil.which(CHROMIUM):
            return sync_playwright
        reason = f"no Chromium at {CHROMIUM} (scripts/setup.sh installs Debian's chromium package)"
    if os.environ.get("CI"):  # CI ran setup.sh: a missing browser there is a broken setup, not a skip
        pytest.fail(reason)
    pytest.skip(reason)


def test_the_page_in_a_real_browser(board):
    rows, out = board
    sync_playwright = chromium_or_skip()
    t2 = pd.read_csv(out / "table2.csv", comment="#")
    requests, problems = [], []
    with sync_playwright() as playwright:
        browser, page, url = open_page(playwright, out / "index.html", requests, problems)
        try:
            table = page.locator("table.board").first
            upstreams = lambda: [t.rstrip("§¶") for t in table.locator("tbody th[scope=row]").all_inner_texts()]  # noqa: E731
            assert upstreams() == list(dict.fromkeys(t2.upstream))
            # what a reader sees in a cell is the Markdown's text (bold aside)
            md_head, md_rows = markdown_cells(out / "table2.md")
            first = [c.strip() for c in table.locator("tbody tr").first.locator("td.num").all_text_contents()]
            assert first == [c.replace("**", "") for c in md_rows[0][2:]]

            # sorting by a column reorders the rows by its means: highest first, then lowest first
            for column in ("IEMOCAP-4", "IEMOCAP-6"):
                means = t2[t2.column == column].set_index("upstream")["mean"]
                best_first = list(means.sort_values(ascending=False, kind="stable").index)
                assert best_first != upstreams(), "the sample must reorder when sorted"
                header = table.locator("thead th", has_text=column)
                header.locator("button").click()
                assert upstreams() == best_first
                assert header.get_attribute("aria-sort") == "descending"
                header.locator("button").click()
                assert upstreams() == best_first[::-1]
            table.locator("thead th", has_text="group").locator("button").click()  # the paper's order again
            assert upstreams() == list(dict.fromkeys(t2.upstream))

            # a cell's link opens its details: the confusion matrix of its utterances
            details = page.locator("#cell-hubert-emodb")
            assert not details.evaluate("d => d.open")
            table.locator("a[href='#cell-hubert-emodb']").click()
            assert details.evaluate("d => d.open")
            confusion = details.locator("table.confusion")
            assert confusion.is_visible()
            counts = [int(t) for t in confusion.locator("tbody td:last-child").all_inner_texts()]
            utterances = sum(len(json.loads(p.read_text())["predictions"])
                             for p in (rows / "hubert" / "emodb").rglob("predictions-*.json"))
            assert sum(counts) == utterances
            assert details.locator("dl.provenance").is_visible()

            # without JavaScript: the same plain table, and a cell's details open from their summary
            plain = browser.new_page(java_script_enabled=False)
            plain.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
            plain.goto(url)
            assert [t.rstrip("§¶") for t in plain.locator("table.board").first.locator("tbody th").all_inner_texts()] \
                == list(dict.fromkeys(t2.upstream))
            assert plain.locator("table.board thead button").count() == 0  # no sort buttons: plain headers
            plain.locator("#cell-care-emodb > summary").click()
            assert plain.locator("#cell-care-emodb table.confusion").is_visible()

            if os.environ.get(SCREENSHOTS):  # docs/leaderboard.md's pictures: Table II, and a task with a cell's details open
                folder = Path(os.environ[SCREENSHOTS])
                page.evaluate("document.getElementById('table-table2').scrollIntoView()")
                page.screenshot(path=folder / "leaderboard-page.png")
                page.evaluate("document.getElementById('task-emodb').scrollIntoView()")
                page.screenshot(path=folder / "leaderboard-page-task.png")
        finally:
            browser.close()
    assert problems == []
    assert requests == [url, f"routed {url}"] or requests == [f"routed {url}", url]
