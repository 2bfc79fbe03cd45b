"""segedu.course.book: the website's sources come from the lesson list; solutions stay out of it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from segedu.course.book import GUIDES, WIDGET_NOTE, landing_page, prepare_lesson, write_book_sources
from segedu.course.lessons import LESSONS
from segedu.course.web_assets import PACKAGES

WIDGET_OUTPUT = {"output_type": "display_data", "metadata": {},
                 "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                                       "version_minor": 0},
                          "text/plain": "VBox()"}}


def _lesson() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Lesson"),
        nbformat.v4.new_code_cell("answer = ...", metadata={"tags": ["exercise"]}),
        nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("check(answer)"),
        nbformat.v4.new_code_cell("explorer()", outputs=[nbformat.from_dict(WIDGET_OUTPUT)]),
    ]
    return notebook


def test_prepare_lesson_drops_solutions_and_notes_widgets() -> None:
    original = _lesson()
    page = prepare_lesson(original)
    sources = [cell.source for cell in page.cells]
    assert sources == ["# Lesson", "answer = ...", "check(answer)", WIDGET_NOTE, "explorer()"]
    assert len(original.cells) == 5 and original.cells[2].source == "answer = 42"  # the original is untouched
    nbformat.validate(page)


def test_the_landing_page_lists_every_lesson_and_guide_in_order() -> None:
    page = landing_page()
    toctree_entries = [line for line in page.splitlines() if line.startswith(("0", "1")) and "|" not in line]
    assert toctree_entries == [lesson.notebook.removesuffix(".ipynb") for lesson in LESSONS]
    for lesson in LESSONS:
        assert f"[{lesson.title}]({lesson.notebook})" in page
    for _, name in GUIDES:
        assert f"\n{name}\n" in page


def test_sources_hold_config_landing_page_lessons_and_guides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for lesson in LESSONS:
        nbformat.write(_lesson(), notebooks / lesson.notebook)
    installed = []
    monkeypatch.setattr("segedu.course.book.install_web_assets",
                        lambda cache, target, packages: installed.append((Path(target), packages)))
    sources = write_book_sources(notebooks, tmp_path / "sources", tmp_path / "cache")
    names = {path.name for path in sources.iterdir()}
    assert {"conf.py", "index.md", "teaching.md", "glossary.md"} <= names
    assert {lesson.notebook for lesson in LESSONS} <= names
    assert all(len(nbformat.read(sources / lesson.notebook, 4).cells) == 5 for lesson in LESSONS)
    (target, packages), = installed
    assert target == sources / "_static" / "vendor"
    assert {package.folder for package in packages} == {"mathjax3", "requirejs", "html-manager"}
    assert set(packages) <= set(PACKAGES)


def test_a_missing_lesson_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=LESSONS[0].notebook):
        write_book_sources(tmp_path, tmp_path / "sources", tmp_path / "cache")
