"""The student edition (``python -m segedu.course.student``): no solution leaks, the checks still grade.

The edition is built once per module through the command line's ``main``, in this process, into a
temporary folder; tests/system/test_student_command.py runs the real command in a subprocess.
"""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import NotebookNode

from segedu.course.grading import CODE_STUB
from segedu.course.lessons import LESSONS
from segedu.course.student import STUB_TAG, hide_solution_outputs, make_student_notebook
from segedu.course.student import main as student_main

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _tagged(cell: NotebookNode, tag: str) -> bool:
    return tag in cell.metadata.get("tags", [])


def _read(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("student")
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert student_main([str(NOTEBOOKS), str(output)]) == 0
    assert f"to {output}" in printed.getvalue()
    return output


def test_every_lesson_with_solutions_gets_a_copy_with_the_same_cells(student_dir: Path) -> None:
    with_solutions = 0
    for lesson in LESSONS:
        original = _read(NOTEBOOKS / lesson.notebook)
        if not any(_tagged(cell, "solution") for cell in original.cells):
            continue
        with_solutions += 1
        student = _read(student_dir / lesson.notebook)
        assert len(student.cells) == len(original.cells), lesson.notebook
        nbformat.validate(student)
        for before, after in zip(original.cells, student.cells):
            if _tagged(before, "solution"):
                assert after.cell_type == "code" and _tagged(after, STUB_TAG)
                assert after.source.startswith("# YOUR CODE HERE")
                assert "source_hidden" not in str(after.metadata)
            else:
                assert after.source == before.source  # everything else is kept as it was
    assert with_solutions >= 10


def test_no_solution_line_appears_in_the_student_edition(student_dir: Path) -> None:
    checked = 0
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        original = _read(path)
        given = "\n".join(cell.source for cell in original.cells if not _tagged(cell, "solution"))
        student_text = "\n".join(cell.source for cell in _read(student_dir / path.name).cells)
        for cell in original.cells:
            if not _tagged(cell, "solution"):
                continue
            for line in cell.source.splitlines():
                line = line.strip()
                if len(line) < 12 or line.startswith("#") or line in given:
                    continue  # trivial, a comment, or printed in the lesson already (a check call)
                checked += 1
                assert line not in student_text, f"{path.name}: solution line leaked: {line!r}"
    assert checked > 50  # the test looked at real solution code


def test_student_copies_have_no_outputs_and_no_widget_state(student_dir: Path) -> None:
    for path in sorted(student_dir.glob("*.ipynb")):
        student = _read(path)
        assert "widgets" not in student.metadata, path.name
        for cell in student.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
                assert "execution" not in cell.metadata


def test_make_student_notebook_leaves_its_input_alone() -> None:
    original = _read(NOTEBOOKS / "02_one_hot_and_argmax.ipynb")
    before = nbformat.writes(original)
    student = make_student_notebook(original)
    assert nbformat.writes(original) == before
    stubs = [cell.source for cell in student.cells if _tagged(cell, STUB_TAG)]
    assert stubs == [CODE_STUB] * 4  # what nbgrader's generate_assignment writes: # YOUR CODE HERE + raise


def test_make_student_notebook_rejects_an_old_format() -> None:
    with pytest.raises(ValueError, match="nbformat 4"):
        make_student_notebook(NotebookNode(nbformat=3, metadata={}, worksheets=[]))


# --- The checks grade: False on the student's stubs, True once the solution is in. ---------------


def _imports_before(cells: list[NotebookNode], index: int) -> str:
    """Every import statement of the code cells before ``index``: what an exercise may rely on."""
    statements = []
    for cell in cells[:index]:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            statements += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(statements)


def _run(source: str, namespace: dict[str, Any]) -> None:
    """Execute a cell's source in ``namespace``, keeping its printout out of the test log."""
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, "<cell>", "exec"), namespace)


def _check(source: str, namespace: dict[str, Any]) -> Any:
    """Run a check cell; return its last expression's value, or the value its last line assigns."""
    tree = ast.parse(source)
    last = tree.body[-1]
    if isinstance(last, ast.Expr):
        _run(ast.unparse(ast.Module(tree.body[:-1], type_ignores=[])), namespace)
        with contextlib.redirect_stdout(io.StringIO()):
            return eval(compile(ast.Expression(last.value), "<check>", "eval"), namespace)
    assert isinstance(last, ast.Assign) and isinstance(last.targets[0], ast.Name), f"unexpected check cell {source!r}"
    _run(source, namespace)
    return namespace[last.targets[0].id]


