"""docs/teaching.md names every lesson and quotes the run times measured in segedu/course/lessons.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from segedu.course.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.notebook[:2])
def test_the_guide_names_every_lesson_with_its_measured_run_time(lesson) -> None:
    assert lesson.run_seconds is not None, f"{lesson.notebook} has no measured run time"
    assert lesson.notebook in GUIDE
    workshop_rows = [line for line in GUIDE.splitlines() if line.startswith("|") and f"`{lesson.notebook}`" in line]
    assert len(workshop_rows) == 1, f"the workshop table needs one row for {lesson.notebook}"
    assert workshop_rows[0].rstrip(" |").endswith(f"~{lesson.run_seconds} s")
    heading = f"### {lesson.notebook[:2]} · "
    section = GUIDE.split(heading, 1)[1].split("\n### ", 1)[0]
    assert f"(`{lesson.notebook}`, ~{lesson.run_seconds} s)" in section
    assert lesson.objectives in " ".join(section.split())  # the objectives of course.py, verbatim


def test_every_quoted_run_time_is_a_measured_one() -> None:
    measured = {lesson.run_seconds for lesson in LESSONS}
    quoted = {int(seconds) for seconds in re.findall(r"~(\d+) s\b", GUIDE)}
    assert quoted and quoted <= measured


def test_the_guide_explains_the_student_edition_slides_and_grading() -> None:
    for phrase in ("make student", "make slides", "Correct!", "Not yet:", "True", "False", "download=True"):
        assert phrase in GUIDE


def test_every_lesson_ends_with_the_guides_discuss_questions_without_their_notes() -> None:
    from tools.discuss_cells import LESSON_NUMBERS, discuss_questions, stale_lessons

    assert stale_lessons(LESSON_NUMBERS) == [], "run `python -m tools.discuss_cells --write`"
    questions = discuss_questions("Why? (a note with an answer (nested). 0.3 stays.) Is `f(x)` kept? Not a question.")
    assert questions == ["Why?", "Is `f(x)` kept?"]
    assert discuss_questions("Seeds 0-5 led at 0.01. Why? Dropped. Kept. How?") == ["Seeds 0-5 led at 0.01. Why?",
                                                                                    "Kept. How?"]  # lead-ins stay
    for number in LESSON_NUMBERS:  # one Discuss cell each: a renumbered lesson keeps no stale one
        notebook = json.loads(next((ROOT / "notebooks").glob(f"{number}_*.ipynb")).read_text(encoding="utf-8"))
        discuss = [cell for cell in notebook["cells"] if "".join(cell["source"]).startswith("### Discuss")]
        assert [cell.get("id") for cell in discuss] == [f"discuss-{number}"], number
