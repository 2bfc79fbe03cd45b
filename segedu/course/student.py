"""Build the student edition of the course: the lessons without their solutions or outputs.

Each lesson's exercises come in three cells: an *exercise* cell (tagged ``exercise``) holding a
stub to fill in, a check cell calling ``segedu.course.exercises.lessonNN.check_*``, and a hidden
*solution* cell (tagged ``solution``), followed by the *graded* cell that nbgrader scores (see
:mod:`segedu.course.grading`). The student edition keeps the cells and their layout but does what
``nbgrader generate_assignment`` does: each solution's ``### BEGIN SOLUTION`` … ``### END SOLUTION``
region (the whole cell in a lesson without markers) becomes ``# YOUR CODE HERE`` +
``raise NotImplementedError()``, and the cells nbgrader locks become read-only. It also clears
every output, execution count and the stored widget state: a solution's printout or a widget
snapshot would otherwise give it away.

Example:
    ``python -m segedu.course.student notebooks build/student`` (or ``make student``) writes one
    student copy of every ``notebooks/*.ipynb`` to ``build/student/``.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from segedu.course.grading import SOLUTION_TAG, is_graded, is_locked, replace_solution_regions

__all__ = [
    "REVEAL_TAG", "SOLUTION_TAG", "STUB_TAG", "build_student_edition", "hide_solution_outputs", "main",
    "make_student_notebook",
]

STUB_TAG = "solution-removed"
REVEAL_TAG = "reveal"  # a cell whose output answers a prediction exercise: stored, but collapsed until run


def make_student_notebook(notebook: NotebookNode) -> NotebookNode:
    """Return a student copy of ``notebook``: solutions replaced by stubs, all outputs cleared.

    Args:
        notebook: An nbformat v4 notebook; it is not modified.

    Returns:
        A new notebook with the same number of cells. Each code cell tagged ``solution`` becomes
        a visible code cell tagged ``solution-removed`` whose solution region is replaced by
        ``# YOUR CODE HERE`` + ``raise NotImplementedError()``; cells that nbgrader locks (checks,
        graded cells) are marked not editable and not deletable; every code cell loses its outputs
        and execution count; cell execution timings and the notebook's widget state are dropped.

    Example:
        >>> student = make_student_notebook(nbformat.read("notebooks/02_one_hot_and_argmax.ipynb", 4))
    """
    if notebook.get("nbformat") != 4:
        raise ValueError(f"expected an nbformat 4 notebook, got nbformat {notebook.get('nbformat')!r}")
    student = copy.deepcopy(notebook)
    student.metadata.pop("widgets", None)
    for cell in student.cells:
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            _replace_with_stub(cell)
        elif is_locked(cell):
            cell.metadata["editable"] = False
            cell.metadata["deletable"] = False
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return student


def hide_solution_outputs(path: Path | str) -> int:
    """Clear, in place, the outputs and execution counts of the solution and graded cells of one lesson.

    The committed lessons keep every other output (nbval compares them), but a solution's printout,
    or the ``Correct! <why>`` of the graded check after it, would show the answer to anyone reading
    the notebook on GitHub. A cell without an execution count is still run by nbval. A cell tagged
    ``reveal`` (the experiment that answers a prediction) keeps its output, which nbval compares, but
    is marked ``outputs_hidden``: JupyterLab shows it collapsed until the learner runs the cell or
    clicks it open.

    Args:
        path: A lesson notebook.

    Returns:
        How many cells were cleared or collapsed.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    cleared = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and (SOLUTION_TAG in cell.metadata.get("tags", []) or is_graded(cell)):
            cleared += bool(cell.outputs) or cell.execution_count is not None
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "code" and REVEAL_TAG in cell.metadata.get("tags", []):
            cleared += not cell.metadata.get("jupyter", {}).get("outputs_hidden", False)
            cell.metadata.setdefault("jupyter", {})["outputs_hidden"] = True
    if cleared:
        nbformat.write(notebook, path)
    return cleared


def build_student_edition(source_dir: Path | str, output_dir: Path | str) -> list[Path]:
    """Write a student copy of every ``*.ipynb`` in ``source_dir`` to ``output_dir``.

    Args:
        source_dir: Folder holding the lesson notebooks (e.g. ``notebooks``).
        output_dir: Folder for the student copies; created if missing, same file names.

    Returns:
        The paths written, in file-name order.
    """
    source_dir, output_dir = Path(source_dir), Path(output_dir)
    notebooks = sorted(source_dir.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"no *.ipynb notebooks found in {source_dir}: pass the folder holding the lessons")
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        student = make_student_notebook(nbformat.read(path, as_version=4))
        target = output_dir / path.name
        nbformat.write(student, target)
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m segedu.course.student SRC_DIR OUT_DIR``, or
    ``python -m segedu.course.student --hide-solution-outputs NOTEBOOK ...`` (used by ``make notebooks``)."""
    parser = argparse.ArgumentParser(
        prog="python -m segedu.course.student",
        description="Write the student edition of the lessons: solutions replaced by stubs, outputs cleared.",
    )
    parser.add_argument("source_dir", type=Path, nargs="?", help="folder with the lesson notebooks, e.g. notebooks")
    parser.add_argument("output_dir", type=Path, nargs="?", help="folder for the student copies, e.g. build/student")
    parser.add_argument("--hide-solution-outputs", type=Path, nargs="+", metavar="NOTEBOOK",
                        help="instead: clear the solution cells' outputs of these lessons in place")
    arguments = parser.parse_args(argv)
    if arguments.hide_solution_outputs:
        if arguments.source_dir is not None:
            parser.error("--hide-solution-outputs takes notebooks, not SRC_DIR OUT_DIR")
        cleared = sum(hide_solution_outputs(path) for path in arguments.hide_solution_outputs)
        print(f"cleared the outputs of solution and graded cells, or collapsed reveal cells: {cleared}")
        return 0
    if arguments.output_dir is None:
        parser.error("give SRC_DIR and OUT_DIR, e.g. `notebooks build/student`")
    written = build_student_edition(arguments.source_dir, arguments.output_dir)
    print(f"wrote {len(written)} student notebooks to {arguments.output_dir}")
    return 0


def _replace_with_stub(cell: NotebookNode) -> None:
    """Turn a solution cell, in place, into a visible code cell whose solution region is a stub."""
    cell.cell_type = "code"
    cell.source = replace_solution_regions(cell.source)
    cell.metadata.pop("jupyter", None)  # the stub is not hidden
    cell.metadata["tags"] = [STUB_TAG if tag == SOLUTION_TAG else tag for tag in cell.metadata["tags"]]
    cell.setdefault("outputs", [])
    cell.setdefault("execution_count", None)
    cell.pop("attachments", None)


if __name__ == "__main__":
    sys.exit(main())