@pytest.mark.parametrize("notebook", ["02_one_hot_and_argmax.ipynb", "06_upsampling.ipynb"])
def test_checks_fail_on_the_stubs_and_pass_on_the_solutions(student_dir: Path, notebook: str) -> None:
    original = _read(NOTEBOOKS / notebook)
    student = _read(student_dir / notebook)
    exercises = [index for index, cell in enumerate(student.cells) if _tagged(cell, "exercise")]
    assert len(exercises) >= 3
    for index in exercises:
        exercise, check, stub = student.cells[index : index + 3]
        assert "check_" in check.source and _tagged(stub, STUB_TAG), f"{notebook} cell {index}"
        namespace: dict[str, Any] = {}
        _run(_imports_before(student.cells, index), namespace)
        _run(exercise.source, namespace)
        assert _check(check.source, namespace) is False, f"{notebook}: the stub of cell {index} passed its check"
        with pytest.raises(NotImplementedError):
            _run(stub.source, namespace)  # the student's stub, as nbgrader writes it
        _run(original.cells[index + 2].source, namespace)  # the instructor's solution
        assert _check(check.source, namespace) is True, f"{notebook}: the solution of cell {index} failed"


def test_committed_lessons_show_no_solution_output():
    """A learner reading a lesson on GitHub must not see a solution's printout (make notebooks clears them)."""
    notebooks = sorted(Path(__file__).resolve().parents[2].joinpath("notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 11
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if "solution" in cell.metadata.get("tags", []):
                assert not cell.get("outputs") and cell.get("execution_count") is None, path.name


def test_hide_solution_outputs_clears_only_solutions(tmp_path):
    notebook = nbformat.v4.new_notebook()
    shown = nbformat.v4.new_code_cell("print(1)", execution_count=1,
                                      outputs=[nbformat.v4.new_output("stream", text="1\n")])
    solution = nbformat.v4.new_code_cell("print(2)", execution_count=2,
                                         outputs=[nbformat.v4.new_output("stream", text="2\n")])
    solution.metadata["tags"] = ["solution"]
    notebook.cells = [shown, solution]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook, path)
    assert hide_solution_outputs(path) == 1
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].outputs[0].text == "1\n" and cells[0].execution_count == 1
    assert cells[1].outputs == [] and cells[1].execution_count is None
    assert hide_solution_outputs(path) == 0


def test_hide_solution_outputs_collapses_reveal_cells_and_keeps_their_output(tmp_path):
    notebook = nbformat.v4.new_notebook()
    reveal = nbformat.v4.new_code_cell("print(3)", execution_count=1,
                                       outputs=[nbformat.v4.new_output("stream", text="3\n")])
    reveal.metadata["tags"] = ["reveal"]
    notebook.cells = [reveal]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook, path)
    assert hide_solution_outputs(path) == 1
    cell = nbformat.read(path, as_version=4).cells[0]
    assert cell.metadata.jupyter.outputs_hidden is True  # collapsed in JupyterLab until run or clicked
    assert cell.outputs[0].text == "3\n" and cell.execution_count == 1  # stored, so nbval still compares it
    assert hide_solution_outputs(path) == 0


def test_committed_reveal_cells_store_their_output_collapsed() -> None:
    """The experiment that answers a prediction is compared by nbval but not on display before it is run."""
    notebooks = sorted(Path(__file__).resolve().parents[2].joinpath("notebooks").glob("*.ipynb"))
    reveals = 0
    for path in notebooks:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if "reveal" in cell.metadata.get("tags", []):
                reveals += 1
                assert cell.cell_type == "code" and cell.outputs and cell.execution_count, f"{path.name} cell {index}"
                assert cell.metadata.get("jupyter", {}).get("outputs_hidden") is True, f"{path.name} cell {index}"
    assert reveals >= 2


def test_every_solution_cell_is_collapsed() -> None:
    """A learner opening a lesson sees the exercise, not its solution, until they expand it."""
    notebooks = sorted(Path(__file__).resolve().parents[2].joinpath("notebooks").glob("*.ipynb"))
    for path in notebooks:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if "solution" in cell.metadata.get("tags", []):
                assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{path.name} cell {index}"


def test_the_welcome_names_the_lessons_that_mark_reveal_cells() -> None:
    notebooks = Path(__file__).resolve().parents[2].joinpath("notebooks")
    marked = sorted(path.name[:2] for path in notebooks.glob("*.ipynb")
                    if any("reveal" in cell.metadata.get("tags", []) for cell in nbformat.read(path, as_version=4).cells))
    welcome = "".join(cell.source for cell in nbformat.read(notebooks / "00_welcome.ipynb", as_version=4).cells)
    named = ", ".join(marked[:-1]) + " and " + marked[-1]
    assert f"Where a lesson marks it (lessons {named} so far)" in welcome.replace("\n", " ")
