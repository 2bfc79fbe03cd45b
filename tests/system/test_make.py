"""`make lab` / `make test` install only when the dependency files changed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _question(*arguments: str) -> int:
    # `make -q` runs nothing: exit 0 means "up to date", 1 means "would rebuild".
    return subprocess.run(["make", "-q", *arguments], cwd=ROOT, capture_output=True, timeout=60).returncode


def test_setup_is_skipped_when_nothing_changed() -> None:
    assert _question("setup") == 0


@pytest.mark.parametrize("changed", ["pyproject.toml", "constraints.txt"])
def test_setup_reruns_when_a_dependency_file_changes(changed: str) -> None:
    assert _question("-W", changed, "setup") == 1
