"""The real nbgrader on a copy of the course: generate_assignment, then autograde two submissions.

The lessons are copied, prepared with ``segedu.course.grading`` (what the committed lessons carry once
`python -m segedu.course.grading --apply notebooks/*.ipynb` has run) and made one nbgrader
assignment. ``generate_assignment`` must release every lesson; ``autograde`` runs one lesson as the
teacher's edition (every graded cell gets its points) and as the untouched `make student` edition
(none do). Autograding executes the lesson twice, so only lesson 02 (four exercises, ~10 s to run)
is graded by default; SEGEDU_NBGRADER_LESSONS=all grades every lesson with exercises (minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from segedu.course.grading import (
    BEGIN_SOLUTION,
    SOLUTION_TAG,
    is_graded,
    prepare_for_nbgrader,
    replace_solution_regions,
)
from segedu.course.student import make_student_notebook

nbgrader_api = pytest.importorskip("nbgrader.api", reason="nbgrader comes with the test extra (make setup)")

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "segedu"
DEFAULT_LESSON = "02_one_hot_and_argmax"
CONFIG = """c = get_config()
c.CourseDirectory.course_id = "segedu"
c.Execute.timeout = 300  # seconds per cell; nbgrader's default of 30 is short for a busy machine
"""


def _nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m nbgrader ARGUMENTS`` in the course folder (nbgrader reads nbgrader_config.py there)."""
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # nbgrader runs `alembic`
        "JUPYTER_CONFIG_DIR": str(course / ".jupyter-config"),  # no user configuration
        "JUPYTER_RUNTIME_DIR": str(course / ".jupyter-runtime"),
    }
    command = [sys.executable, "-m", "nbgrader", *arguments]
    return subprocess.run(
        command, cwd=course, env=environment, capture_output=True, text=True, timeout=1200, check=False
    )


def _graded_lessons() -> list[str]:
    chosen = os.environ.get("SEGEDU_NBGRADER_LESSONS", DEFAULT_LESSON)
    if chosen != "all":
        return chosen.split(",")
    return [path.stem for path in sorted(ROOT.glob("notebooks/*.ipynb"))
            if any(SOLUTION_TAG in cell.metadata.get("tags", []) for cell in nbformat.read(path, as_version=4).cells)]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course folder whose assignment holds every lesson, prepared for nbgrader and released."""
    from jupyter_client.kernelspec import KernelSpecManager

    lessons = sorted(ROOT.glob("notebooks/*.ipynb"))
    kernels = {nbformat.read(path, as_version=4).metadata.get("kernelspec", {}).get("name") for path in lessons}
    missing = kernels - set(KernelSpecManager().find_kernel_specs())
    if missing:
        pytest.skip(f"kernels {sorted(missing)} are not installed (make setup installs the segedu kernel)")
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(CONFIG)
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in lessons:
        nbformat.write(prepare_for_nbgrader(nbformat.read(path, as_version=4)), source / path.name)
    start = time.monotonic()
    completed = _nbgrader(course, "generate_assignment", ASSIGNMENT)
    print(f"nbgrader generate_assignment: {time.monotonic() - start:.1f} s")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return course


def test_generate_assignment_releases_every_lesson_without_its_solutions(course: Path) -> None:
    released = course / "release" / ASSIGNMENT
    lessons = sorted(path.name for path in ROOT.glob("notebooks/*.ipynb"))
    assert sorted(path.name for path in released.glob("*.ipynb")) == lessons
    stubs = 0
    for path in sorted(released.glob("*.ipynb")):
        release = nbformat.read(path, as_version=4)
        source = nbformat.read(course / "source" / ASSIGNMENT / path.name, as_version=4)
        student = make_student_notebook(source)  # what `make student` hands out
        assert len(release.cells) == len(source.cells) == len(student.cells), path.name
        for released_cell, source_cell, student_cell in zip(release.cells, source.cells, student.cells):
            assert BEGIN_SOLUTION not in released_cell.source, path.name
            if SOLUTION_TAG in source_cell.metadata.get("tags", []):
                stubs += 1
                assert released_cell.source == replace_solution_regions(source_cell.source) == student_cell.source
            else:
                assert released_cell.source == source_cell.source == student_cell.source, path.name
            if released_cell.cell_type == "code":
                assert released_cell.outputs == [], path.name
    assert stubs >= 40


@pytest.mark.parametrize("lesson", _graded_lessons())
def test_autograde_gives_the_solutions_every_point_and_the_student_edition_none(course: Path, lesson: str) -> None:
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{lesson}.ipynb", as_version=4)
    assert sum(is_graded(cell) for cell in source.cells) >= 1, f"{lesson} has no graded cell"
    submissions = {"teacher": source, "learner": make_student_notebook(source)}
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / ASSIGNMENT
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{lesson}.ipynb")
    start = time.monotonic()
    completed = _nbgrader(course, "autograde", ASSIGNMENT, "--force")
    print(f"nbgrader autograde of {lesson}, twice: {time.monotonic() - start:.1f} s")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with nbgrader_api.Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        teacher = gradebook.find_submission_notebook(lesson, ASSIGNMENT, "teacher")
        learner = gradebook.find_submission_notebook(lesson, ASSIGNMENT, "learner")
        failed = [grade.name for grade in teacher.grades if grade.score != grade.max_score]
        assert teacher.max_score >= 1 and not failed, f"{lesson}: the solutions fail {failed}"
        assert teacher.score == teacher.max_score
        assert learner.max_score == teacher.max_score and learner.score == 0
    graded = nbformat.read(course / "autograded" / "teacher" / ASSIGNMENT / f"{lesson}.ipynb", as_version=4)
    printed = ["".join(output.get("text", "") for output in cell.outputs) for cell in graded.cells if is_graded(cell)]
    assert all(text.startswith("Correct!") or "\nCorrect!" in text for text in printed), printed
