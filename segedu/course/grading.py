"""Make the lessons nbgrader assignments: solution regions, graded checks and read-only cells.

nbgrader (the grading system of many JupyterHubs) reads its own cell metadata. This module adds it
to a lesson, in place, without changing what the lesson prints:

- every **solution** cell (tagged ``solution``) becomes an nbgrader *solution* cell whose answer
  sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; ``nbgrader generate_assignment``
  (and ``make student``) replace that region with ``# YOUR CODE HERE`` + ``raise NotImplementedError()``;
- the ``check_*`` calls at the end of a solution cell move into a new **graded** cell right after
  it (tagged ``graded``): the same calls, each followed by an ``assert``, so the cell prints the
  check's usual ``Correct! ...`` and raises when the answer is wrong (a prediction of a measured
  outcome passes once it is recorded: see ``segedu.course.exercises._verdict``). nbgrader's
  ``autograde`` gives the cell's points when it runs without an error;
- the **check** cells that follow an exercise (the ones that print ``Not yet: ...`` until the
  learner answers) become *read-only*: nbgrader restores their source before grading.

Applying it twice changes nothing. Outputs are untouched: solution and graded cells have none in
the committed lessons (``make notebooks`` clears them), and no check cell's code changes.

Example:
    ``python -m segedu.course.grading --apply notebooks/*.ipynb`` prepares the lessons in place;
    ``python -m segedu.course.grading --check notebooks/*.ipynb`` lists what is missing.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

__all__ = [
    "BEGIN_SOLUTION",
    "CODE_STUB",
    "END_SOLUTION",
    "EXERCISE_TAG",
    "GRADED_TAG",
    "SOLUTION_TAG",
    "apply_to_file",
    "is_graded",
    "is_locked",
    "main",
    "prepare_for_nbgrader",
    "problems",
    "replace_solution_regions",
]

SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
GRADED_TAG = "graded"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
# What nbgrader's ClearSolutions puts in place of a solution region in a Python notebook.
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
SCHEMA_VERSION = 3  # nbgrader's cell-metadata schema (nbgrader 0.7 to 0.9)
POINTS = 1  # per graded cell; a teacher may change them in the metadata or nbgrader's formgrader

_GRADED_NOTE = "# Graded (nbgrader): this cell raises unless every check says Correct!"


def is_graded(cell: NotebookNode) -> bool:
    """Whether nbgrader gives points for running ``cell`` without an error."""
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


def is_locked(cell: NotebookNode) -> bool:
    """Whether nbgrader treats ``cell`` as read-only (a locked or graded cell that is not a solution)."""
    grading = cell.metadata.get("nbgrader", {})
    return not grading.get("solution") and bool(grading.get("locked") or grading.get("grade"))


def replace_solution_regions(source: str, stub: str = CODE_STUB) -> str:
    """Replace every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region of ``source`` with ``stub``.

    The stub takes the indentation of the ``BEGIN`` line, as nbgrader does; a source without
    markers is replaced as a whole.

    Args:
        source: A solution cell's source.
        stub: What replaces each region.

    Returns:
        The source the learner gets.

    Raises:
        ValueError: If a region is not closed, or regions are nested.
    """
    if BEGIN_SOLUTION not in source:
        return stub
    lines, inside = [], False
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line:
            if inside:
                raise ValueError(f"nested {BEGIN_SOLUTION!r} in a solution cell:\n{source}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + stub_line for stub_line in stub.split("\n")]
        elif END_SOLUTION in line:
            inside = False
        elif not inside:
            lines.append(line)
    if inside:
        raise ValueError(f"{BEGIN_SOLUTION!r} without {END_SOLUTION!r} in a solution cell:\n{source}")
    return "\n".join(lines)


def prepare_for_nbgrader(notebook: NotebookNode) -> NotebookNode:
    """Return a copy of a lesson with nbgrader's metadata on its exercises (see the module docstring).

    Cells that already carry nbgrader metadata keep it, so a prepared lesson comes back unchanged.

    Args:
        notebook: An nbformat v4 lesson; it is not modified.

    Returns:
        The prepared copy: one graded cell more per solution cell that ended in ``check_*`` calls.
    """
    if notebook.get("nbformat") != 4:
        raise ValueError(f"expected an nbformat 4 notebook, got nbformat {notebook.get('nbformat')!r}")
    prepared = copy.deepcopy(notebook)
    used = {cell.metadata["nbgrader"].get("grade_id") for cell in prepared.cells if "nbgrader" in cell.metadata}
    graded_after: dict[int, NotebookNode] = {}
    for index, cell, role, exercise in _exercise_cells(prepared.cells):
        if role == "solution":
            checks = _prepare_solution(cell, _new_id(f"exercise-{exercise}-solution", used))
            following = prepared.cells[index + 1] if index + 1 < len(prepared.cells) else None
            if checks and not (following is not None and is_graded(following)):
                graded_after[index] = _graded_cell(checks, cell, _new_id(f"exercise-{exercise}-graded", used))
        elif role == "check" and "nbgrader" not in cell.metadata:
            cell.metadata["nbgrader"] = _metadata(_new_id(f"exercise-{exercise}-check", used), locked=True)
    prepared.cells = [
        added for index, cell in enumerate(prepared.cells) for added in (cell, graded_after.get(index)) if added
    ]
    return prepared


def problems(notebook: NotebookNode) -> list[str]:
    """What keeps a lesson from being an nbgrader assignment; empty when it is one.

    Args:
        notebook: An nbformat v4 lesson.

    Returns:
        One line per problem, naming the cell by its index.
    """
    found, grade_ids = [], set()
    for index, cell in enumerate(notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            if grade_id in grade_ids:
                found.append(f"cell {index}: grade_id {grade_id!r} is used twice")
            grade_ids.add(grade_id)
    for index, cell, role, _ in _exercise_cells(notebook.cells):
        grading = cell.metadata.get("nbgrader", {})
        if role == "solution":
            if not grading.get("solution"):
                found.append(f"cell {index}: solution cell without nbgrader's solution metadata")
            if BEGIN_SOLUTION not in cell.source or END_SOLUTION not in cell.source:
                found.append(f"cell {index}: solution cell without {BEGIN_SOLUTION} / {END_SOLUTION}")
            following = notebook.cells[index + 1] if index + 1 < len(notebook.cells) else None
            if following is None or not is_graded(following) or not following.metadata["nbgrader"].get("points"):
                found.append(f"cell {index}: solution cell not followed by a graded cell with points")
            elif "assert" not in following.source or not _check_calls(following.source):
                found.append(f"cell {index + 1}: graded cell that asserts no check_* call")
        elif role == "check" and not is_locked(cell) and not is_graded(cell):
            found.append(f"cell {index}: check cell not read-only (nbgrader locked)")
    return found


def apply_to_file(path: Path | str) -> bool:
    """Prepare one lesson file in place; return whether it changed."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    prepared = prepare_for_nbgrader(notebook)
    if prepared == notebook:
        return False
    nbformat.validate(prepared)
    nbformat.write(prepared, path)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m segedu.course.grading --apply|--check NOTEBOOK ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m segedu.course.grading",
        description="Add nbgrader's metadata (solution regions, graded checks, read-only cells) to lessons.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--apply", action="store_true", help="prepare the notebooks in place (idempotent)")
    action.add_argument("--check", action="store_true", help="only list what is missing; exit 1 if anything is")
    parser.add_argument("notebooks", type=Path, nargs="+", metavar="NOTEBOOK")
    arguments = parser.parse_args(argv)
    if arguments.apply:
        changed = [path for path in arguments.notebooks if apply_to_file(path)]
        print(f"prepared {len(changed)} of {len(arguments.notebooks)} notebooks for nbgrader")
        return 0
    missing = 0
    for path in arguments.notebooks:
        for problem in problems(nbformat.read(path, as_version=4)):
            print(f"{path}: {problem}")
            missing += 1
    print(f"{missing} problems in {len(arguments.notebooks)} notebooks")
    return 1 if missing else 0


