"""The package's shape is a checked contract: layers import only down, and stay small and described.

The layers and their order live in ``pyproject.toml`` (``[tool.importlinter]``); import-linter checks
them here, so ``make unit`` and ``make test`` fail with its report when an import points up, a model
imports other layers, or modules inside a layer import each other in a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

from tools.layer_picture import BEGIN_MARKER, END_MARKER, README, layer_names, layer_picture, readme_with_picture

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "segedu"
MAX_TOP_LEVEL_ENTRIES = 10
MAX_MODEL_LINES = 150


def test_import_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    from importlinter.cli import lint_imports

    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert exit_code == 0, f"the layer contract is broken; import-linter says:\n{report}"
    assert "BROKEN" not in report and "KEPT" in report


def test_every_layer_is_in_every_contract() -> None:
    sub_packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    layers = set(layer_names())
    assert {name.removeprefix("segedu.") for name in layers} == sub_packages
    contracts = {contract["type"]: contract for contract in _contracts()}
    assert set(contracts["forbidden"]["forbidden_modules"]) == layers - {"segedu.models"}
    assert set(contracts["acyclic_siblings"]["ancestors"]) == layers | {"segedu"}


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def test_package_has_few_top_level_entries() -> None:
    entries = sorted(path.name for path in PACKAGE.iterdir() if path.name != "__pycache__")
    assert len(entries) <= MAX_TOP_LEVEL_ENTRIES, (
        f"segedu/ has {len(entries)} entries, more than {MAX_TOP_LEVEL_ENTRIES}: {entries}; "
        "put the new module inside the layer it belongs to"
    )


def test_model_files_are_short() -> None:
    paths = sorted((PACKAGE / "models").glob("*.py"))
    lengths = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in paths}
    too_long = {name: count for name, count in sorted(lengths.items()) if count > MAX_MODEL_LINES}
    assert not too_long, f"model files over {MAX_MODEL_LINES} lines (one architecture per short file): {too_long}"


@pytest.mark.parametrize("package", layer_names())
def test_layer_docstring_states_its_layer_and_imports(package: str) -> None:
    layers = layer_names()
    number = len(layers) - layers.index(package)  # the lowest layer is layer 1
    path = PACKAGE / package.removeprefix("segedu.") / "__init__.py"
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert re.search(rf"\bLayer {number}\b", docstring), f"{path}: the docstring should say 'Layer {number}'"
    assert re.search(r"\b[Ii]mports?\b", docstring), f"{path}: the docstring should say what the layer may import"


def test_readme_layer_picture_is_current() -> None:
    readme = README.read_text(encoding="utf-8")
    assert BEGIN_MARKER in readme and END_MARKER in readme
    assert readme_with_picture(readme, layer_picture()) == readme, (
        "the layer picture in README.md is out of date; run `python -m tools.layer_picture --write`"
    )


def test_readme_picture_replaces_only_the_marked_block() -> None:
    text = f"before\n{BEGIN_MARKER}\nold picture\n{END_MARKER}\nafter\n"
    assert readme_with_picture(text, "new\n") == f"before\n{BEGIN_MARKER}\nnew\n{END_MARKER}\nafter\n"
    with pytest.raises(ValueError, match="markers|needs the lines"):
        readme_with_picture("no markers here", "new\n")
