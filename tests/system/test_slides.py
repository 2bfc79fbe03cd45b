"""`make slides`: one reveal.js deck per lesson, built offline by nbconvert's slides exporter."""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from segedu.course.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[2]
NEW_SLIDE_TYPES = ("slide", "subslide")


@pytest.fixture(scope="module")
def slides_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    output = tmp_path_factory.mktemp("slides")
    venv = Path(sys.prefix)
    # -o: never (re)install from a test; the running environment is the one to use.
    command = ["make", "-o", str(venv / ".segedu-installed"), "slides", f"VENV={venv}", f"SLIDES_DIR={output}"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
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
