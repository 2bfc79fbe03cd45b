"""pyproject.toml and environment.yml must list the same dependencies with the same ranges."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]
# conda-forge names that differ from PyPI names.
CONDA_TO_PYPI = {"pytorch": "torch"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    requirements.append(f"python{project['requires-python']}")
    return dict(_split(requirement) for requirement in requirements)


def _conda_requirements() -> dict[str, str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"], "use conda-forge only"
    found: dict[str, str] = {}
    for entry in environment["dependencies"]:
        entries = entry["pip"] if isinstance(entry, dict) else [entry]
        for requirement in entries:
            name, specifier = _split(requirement)
            found[CONDA_TO_PYPI.get(name, name)] = specifier
    return found


def test_environment_yml_matches_pyproject() -> None:
    pyproject, conda = _pyproject_requirements(), _conda_requirements()
    only_pyproject = sorted(set(pyproject) - set(conda))
    only_conda = sorted(set(conda) - set(pyproject))
    assert not only_pyproject and not only_conda, (
        f"missing from environment.yml: {only_pyproject}; missing from pyproject.toml: {only_conda}"
    )
    different = {name: (pyproject[name], conda[name]) for name in pyproject if pyproject[name] != conda[name]}
    assert not different, f"version ranges differ (pyproject, environment.yml): {different}"


def test_course_dependencies_are_declared() -> None:
    # The design card's packages must all be installed by `make lab` / `make test`.
    declared = _pyproject_requirements()
    for package in ["jupyterlab", "torch", "torchvision", "matplotlib", "numpy", "ipywidgets", "nbval"]:
        assert package in declared, f"{package} is not a dependency in pyproject.toml"


def test_ci_pins_live_in_one_place() -> None:
    # Exact pins belong in constraints.txt only; pyproject keeps loose ranges for learners.
    assert not any("==" in spec for spec in _pyproject_requirements().values())
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line]
    assert {_split(line)[0] for line in pins} >= {"torch", "torchvision"}
    assert "-c $(CONSTRAINTS)" in (ROOT / "Makefile").read_text()
