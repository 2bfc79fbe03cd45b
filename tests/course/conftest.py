"""Fixtures shared by the tests of the course's stored-study scripts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from experiments import _pool_study


class _SerialContext:
    """Stands in for a multiprocessing context: a 'pool' that maps in this process."""

    def Pool(self, workers: int) -> "_SerialContext":  # noqa: N802 (mirrors multiprocessing's name)
        return self

    def __enter__(self) -> "_SerialContext":
        return self

    def __exit__(self, *exception: object) -> None:
        return None

    def imap(self, function: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[Any]:
        return map(function, jobs)


@pytest.fixture
def pool_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a study's jobs in the test's own process, so that monkeypatched functions reach them."""
    monkeypatch.setattr(_pool_study.multiprocessing, "get_context", lambda method: _SerialContext())
