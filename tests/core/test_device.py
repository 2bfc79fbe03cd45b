"""The CPU's name that training records carry."""

from __future__ import annotations

from pathlib import Path

from segedu.core.device import cpu_name


def test_cpu_model_is_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: Made Up\nmodel name\t: Example CPU 9000 @ 3.00GHz\n")
    assert cpu_name(cpuinfo) == "Example CPU 9000 @ 3.00GHz"


def test_cpu_model_falls_back_when_cpuinfo_is_missing(tmp_path: Path) -> None:
    assert cpu_name(tmp_path / "missing")  # some non-empty description from the platform module
