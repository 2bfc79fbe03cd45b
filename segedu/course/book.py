"""The course website: a static site of every lesson, built from the stored outputs without running them.

Sphinx with MyST-NB turns each lesson notebook into a page (its text, code, printed results and
figures, as committed) and adds a landing page with the lesson table, the teaching guide and the
glossary. The sources are generated, never edited by hand: this module copies the Sphinx
configuration (``docs/book/conf.py``), the guides and a prepared copy of every lesson into a source
folder, writes the landing page from :data:`segedu.course.lessons.LESSONS` (so a new lesson appears
by itself), unpacks local copies of MathJax and the widgets renderer (:mod:`segedu.course.web_assets`)
and runs Sphinx. The finished site needs no network: open ``index.html`` from disk or copy the folder
to any static web host.

In the copies, solution cells are dropped (the site is for learners; the check cells' verdicts stay),
and each widget gets a note that it shows its saved state and needs a running kernel to react.

Example:
    ``python -m segedu.course.book notebooks build/book`` (what ``make book`` runs).
"""

from __future__ import annotations

import argparse
import copy
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from segedu.course.lessons import LESSONS, lesson_table_markdown
from segedu.course.student import SOLUTION_TAG
from segedu.course.web_assets import PACKAGES, install_web_assets

__all__ = ["GUIDES", "WIDGET_NOTE", "build_book", "landing_page", "main", "prepare_lesson", "write_book_sources"]

