"""The machine description at the top of every benchmark report."""

from __future__ import annotations

import os

import torch

from benchmarks.machine import describe_machine


def test_machine_line_names_cores_threads_and_versions() -> None:
    machine = describe_machine(threads=3)
    assert machine.cores == os.cpu_count()
    assert machine.torch == torch.__version__
    line = machine.line()
    assert f"{os.cpu_count()} cores" in line
    assert "3 torch thread(s)" in line
    assert f"torch {torch.__version__}" in line
    assert machine.memory_gib > 0
