"""Shared test settings: one CPU thread per test process; a tiny FCN for the FCN read-out tests.

`make test` runs two pytest workers on two cores; letting each use two torch threads makes them
fight for the cores and some tests ten times slower. One thread each is fast and steady.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch

from segedu.datasets import ShapesScenes
from segedu.models import FCN


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _make_small_fcn(variant: str, seed: int = 0) -> FCN:
    torch.manual_seed(seed)
    model = FCN(3, 4, variant=variant, base_channels=4, fc_channels=8)
    with torch.no_grad():  # the skip scores start at zero; give them weights so every stage matters
        for name in ("score_fr", "score_pool4", "score_pool3"):
            if hasattr(model, name):
                getattr(model, name).weight.normal_(std=3.0)
        for module in model.modules():  # BatchNorm statistics of a few scenes, so features vary in space
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = None  # a plain average over the batches seen
        model.train()(torch.stack([image for image, _ in ShapesScenes("train", length=8, size=64)]))
    return model.eval()


@pytest.fixture
def small_fcn() -> Callable[..., FCN]:
    """A tiny FCN of the named variant whose skip scores and batch-norm statistics are not trivial."""
    return _make_small_fcn
