"""System tests: make, JupyterLab in a browser, subprocesses, slides and the benchmarks.

Everything in this folder is marked ``system``: ``make unit`` skips it for a fast loop, while
``make test`` runs it with the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent
_CHROMIUM = Path("/usr/bin/chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.system)


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs something missing; fail instead when SEGEDU_REQUIRE_BROWSER=1 (CI)."""
    if os.environ.get("SEGEDU_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and SEGEDU_REQUIRE_BROWSER=1 requires the browser test to run")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium for Playwright to drive, once it and the playwright package are known to be there.

    Without them the test is skipped (Debian: `apt-get install chromium`; `pip install playwright`), or fails
    when SEGEDU_REQUIRE_BROWSER=1.
    """
    if not _CHROMIUM.exists():
        skip_or_fail(f"{_CHROMIUM} not found (install it with `apt-get install chromium`)")
    try:
        import playwright.sync_api  # noqa: F401  (only its driver; no browser is downloaded)
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install playwright)")
    return _CHROMIUM


@pytest.fixture
def cut_the_network() -> Callable[[Any], list[str]]:
    """``cut(context)`` makes a Playwright browser context abort every request that would leave the machine.

    Local files, ``data:`` and ``blob:`` URLs still load. ``cut`` returns the list that it fills with the
    URLs it blocked, for the test to assert on.
    """

    def cut(context: Any) -> list[str]:
        blocked: list[str] = []

        def route(request_route: Any) -> None:
            if request_route.request.url.startswith(("file:", "data:", "blob:")):
                request_route.continue_()
            else:
                blocked.append(request_route.request.url)
                request_route.abort()

        context.route("**/*", route)
        return blocked

    return cut
