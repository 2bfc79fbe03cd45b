"""nbgrader's metadata on the lessons (``python -m segedu.course.grading``): solution regions, graded checks.

A small synthetic lesson shows what the tool does; the real lessons are checked for what it must not
change (the code and outputs nbval compares) and, in the last test, for carrying the metadata.
tests/system/test_nbgrader.py runs the real nbgrader on them.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import NotebookNode

from segedu.course.grading import (
    BEGIN_SOLUTION,
    CODE_STUB,
    END_SOLUTION,
    GRADED_TAG,
    apply_to_file,
    is_graded,
    is_locked,
    main,
    prepare_for_nbgrader,
    problems,
    replace_solution_regions,
)
from segedu.course.student import STUB_TAG, hide_solution_outputs, make_student_notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

CHECKER = '''def check_double(function):
    """Prints a verdict and returns it, as every segedu check does."""
    try:
        right = function(3) == 6
    except NotImplementedError:
        right = False
    print("Correct! doubling works." if right else "Not yet: return twice the input.")
    return right'''


def _code(source: str, *tags: str, count: int | None = None, output: str | None = None) -> NotebookNode:
    outputs = [nbformat.v4.new_output("stream", text=output)] if output is not None else []
    cell = nbformat.v4.new_code_cell(source, execution_count=count, outputs=outputs)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _lesson() -> NotebookNode:
    """A lesson in the course's format: an exercise, its check (run: "Not yet"), its hidden solution."""
    solution = _code("def double(x):\n    return 2 * x\n\n\ncheck_double(double)", "solution")
    solution.metadata["jupyter"] = {"source_hidden": True}
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        _code(CHECKER, count=1),
        nbformat.v4.new_markdown_cell("### Exercise 1: double it"),
        _code("def double(x):\n    ...  # YOUR CODE HERE", "exercise", count=2),
        _code("ok = check_double(double)", count=3, output="Not yet: return twice the input.\n"),
        solution,
        nbformat.v4.new_markdown_cell("## Summary"),
    ]
    return notebook


def _run(cells: list[NotebookNode]) -> list[tuple[str, str]]:
    """Run code cells in order in one namespace; per cell, what it printed and the error it raised ("" if none)."""
    namespace: dict[str, Any] = {}
    results = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        printed, error = io.StringIO(), ""
        with contextlib.redirect_stdout(printed):
            try:
                exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception as raised:  # the cells of a notebook may raise anything
                error = type(raised).__name__
        results.append((printed.getvalue(), error))
    return results


def test_solution_gets_markers_and_its_check_becomes_a_graded_cell() -> None:
    lesson = _lesson()
    prepared = prepare_for_nbgrader(lesson)
    assert len(prepared.cells) == len(lesson.cells) + 1
    check, solution, graded = prepared.cells[3:6]
    assert solution.source == f"{BEGIN_SOLUTION}\ndef double(x):\n    return 2 * x\n{END_SOLUTION}"
    assert solution.metadata["nbgrader"]["solution"] is True and not is_locked(solution)
    assert solution.metadata["tags"] == ["solution"] and solution.metadata["jupyter"] == {"source_hidden": True}
    assert graded.metadata["tags"] == [GRADED_TAG] and is_graded(graded) and is_locked(graded)
    assert graded.metadata["nbgrader"]["points"] == 1
    assert graded.source.splitlines()[1:] == ["assert check_double(double)"]
    assert is_locked(check) and not is_graded(check) and check.source == lesson.cells[3].source
    grade_ids = [cell.metadata["nbgrader"]["grade_id"] for cell in prepared.cells if "nbgrader" in cell.metadata]
    assert grade_ids == ["exercise-1-check", "exercise-1-solution", "exercise-1-graded"]
    assert nbformat.validate(prepared) is None
    assert prepared.cells[0] == lesson.cells[0] and prepared.cells[2] == lesson.cells[2]  # nothing else changes


def test_preparing_is_idempotent_and_leaves_its_input_alone() -> None:
    lesson = _lesson()
    before = nbformat.writes(lesson)
    once = prepare_for_nbgrader(lesson)
    assert nbformat.writes(lesson) == before
    assert prepare_for_nbgrader(once) == once


def test_problems_lists_what_is_missing_until_the_tool_ran() -> None:
    found = problems(_lesson())
    assert any("solution metadata" in line for line in found)
    assert any(BEGIN_SOLUTION in line for line in found)
    assert any("graded cell" in line for line in found)
    assert any("read-only" in line for line in found)
    assert problems(prepare_for_nbgrader(_lesson())) == []


