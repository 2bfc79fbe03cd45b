"""`segedu doctor` as a command: it reports a healthy machine and names each broken piece with a fix.

Each test starts a fresh Python (torch, torchvision, JupyterLab imports): seconds each, so they are
system tests; tests/course/test_doctor.py checks the same rows in process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _doctor(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEGEDU_DATA_DIR": str(tmp_path / "data"), **environment}
    return subprocess.run(
        [sys.executable, "-m", "segedu", "doctor"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_healthy_environment_passes(tmp_path: Path) -> None:
    result = _doctor(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ["Python", "torch", "torchvision", "ipywidgets", "JupyterLab", "device", "data folder"]:
        assert name in result.stdout
    assert "threads" in result.stdout and "PROBLEM" not in result.stdout


def test_missing_torchvision_is_named(tmp_path: Path) -> None:
    # A package on PYTHONPATH that shadows torchvision and fails to import, as a broken install would.
    shadow = tmp_path / "shadow" / "torchvision"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named torchvision')\n")
    result = _doctor(tmp_path, PYTHONPATH=str(shadow.parent))
    assert result.returncode == 1
    problem_lines = [line for line in result.stdout.splitlines() if "PROBLEM" in line]
    assert any(line.startswith("torchvision") for line in problem_lines), result.stdout
    assert "torchvision cannot be imported" in result.stdout and "make lab" in result.stdout


def test_unwritable_data_folder_is_named(tmp_path: Path) -> None:
    # A data folder below a regular file cannot be created, even by root (CI runs as root).
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = _doctor(tmp_path, SEGEDU_DATA_DIR=str(blocker / "data"))
    assert result.returncode == 1
    assert any(line.startswith("data folder") and "PROBLEM" in line for line in result.stdout.splitlines())
    assert "SEGEDU_DATA_DIR" in result.stdout
