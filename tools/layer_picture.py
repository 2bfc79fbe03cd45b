"""The README's picture of segedu's layers, drawn from the code as a Mermaid flowchart.

The layers and their order come from the layers contract in ``pyproject.toml``; what each layer
holds is the list of its public modules; the arrows are the imports that really exist between
layers, found by grimp (the import graph behind import-linter). An arrow pointing up would break
the contract and is drawn dotted with "breaks the contract".

``python -m tools.layer_picture`` prints the picture; ``--write`` replaces it in README.md between
the markers. ``tests/test_architecture.py`` fails when the README's copy is out of date.
"""

from __future__ import annotations

import argparse
import pkgutil
import sys
from importlib import import_module
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

__all__ = ["BEGIN_MARKER", "END_MARKER", "README", "layer_names", "layer_picture", "readme_with_picture"]

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BEGIN_MARKER = "<!-- layer picture: begin (python -m tools.layer_picture --write) -->"
END_MARKER = "<!-- layer picture: end -->"
_MODULES_PER_LINE = 4


def layer_names(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The layer packages of the contract named ``type = "layers"``, highest first.

    Returns:
        Full package names, e.g. ``["segedu.course", ..., "segedu.core"]``.
    """
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "layers":
            return list(contract["layers"])
    raise ValueError(f"{pyproject} has no import-linter contract of type 'layers'; add one")


def _public_modules(package_name: str) -> list[str]:
    package = import_module(package_name)
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))


def _node(package_name: str, number: int) -> str:
    short = package_name.rsplit(".", 1)[-1]
    modules = _public_modules(package_name)
    starts = range(0, len(modules), _MODULES_PER_LINE)
    lines = [" · ".join(modules[start : start + _MODULES_PER_LINE]) for start in starts]
    label = "<br/>".join([f"<b>{short}</b> (layer {number})", *lines])
    return f'    {short}["{label}"]'


def layer_picture(layers: list[str] | None = None) -> str:
    """The Mermaid flowchart of the layers: highest on top, one arrow per importing pair.

    Args:
        layers: Layer packages, highest first; by default those of ``pyproject.toml``.

    Returns:
        A fenced Mermaid block, ending with a newline.
    """
    import grimp

    layers = layer_names() if layers is None else layers
    graph = grimp.build_graph(layers[0].split(".")[0], cache_dir=None)
    lines = ["```mermaid", "flowchart TB"]
    lines += [_node(name, len(layers) - index) for index, name in enumerate(layers)]
    for upper_index, importer in enumerate(layers):
        for lower_index, imported in enumerate(layers):
            if importer == imported or not graph.direct_import_exists(
                importer=importer, imported=imported, as_packages=True
            ):
                continue
            source, target = importer.rsplit(".", 1)[-1], imported.rsplit(".", 1)[-1]
            arrow = "-->" if lower_index > upper_index else '-. "breaks the contract" .->'
            lines.append(f"    {source} {arrow} {target}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def readme_with_picture(readme_text: str, picture: str) -> str:
    """``readme_text`` with everything between the two markers replaced by ``picture``."""
    begin, end = readme_text.find(BEGIN_MARKER), readme_text.find(END_MARKER)
    if begin < 0 or end < begin:
        raise ValueError(f"README.md needs the lines {BEGIN_MARKER!r} and then {END_MARKER!r}; add them")
    head = readme_text[: begin + len(BEGIN_MARKER)]
    return f"{head}\n{picture}{readme_text[end:]}"


def main(arguments: list[str] | None = None) -> int:
    """Print the picture, or with ``--write`` put it into README.md."""
    parser = argparse.ArgumentParser(prog="python -m tools.layer_picture", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the picture in README.md")
    options = parser.parse_args(arguments)
    picture = layer_picture()
    if options.write:
        README.write_text(readme_with_picture(README.read_text(encoding="utf-8"), picture), encoding="utf-8")
    else:
        sys.stdout.write(picture)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