_DOCS = Path(__file__).resolve().parents[2] / "docs"
# The guides shown next to the lessons: (file in docs/, page name in the site).
GUIDES: tuple[tuple[str, str], ...] = (("teaching.md", "teaching"), ("glossary.md", "glossary"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    ":::{note}\n"
    "The widget below shows the state it was saved in. Its sliders and buttons need a running Python "
    "kernel: run this lesson in JupyterLab (`make lab`) to use them.\n"
    ":::"
)
# What the pages load: MathJax 3 (Sphinx's), and require.js with the widgets renderer (MyST-NB's).
_PACKAGES = tuple(package for package in PACKAGES if package.folder in ("mathjax3", "requirejs", "html-manager"))


def prepare_lesson(notebook: NotebookNode) -> NotebookNode:
    """Return the copy of a lesson the site shows: no solution cells, a note before every widget.

    Args:
        notebook: A lesson notebook (nbformat 4); it is not modified.

    Returns:
        A new notebook without the cells tagged ``solution`` (the site, and the notebook its download
        button offers, are for learners; the check cells and their verdicts stay), in which a markdown
        note (:data:`WIDGET_NOTE`) precedes every code cell that displays a widget.
    """
    page = copy.deepcopy(notebook)
    cells = []
    for cell in page.cells:
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code" and any(WIDGET_VIEW in output.get("data", {}) for output in cell.outputs):
            cells.append(nbformat.v4.new_markdown_cell(WIDGET_NOTE))
        cells.append(cell)
    page.cells = cells
    return page


def landing_page() -> str:
    """The site's ``index.md``: what the course is, the lesson table, and the navigation's table of contents."""
    lessons = "\n".join(lesson.notebook.removesuffix(".ipynb") for lesson in LESSONS)
    guides = "\n".join(page for _, page in GUIDES)
    return f"""# Semantic segmentation from first principles

Runnable lessons on semantic segmentation, from "a class for every pixel" to FCN, SegNet and U-Net,
backed by the small PyTorch package `segedu`. Every page below shows a lesson as it was last run,
with its printed results and figures; to run the lessons yourself, get the course and type
`make lab` (see the README).

## Lessons

{lesson_table_markdown()}

:::{{note}}
Widgets (sliders, buttons, explorers) appear with the state they were saved in; to use them, run the
lesson in JupyterLab with a Python kernel. Solutions are not part of this site.
:::

## For teachers and learners

- [Teaching guide](teaching.md): a one-day workshop, a four-week module, objectives, misconceptions and
  discussion questions per lesson.
- [Glossary](glossary.md): every term of the course with its Korean name.

```{{toctree}}
:hidden:
:caption: Lessons

{lessons}
```

```{{toctree}}
:hidden:
:caption: For teachers and learners

{guides}
```
"""


def write_book_sources(notebook_dir: Path | str, source_dir: Path | str, cache_dir: Path | str) -> Path:
    """Write a complete Sphinx source folder for the site; ``source_dir`` is replaced.

    Args:
        notebook_dir: Folder with the lesson notebooks (every lesson of :data:`LESSONS` must be there).
        source_dir: Folder to (re)create with ``conf.py``, ``index.md``, the lessons and the guides.
        cache_dir: Folder for the npm tarballs of MathJax and the widgets renderer (fetched once).

    Returns:
        ``source_dir``.

    Raises:
        ValueError: If a lesson of the table is missing from ``notebook_dir``.
    """
    notebook_dir, source_dir = Path(notebook_dir), Path(source_dir)
    missing = [lesson.notebook for lesson in LESSONS if not (notebook_dir / lesson.notebook).is_file()]
    if missing:
        raise ValueError(f"lessons missing from {notebook_dir}: {', '.join(missing)}")
    shutil.rmtree(source_dir, ignore_errors=True)
    source_dir.mkdir(parents=True)
    shutil.copy(_DOCS / "book" / "conf.py", source_dir / "conf.py")
    (source_dir / "index.md").write_text(landing_page(), encoding="utf-8")
    for file_name, page in GUIDES:
        shutil.copy(_DOCS / file_name, source_dir / f"{page}.md")
    for lesson in LESSONS:
        notebook = nbformat.read(notebook_dir / lesson.notebook, as_version=4)
        nbformat.write(prepare_lesson(notebook), source_dir / lesson.notebook)
    install_web_assets(cache_dir, source_dir / "_static" / "vendor", _PACKAGES)
    return source_dir


def build_book(
    notebook_dir: Path | str, output_dir: Path | str, *, source_dir: Path | str, cache_dir: Path | str
) -> Path:
    """Build the static site into ``output_dir`` (its ``index.html`` is the landing page).

    Args:
        notebook_dir: Folder with the lesson notebooks; only read.
        output_dir: Folder for the HTML site.
        source_dir: Folder for the generated Sphinx sources (replaced).
        cache_dir: Folder for the npm tarballs (fetched once).

    Returns:
        The landing page, ``output_dir/index.html``.

    Raises:
        RuntimeError: If Sphinx fails.
    """
    source_dir = write_book_sources(notebook_dir, source_dir, cache_dir)
    output_dir = Path(output_dir)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", "-E",
               "-d", str(source_dir / "_doctrees"), str(source_dir), str(output_dir)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"sphinx-build failed:\n{completed.stdout}{completed.stderr}")
    return output_dir / "index.html"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m segedu.course.book NOTEBOOK_DIR OUT_DIR [--sources DIR] [--cache DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m segedu.course.book",
        description="Build the course website (every lesson with its stored outputs, the guides) as static HTML.",
    )
    parser.add_argument("notebook_dir", type=Path, help="folder with the lesson notebooks, e.g. notebooks")
    parser.add_argument("output_dir", type=Path, help="folder for the site, e.g. build/book")
    parser.add_argument("--sources", type=Path, default=Path("build/book-sources"),
                        help="folder for the generated Sphinx sources (default: build/book-sources)")
    parser.add_argument("--cache", type=Path, default=Path("build/web-assets"),
                        help="folder for the npm tarballs, fetched once (default: build/web-assets)")
    arguments = parser.parse_args(argv)
    try:
        index = build_book(arguments.notebook_dir, arguments.output_dir,
                           source_dir=arguments.sources, cache_dir=arguments.cache)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote the course website to {arguments.output_dir}: open {index} or copy the folder to any web host")
    return 0


if __name__ == "__main__":
    sys.exit(main())