def _exercise_cells(cells: list[NotebookNode]) -> Iterator[tuple[int, NotebookNode, str, int]]:
    """The code cells that grading touches, as ``(index, cell, role, exercise number)``.

    ``role`` is ``"solution"`` for a cell tagged ``solution``, or ``"check"`` for a cell that calls a
    ``check_*`` function between an exercise cell and its solution (those are locked). The exercise
    number counts solutions from 1: a check cell belongs to the solution that follows it.
    """
    solutions = 0
    after_exercise = False
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if EXERCISE_TAG in tags:
            after_exercise = True
        elif SOLUTION_TAG in tags:
            after_exercise = False
            solutions += 1
            yield index, cell, "solution", solutions
        elif after_exercise and _check_calls(cell.source):
            yield index, cell, "check", solutions + 1


def _metadata(
    grade_id: str, *, solution: bool = False, locked: bool = False, points: int | None = None
) -> dict[str, Any]:
    """nbgrader's cell metadata (schema 3)."""
    metadata = {
        "grade": points is not None,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        metadata["points"] = points
    return metadata


def _new_id(base: str, used: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``, … whichever is free; marked as used."""
    candidate, number = base, 1
    while candidate in used:
        number += 1
        candidate = f"{base}-{number}"
    used.add(candidate)
    return candidate


def _check_calls(source: str) -> list[ast.stmt]:
    """The top-level statements of ``source`` that call (or assign the result of) a ``check_*`` function."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for statement in tree.body:
        value = statement.test if isinstance(statement, ast.Assert) else getattr(statement, "value", None)
        if not isinstance(statement, (ast.Expr, ast.Assign, ast.Assert)):
            value = None
        if isinstance(value, ast.Call):
            function = value.func
            name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            if name.startswith("check_"):
                found.append(statement)
    return found


def _prepare_solution(cell: NotebookNode, grade_id: str) -> list[str]:
    """Mark a solution cell's answer, in place; return the check statements moved out of it."""
    checks: list[str] = []
    if BEGIN_SOLUTION not in cell.source:
        lines = cell.source.split("\n")
        moved = set()
        for statement in _check_calls(cell.source):
            checks.append(ast.get_source_segment(cell.source, statement) or ast.unparse(statement))
            moved.update(range(statement.lineno - 1, statement.end_lineno))
        kept = [line for number, line in enumerate(lines) if number not in moved]
        body = re.sub(r"\n{3,}", "\n\n\n", "\n".join(kept)).strip("\n")
        cell.source = f"{BEGIN_SOLUTION}\n{body}\n{END_SOLUTION}"
    if "nbgrader" not in cell.metadata:
        cell.metadata["nbgrader"] = _metadata(grade_id, solution=True)
    return checks


def _graded_cell(checks: list[str], solution: NotebookNode, grade_id: str) -> NotebookNode:
    """The graded cell after ``solution``: each check, then an assert that it passed."""
    lines = [_GRADED_NOTE]
    for check in checks:
        statement = ast.parse(check).body[0]
        target = statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
        if isinstance(target, ast.Name):
            lines += [check, f"assert {target.id}"]
        elif isinstance(statement, ast.Assert):
            lines.append(check)
        else:
            lines.append(f"assert {check}")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    if "id" in solution:
        cell.id = f"{solution.id}-graded"[:64]
    else:
        cell.pop("id", None)
    cell.metadata["tags"] = [GRADED_TAG]
    slideshow = solution.metadata.get("slideshow")
    if slideshow:
        cell.metadata["slideshow"] = copy.deepcopy(slideshow)
    cell.metadata["nbgrader"] = _metadata(grade_id, locked=True, points=POINTS)
    return cell


if __name__ == "__main__":
    sys.exit(main())
