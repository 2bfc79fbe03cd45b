"""System tests: make, JupyterLab in a browser, subprocesses, slides and the benchmarks.

Everything in this folder is marked ``system``: ``make unit`` skips it for a fast loop, while
``make test`` runs it with the rest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.system)
