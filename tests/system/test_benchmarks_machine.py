"""The machine description at the top of every benchmark report."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from benchmarks.machine import _cpu_model, describe_machine


def test_cpu_model_is_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: Made Up\nmodel name\t: Example CPU 9000 @ 3.00GHz\n")
    assert _cpu_model(cpuinfo) == "Example CPU 9000 @ 3.00GHz"


def test_cpu_model_falls_back_when_cpuinfo_is_missing(tmp_path: Path) -> None:
    assert _cpu_model(tmp_path / "missing")  # some non-empty description from the platform module


def test_machine_line_names_cores_threads_and_versions() -> None:
    machine = describe_machine(threads=3)
    assert machine.cores == os.cpu_count()
    assert machine.torch == torch.__version__
    line = machine.line()
    assert f"{os.cpu_count()} cores" in line
    assert "3 torch thread(s)" in line
    assert f"torch {torch.__version__}" in line
    assert machine.memory_gib > 0
