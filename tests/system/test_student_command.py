"""`python -m segedu.course.student SRC OUT` (what `make student` runs) works as a real command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_command_writes_one_student_copy_per_lesson(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "segedu.course.student", str(NOTEBOOKS), str(tmp_path)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    written = sorted(path.name for path in tmp_path.glob("*.ipynb"))
    assert written == sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))
    assert f"wrote {len(written)} student notebooks" in completed.stdout
    for name in written:
        notebook = nbformat.read(tmp_path / name, as_version=4)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), name