def test_graded_cell_prints_the_same_verdict_and_raises_only_on_a_wrong_answer() -> None:
    original, prepared = _lesson(), prepare_for_nbgrader(_lesson())
    teaching = _run(prepared.cells)
    assert teaching == _run(original.cells)[:3] + [("", ""), _run(original.cells)[3]]
    assert teaching[-1] == ("Correct! doubling works.\n", "")  # the graded cell: the solution's own verdict
    student = _run(make_student_notebook(prepared).cells)
    assert student[-2] == ("", "NotImplementedError")  # the stub nbgrader also writes
    assert student[-1] == ("Not yet: return twice the input.\n", "AssertionError")  # no points


def test_the_student_edition_understands_the_markers() -> None:
    solution = _code(f"x = 1\n    {BEGIN_SOLUTION}\n    y = 2\n    {END_SOLUTION}\nprint(x)", "solution")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [solution, *prepare_for_nbgrader(_lesson()).cells]
    student = make_student_notebook(notebook)
    assert student.cells[0].source == "x = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\nprint(x)"
    assert student.cells[0].metadata["tags"] == [STUB_TAG]
    assert "y = 2" not in nbformat.writes(student)
    locked = [cell for cell in student.cells if is_locked(cell)]
    assert len(locked) == 2 and all(cell.metadata["editable"] is False for cell in locked)


def test_replace_solution_regions_like_nbgrader() -> None:
    assert replace_solution_regions("a = 1") == CODE_STUB  # no markers: the whole cell
    two = f"{BEGIN_SOLUTION}\na = 1\n{END_SOLUTION}\nb = 2\n{BEGIN_SOLUTION}\nc = 3\n{END_SOLUTION}"
    assert replace_solution_regions(two, stub="pass") == "pass\nb = 2\npass"
    with pytest.raises(ValueError, match="without"):
        replace_solution_regions(f"{BEGIN_SOLUTION}\na = 1")
    with pytest.raises(ValueError, match="nested"):
        replace_solution_regions(f"{BEGIN_SOLUTION}\n{BEGIN_SOLUTION}\n{END_SOLUTION}")


def test_hide_solution_outputs_also_clears_the_graded_cells(tmp_path: Path) -> None:
    prepared = prepare_for_nbgrader(_lesson())
    graded = prepared.cells[5]
    graded.execution_count, graded.outputs = 4, [nbformat.v4.new_output("stream", text="Correct! doubling works.\n")]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(prepared, path)
    assert hide_solution_outputs(path) == 1
    assert nbformat.read(path, as_version=4).cells[5].outputs == []


def test_command_line_applies_in_place_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lesson.ipynb"
    nbformat.write(_lesson(), path)
    assert main(["--check", str(path)]) == 1
    assert main(["--apply", str(path)]) == 0
    assert "prepared 1 of 1 notebooks" in capsys.readouterr().out
    assert main(["--check", str(path)]) == 0
    assert apply_to_file(path) is False  # idempotent on disk too


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_preparing_a_lesson_changes_nothing_that_nbval_compares(path: Path) -> None:
    lesson = nbformat.read(path, as_version=4)
    prepared = prepare_for_nbgrader(lesson)
    assert problems(prepared) == []

    def compared(notebook: NotebookNode) -> list[tuple[str, list, int]]:
        return [(cell.source, cell.outputs, cell.execution_count) for cell in notebook.cells
                if cell.cell_type == "code" and cell.execution_count is not None]

    assert compared(prepared) == compared(lesson)
    assert prepared.metadata == lesson.metadata


def test_every_lesson_is_an_nbgrader_assignment() -> None:
    """Fails until `python -m segedu.course.grading --apply notebooks/*.ipynb` has run on the lessons."""
    missing = {path.name: problems(nbformat.read(path, as_version=4)) for path in sorted(NOTEBOOKS.glob("*.ipynb"))}
    missing = {name: f"{len(found)} problems, first: {found[0]}" for name, found in missing.items() if found}
    assert not missing, f"run `python -m segedu.course.grading --apply notebooks/*.ipynb`: {missing}"
    graded = 0
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if is_graded(cell):
                graded += 1
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: a graded cell shows a verdict"
    assert graded >= 40
