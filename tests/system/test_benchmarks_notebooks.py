"""Notebook run time and peak memory, measured in a fresh process."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from benchmarks.notebooks import benchmark_notebooks, measure_notebook


def _notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nbformat.write(notebook, path)
    return path


def test_time_and_peak_memory_of_a_notebook(tmp_path: Path) -> None:
    # The kernel holds 300 MB of ones and sleeps 0.3 s: both must show up in the measurement.
    path = _notebook(
        tmp_path / "heavy.ipynb",
        "import time\nimport numpy as np",
        "block = np.ones(300 * 2**20, dtype=np.uint8)\ntime.sleep(0.3)",
    )
    run = measure_notebook(path)
    assert run["seconds"] >= 0.3
    assert run["peak_rss_bytes"] >= 300 * 2**20
    assert run["peak_rss_bytes"] < 4 * 2**30


def test_notebooks_run_in_their_own_folder(tmp_path: Path) -> None:
    # Lessons open files relative to notebooks/, so the kernel must start there.
    (tmp_path / "marker.txt").write_text("here")
    path = _notebook(tmp_path / "relative.ipynb", "assert open('marker.txt').read() == 'here'")
    assert measure_notebook(path)["seconds"] > 0


def test_a_failing_notebook_is_reported_with_its_error(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "broken.ipynb", "raise ValueError('lesson bug 42')")
    with pytest.raises(RuntimeError, match="broken.ipynb failed") as error:
        measure_notebook(path)
    assert "lesson bug 42" in str(error.value)


def test_missing_notebook_and_too_few_repeats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no notebook"):
        measure_notebook(tmp_path / "missing.ipynb")
    with pytest.raises(ValueError, match="at least 3"):
        benchmark_notebooks([tmp_path / "missing.ipynb"], repeats=1)
