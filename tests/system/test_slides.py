"""`make slides`: one reveal.js deck per lesson, built by nbconvert's slides exporter, that opens offline.

The browser test opens a deck from disk in Chromium with every request that is not a local file
aborted (a classroom without internet): it needs /usr/bin/chromium and the playwright package and is
skipped without them, unless SEGEDU_REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from segedu.course.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[2]
NEW_SLIDE_TYPES = ("slide", "subslide")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"]
# A script, style sheet or module import that would leave the machine.
REMOTE_RESOURCE = re.compile(r"""(?:src|href)=["'](?:https?:)?//|import [^;]*from ['"](?:https?:)?//|Src = ['"]https?://""")


@pytest.fixture(scope="module")
def slides_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    output = tmp_path_factory.mktemp("slides")
    venv = Path(sys.prefix)
    # -o: never (re)install from a test; the running environment is the one to use.
    command = ["make", "-o", str(venv / ".segedu-installed"), "slides", f"VENV={venv}", f"SLIDES_DIR={output}"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return output


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.notebook[:2])
def test_every_lesson_has_a_deck_with_its_title_and_slides(slides_dir: Path, lesson) -> None:
    deck = slides_dir / lesson.notebook.replace(".ipynb", ".slides.html")
    assert deck.is_file(), f"no deck for {lesson.notebook}"
    text = deck.read_text(encoding="utf-8")
    assert "reveal" in text
    assert lesson.title.casefold() in html.unescape(text).casefold()
    notebook = nbformat.read(ROOT / "notebooks" / lesson.notebook, as_version=4)
    new_slides = sum(
        cell.metadata.get("slideshow", {}).get("slide_type") in NEW_SLIDE_TYPES for cell in notebook.cells
    )
    sections = text.count("<section")
    assert sections >= 3, f"{deck.name} has {sections} <section> elements: tag cells with slideshow.slide_type"
    assert sections >= new_slides, f"{deck.name}: {new_slides} cells start a slide but only {sections} sections"


def test_no_deck_loads_anything_from_the_network(slides_dir: Path) -> None:
    decks = sorted(slides_dir.glob("*.slides.html"))
    assert len(decks) == len(LESSONS)
    for deck in decks:
        remote = REMOTE_RESOURCE.findall(deck.read_text(encoding="utf-8"))
        assert not remote, f"{deck.name} loads from the network: {remote[:3]}"
    assert (slides_dir / "assets" / "reveal.js" / "dist" / "reveal.js").is_file()
    assert (slides_dir / "assets" / "mathjax2" / "MathJax.js").is_file()


def test_a_deck_runs_as_slides_with_the_network_cut(
    slides_dir: Path, tmp_path: Path, chromium: Path, cut_the_network: Callable[[Any], list[str]]
) -> None:
    from playwright.sync_api import sync_playwright

    deck = slides_dir / "02_one_hot_and_argmax.slides.html"  # the lesson with the most formulas
    missing: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            blocked = cut_the_network(context)
            page = context.new_page()
            page.on("requestfailed", lambda request: missing.append(request.url))
            page.set_default_timeout(60_000)
            page.goto(deck.as_uri())
            page.wait_for_selector(".reveal.ready")  # reveal.js adds "ready" once it has laid out the slides
            reveal = "require('assets/reveal.js/dist/reveal.js')"  # the module require.js loaded
            assert page.evaluate(f"typeof {reveal}.next") == "function"
            assert page.locator(".reveal .slides section").count() >= 3
            assert page.evaluate(f"{reveal}.getIndices().h") == 0
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"{reveal}.getIndices().h === 1")
            assert page.evaluate("location.hash") == "#/1"
            # Formulas are typeset by the local MathJax, not left as raw TeX.
            page.wait_for_function("document.querySelectorAll('.reveal .mjx-chtml').length > 0")
            # The widgets renderer draws the saved widget state (the lesson's score explorer).
            page.wait_for_function("document.querySelectorAll('.reveal .widget-slider').length > 0")
            page.screenshot(path=str(tmp_path / "deck.png"))
        finally:
            browser.close()
    assert not blocked, f"the deck tried to reach the network: {blocked}"
    assert not missing, f"local files the deck could not load: {missing}"
    assert (tmp_path / "deck.png").stat().st_size > 0
