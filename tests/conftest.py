"""Shared test settings: one CPU thread per test process.

`make test` runs two pytest workers on two cores; letting each use two torch threads makes them
fight for the cores and some tests ten times slower. One thread each is fast and steady.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
