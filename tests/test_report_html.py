"""The HTML report in a real headless browser (Debian's chromium driven by Playwright): the committed
quick grid's cells give a page that loads without console errors, shows every table and figure, and
sorts a table when its header is clicked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from clitools import synthgap

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]  # fmt: skip  (the machine's network is closed)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (`make test` installs it: scripts/setup.sh --test)"
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quick")
    for name in ("cells.parquet", "settings.json"):
        shutil.copy(ROOT / "results" / "quick" / name, folder / name)
    r = synthgap("report", folder)
    assert r.returncode == 0, r.stderr
    return folder / "report"


@pytest.fixture(scope="module")
def page(report):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page()
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto((report / "report.html").as_uri())
        pg.wait_for_load_state("load")
        yield pg, errors
        browser.close()


def test_page_loads_without_console_errors_and_shows_every_table(report, page):
    pg, errors = page
    assert errors == []
    titles = [line[3:] for line in (report / "report.md").read_text().splitlines() if line.startswith("## ")]
    assert pg.locator("h2").all_inner_texts() == titles
    assert pg.locator("table.sortable").count() == len(titles)
    first = pg.locator("table.sortable").first
    assert first.locator("tbody tr").count() > 0 and "recognition" in first.locator("thead").inner_text()
    assert "Settings and versions" in pg.locator("details summary").inner_text()


def test_every_figure_is_embedded_and_decoded(report, page):
    pg, _ = page
    pngs = sorted(p.stem for p in report.glob("*.png"))
    images = pg.locator("figure img")
    assert images.count() == len(pngs) > 0
    widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 100 for w in widths)
    assert all(
        src.startswith("data:image/png;base64,") for src in images.evaluate_all("a => a.map(i => i.src)")
    )


def test_clicking_a_header_sorts_its_column(page):
    pg, _ = page
    table = pg.locator("table.sortable").first
    headers = table.locator("thead th").all_inner_texts()
    col = next(i for i, h in enumerate(headers) if h.strip() == "recognition_rate")

    def column() -> list[float]:
        cells = table.locator(f"tbody tr td:nth-child({col + 1})").all_inner_texts()
        return [float(c) for c in cells]

    table.locator("thead th").nth(col).click()
    assert column() == sorted(column())
    table.locator("thead th").nth(col).click()
    assert column() == sorted(column(), reverse=True)
