"""`make book`: the course website, built from the stored outputs, works in a browser with no network.

The build runs `make book` into a temporary folder (its generated Sphinx sources too; the lessons are
only read). The browser test opens the site from disk in Chromium with every request that is not a
local file aborted, follows the navigation to every lesson page and checks that its images load. It
needs /usr/bin/chromium and the playwright package and is skipped without them, unless
SEGEDU_REQUIRE_BROWSER=1 (CI). Set SEGEDU_SAVE_BOOK_SCREENSHOT=path/to/file.png to keep a screenshot
of the landing page there.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from segedu.course.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"]
# A script, style sheet, image or module import that would leave the machine.
REMOTE_RESOURCE = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=["'](?:https?:)?//""")
ALL_IMAGES_LOADED = "[...document.images].every(image => image.complete)"
BROKEN_IMAGES = "[...document.images].filter(image => image.naturalWidth === 0).map(image => image.src)"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    folder = tmp_path_factory.mktemp("book")
    venv = Path(sys.prefix)
    command = [
        "make", "-o", str(venv / ".segedu-installed"), "book", f"VENV={venv}",  # -o: never (re)install here
        f"BOOK_DIR={folder / 'site'}", f"BOOK_SOURCES={folder / 'sources'}",
    ]
    start = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    print(f"make book took {time.monotonic() - start:.0f} s")
    return folder / "site"


def test_every_lesson_has_a_page_and_the_landing_page_lists_them(site: Path) -> None:
    # Sphinx typesets straight apostrophes as curly ones ("U-Net’s"); compare the words, not the quote mark.
    landing = html.unescape((site / "index.html").read_text(encoding="utf-8")).replace("\u2019", "'")
    for lesson in LESSONS:
        page = site / lesson.notebook.replace(".ipynb", ".html")
        assert page.is_file(), f"no page for {lesson.notebook}"
        assert f'href="{page.name}"' in landing, f"the landing page does not link {page.name}"
        assert lesson.title in landing
        assert "tag_solution" not in page.read_text(encoding="utf-8"), f"{page.name} shows a solution cell"
        offered = nbformat.read(site / "_sources" / lesson.notebook, as_version=4)  # the download button's copy
        assert not [cell for cell in offered.cells if "solution" in cell.metadata.get("tags", [])], lesson.notebook
    for guide, heading in (("teaching.html", "Teaching with segedu"), ("glossary.html", "Glossary")):
        assert heading in (site / guide).read_text(encoding="utf-8")


def test_no_page_loads_anything_from_the_network(site: Path) -> None:
    pages = sorted(site.glob("*.html"))
    assert len(pages) > len(LESSONS)
    for page in pages:
        remote = REMOTE_RESOURCE.findall(page.read_text(encoding="utf-8"))
        assert not remote, f"{page.name} loads from the network: {remote[:3]}"


def test_widgets_show_their_saved_state_with_a_note(site: Path) -> None:
    page = (site / "12_feature_map_explorer.html").read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" in page
    assert "need a running Python kernel" in page


def _stored_figures(path: Path) -> int:
    """How many PNG figures a lesson's cells (solutions aside) have stored."""
    notebook = nbformat.read(path, as_version=4)
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code" and "solution" not in cell.metadata.get("tags", [])
        for output in cell.outputs
    )


def test_the_site_works_in_a_browser_with_the_network_cut(
    site: Path, tmp_path: Path, chromium: Path, cut_the_network: Callable[[Any], list[str]]
) -> None:
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    missing: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            blocked = cut_the_network(context)
            page = context.new_page()
            page.on("requestfailed", lambda request: missing.append(request.url))
            page.set_default_timeout(60_000)
            page.goto((site / "index.html").as_uri())
            page.screenshot(path=str(tmp_path / "landing.png"))

            for lesson in LESSONS:
                # Follow the sidebar's link, as a reader would.
                name = lesson.notebook.replace(".ipynb", ".html")
                page.locator(f"nav.bd-docs-nav a[href$='{name}']").first.click()
                page.wait_for_url(f"**/{name}")
                assert page.title().startswith(lesson.notebook[:2]), (name, page.title())  # "02 · Scores, ..."
                page.wait_for_function(ALL_IMAGES_LOADED)
                figures = _stored_figures(ROOT / "notebooks" / lesson.notebook)
                assert page.evaluate("document.images.length") >= figures, f"{name} lacks some of its {figures} figures"
                assert page.evaluate(BROKEN_IMAGES) == [], f"{name} has images that did not load"

            # Formulas are typeset by the local MathJax; widgets are drawn from their saved state.
            page.goto((site / "02_one_hot_and_argmax.html").as_uri())
            page.wait_for_function("document.querySelectorAll('mjx-container').length > 0")
            page.goto((site / "12_feature_map_explorer.html").as_uri())
            page.wait_for_function("document.querySelectorAll('.widget-slider').length > 0")
            # The landing page's table links a lesson, and the lesson's "next" link moves on.
            page.goto((site / "index.html").as_uri())
            page.locator("article a[href='01_what_is_segmentation.html']").first.click()
            page.wait_for_url("**/01_what_is_segmentation.html")
            page.locator("a.right-next").click()
            page.wait_for_url("**/02_one_hot_and_argmax.html")
        finally:
            browser.close()
    assert not blocked, f"the site tried to reach the network: {blocked[:5]}"
    assert not missing, f"local files the site could not load: {missing[:5]}"
    assert (tmp_path / "landing.png").stat().st_size > 0
    target = os.environ.get("SEGEDU_SAVE_BOOK_SCREENSHOT")
    if target:
        shutil.copy(tmp_path / "landing.png", target)
    print(f"browser test body took {time.monotonic() - start:.1f} s")
