"""The lesson table, the notebooks folder and the README agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from segedu.course.lessons import LESSONS, Lesson, lesson_table_markdown, total_study_minutes

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))


def test_lesson_table_names_exactly_the_notebooks() -> None:
    assert [lesson.notebook for lesson in LESSONS] == NOTEBOOKS


def test_every_lesson_has_a_measured_run_time_under_a_minute() -> None:
    for lesson in LESSONS:
        assert lesson.run_seconds is not None, f"{lesson.notebook}: run time not measured"
        assert lesson.run_seconds < 60, f"{lesson.notebook}: {lesson.run_seconds} s is too slow"


def test_every_lesson_has_a_study_time() -> None:
    for lesson in LESSONS:
        assert lesson.study_time.strip(), f"{lesson.notebook}: no study time"


def test_study_times_are_the_ones_the_lessons_state() -> None:
    for lesson in LESSONS:
        notebook = json.loads((ROOT / "notebooks" / lesson.notebook).read_text())
        header = "".join(notebook["cells"][0]["source"])
        stated = re.search(r"Study time.*?(\d+(?:–\d+)?) minutes", header, flags=re.DOTALL)
        assert stated, f"{lesson.notebook}: its header states no study time ('Study time ... N minutes')"
        minutes = stated.group(1)
        assert re.search(rf"(?<![\d–]){minutes} min\b", lesson.study_time), (
            f"{lesson.notebook}: the header says {minutes} minutes, lessons.py says {lesson.study_time!r}"
        )


def test_readme_lists_the_same_lessons_and_times() -> None:
    readme = (ROOT / "README.md").read_text()
    table = lesson_table_markdown()
    for line in table.splitlines()[2:]:
        # README links point into notebooks/; otherwise the rows are identical.
        assert line.replace("](", "](notebooks/") in readme, f"README lacks the row: {line}"


def test_notebooks_use_the_course_kernel_and_store_outputs() -> None:
    for name in NOTEBOOKS:
        notebook = json.loads((ROOT / "notebooks" / name).read_text())
        assert notebook["metadata"]["kernelspec"]["name"] == "segedu", name
        code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
        # Solution cells, and the graded checks after them, keep no output or count (a reader must not
        # see the answer or its verdict); nbval still runs them.
        hidden = {"solution", "graded"}
        unexecuted = [index for index, cell in enumerate(code)
                      if cell["execution_count"] is None and not hidden & set(cell["metadata"].get("tags", []))]
        assert not unexecuted, f"{name}: code cells {unexecuted} were never run; run `make notebooks`"
        errors = [out for cell in code for out in cell["outputs"] if out["output_type"] == "error"]
        assert not errors, f"{name}: stored error output"


def test_welcome_notebook_shows_the_current_lesson_table() -> None:
    # nbval compares text/plain only, so a stale Markdown table would slip through it.
    notebook = json.loads((ROOT / "notebooks" / "00_welcome.ipynb").read_text())
    tables = [
        "".join(output["data"]["text/markdown"])
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "text/markdown" in output.get("data", {})
    ]
    expected = lesson_table_markdown(brief=True)
    assert tables == [expected], "re-run `make notebooks NOTEBOOKS=notebooks/00_welcome.ipynb`"


def test_the_brief_table_gives_each_lesson_a_one_line_topic() -> None:
    brief, full = lesson_table_markdown(brief=True).splitlines(), lesson_table_markdown().splitlines()
    assert len(brief) == len(full) == len(LESSONS) + 2 and "What it is about" in brief[0]
    for lesson, row, full_row in zip(LESSONS, brief[2:], full[2:]):
        assert lesson.topic and len(lesson.topic) <= 60 and "\n" not in lesson.topic, lesson.notebook
        assert f"| {lesson.topic} |" in row and lesson.objectives not in row, lesson.notebook
        assert row.split("|")[-3:] == full_row.split("|")[-3:]  # the same study and run times


def test_total_study_minutes_adds_ranges_and_optional_parts() -> None:
    lessons = [Lesson("a.ipynb", "A", "x", "about 20 min", 1),
               Lesson("b.ipynb", "B", "x", "about 80–100 min (optional part about 20 more)", 1),
               Lesson("c.ipynb", "C", "x", "about 90 min (optional parts about 40 more)", 1)]
    assert total_study_minutes(lessons) == (190, 210, 60)
    low, high, optional = total_study_minutes()
    assert low <= high and optional > 0
    assert low >= 60 * len(LESSONS[1:])  # every lesson from 01 on takes an hour or more


def test_total_study_minutes_names_a_lesson_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="z.ipynb: study time 'two hours'"):
        total_study_minutes([Lesson("z.ipynb", "Z", "x", "two hours", 1)])
