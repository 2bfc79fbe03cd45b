"""Each lesson's "Discuss" cell, drawn from the teaching guide's Discuss paragraph for that lesson.

The guide (``docs/teaching.md``) keeps one **Discuss.** paragraph per lesson for teachers, with notes in
parentheses that may give exercise answers away. The lesson gets only the questions, without those notes,
in a markdown cell with id ``discuss-NN`` just before its Summary, so learners meet them too.

``python -m tools.discuss_cells`` lists the lessons whose cell is missing or out of date; ``--write``
inserts or updates the cells. ``tests/course/test_teaching_guide.py`` fails when a cell is out of date.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

__all__ = ["GUIDE", "LESSON_NUMBERS", "NOTEBOOKS", "cell_text", "discuss_questions", "guide_paragraph", "stale_lessons", "write_cells"]

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "teaching.md"
NOTEBOOKS = ROOT / "notebooks"
HEADER = "### Discuss\n\nFor class or a study partner; nothing here is checked.\n\n"


def discuss_questions(paragraph: str) -> list[str]:
    """The questions of a Discuss paragraph, without their parenthetical notes (which may hold answers).

    A statement right before a question stays with it as its lead-in; other statements are dropped.
    """
    text = " ".join(paragraph.split())
    spans = re.findall(r"`[^`]*`", text)
    for index, span in enumerate(spans):  # code spans may hold parentheses and dots
        text = text.replace(span, f"\x00{index}\x00", 1)
    previous = None
    while previous != text:  # innermost parentheses first
        previous, text = text, re.sub(r"\s*\([^()]*\)", "", text)
    text = re.sub(r"(\d)\.(\d)", "\\1\x01\\2", text)  # a decimal point ends no sentence
    questions = []
    for sentence in re.findall(r"(?:[^.?!]*\.)?[^.?!]*\?", text):  # a statement just before a question leads into it
        sentence = " ".join(sentence.split()).replace("\x01", ".")
        questions.append(re.sub("\x00(\\d+)\x00", lambda match: spans[int(match.group(1))], sentence))
    return questions


def guide_paragraph(number: str, guide: str | None = None) -> str:
    """The guide's Discuss paragraph for lesson ``number`` (e.g. ``"07"``), without its bold label."""
    guide = GUIDE.read_text(encoding="utf-8") if guide is None else guide
    section = guide.split(f"\n### {number} · ", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    return section.split("**Discuss.** ", 1)[1].split("\n\n", 1)[0].strip()


def cell_text(number: str, guide: str | None = None) -> str:
    """The markdown of lesson ``number``'s Discuss cell."""
    return HEADER + "\n".join(f"- {question}" for question in discuss_questions(guide_paragraph(number, guide))) + "\n"


def _notebook(number: str) -> Path:
    return next(NOTEBOOKS.glob(f"{number}_*.ipynb"))


def stale_lessons(numbers: list[str]) -> list[str]:
    """The lessons among ``numbers`` whose Discuss cell is missing or differs from the guide."""
    stale = []
    for number in numbers:
        cells = json.loads(_notebook(number).read_text(encoding="utf-8"))["cells"]
        found = [cell for cell in cells if cell.get("id") == f"discuss-{number}"]
        if len(found) != 1 or "".join(found[0]["source"]) != cell_text(number):
            stale.append(number)
    return stale


def write_cells(numbers: list[str]) -> None:
    """Insert (before ``## Summary``) or update each lesson's Discuss cell."""
    for number in numbers:
        path = _notebook(number)
        notebook = json.loads(path.read_text(encoding="utf-8"))
        source = cell_text(number).splitlines(keepends=True)
        existing = [cell for cell in notebook["cells"] if cell.get("id") == f"discuss-{number}"]
        if existing:
            existing[0]["source"] = source
        else:
            summary = next(index for index, cell in enumerate(notebook["cells"])
                           if "".join(cell["source"]).startswith("## Summary"))
            notebook["cells"].insert(summary, {"cell_type": "markdown", "id": f"discuss-{number}",
                                               "metadata": {}, "source": source})
        path.write_text(json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


LESSON_NUMBERS = sorted(path.name[:2] for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if path.name[:2] != "00")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="insert or update the Discuss cells")
    arguments = parser.parse_args(argv)
    if arguments.write:
        write_cells(stale_lessons(LESSON_NUMBERS))
    stale = stale_lessons(LESSON_NUMBERS)
    print("out of date: " + (", ".join(stale) if stale else "none"))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
