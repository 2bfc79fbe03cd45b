"""The stamping stepper walks through a transposed convolution and ends at PyTorch's result."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from segedu.widgets.transposed_conv_stepper import transposed_conv_stepper


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _red_pixels(png: bytes) -> set[tuple[int, int]]:
    """(row, column) of the tinted (highlighted) pixels of a scale-1 picture."""
    picture = _decode(png)
    tinted = (picture[:, :, 0] - picture[:, :, 1]) > 60
    return {(int(r), int(c)) for r, c in zip(*np.nonzero(tinted))}


@pytest.fixture
def inputs() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(3, 4, generator=generator), torch.rand(3, 3, generator=generator)


def test_first_step_stamps_one_kernel(inputs: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, kernel = inputs
    panel = transposed_conv_stepper(x, kernel, stride=2, scale=1)
    state = panel.state
    assert (state["step"], state["row"], state["column"], state["steps"]) == (0, 0, 0, 12)
    assert state["output"].shape == (7, 9)
    torch.testing.assert_close(state["output"][:3, :3], x[0, 0] * kernel)
    assert state["output"][3:].abs().sum() == 0 and state["output"][:, 3:].abs().sum() == 0
    assert _red_pixels(panel.images["input"].value) == {(0, 0)}
    assert _red_pixels(panel.images["output"].value) == {(r, c) for r in range(3) for c in range(3)}


def test_moving_the_step_slider_moves_the_stamp(inputs: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, kernel = inputs
    panel = transposed_conv_stepper(x, kernel, stride=2, scale=1)
    before_input, before_output = panel.images["input"].value, panel.images["output"].value
    panel.controls["step"].value = 6  # row 1, column 2
    state = panel.state
    assert (state["row"], state["column"], state["top"], state["left"]) == (1, 2, 2, 4)
    assert not state["done"]
    assert state["caption"].startswith("step 6 (of steps 0 to 11): input pixel (1, 2)")  # the slider's number
    assert panel.images["input"].value != before_input
    assert panel.images["output"].value != before_output
    assert _red_pixels(panel.images["input"].value) == {(1, 2)}
    assert _red_pixels(panel.images["output"].value) == {(r, c) for r in range(2, 5) for c in range(4, 7)}


def test_last_step_equals_torch_for_every_stride(inputs: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, kernel = inputs
    panel = transposed_conv_stepper(x, kernel, stride=1, scale=1)
    for stride in (1, 2, 3):
        panel.controls["stride"].value = stride
        panel.controls["step"].value = panel.controls["step"].max
        assert panel.state["done"] and panel.state["stride"] == stride
        expected = F.conv_transpose2d(x[None, None], kernel[None, None], stride=stride)[0, 0]
        torch.testing.assert_close(panel.state["output"], expected)


def test_changing_the_stride_changes_the_output_picture(inputs: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, kernel = inputs
    panel = transposed_conv_stepper(x, kernel, stride=2, scale=1)
    panel.controls["step"].value = 11
    before = panel.images["output"].value
    panel.controls["stride"].value = 3
    assert panel.images["output"].value != before
    assert _decode(panel.images["output"].value).shape[:2] == (9, 12)  # (3-1)*3+3, (4-1)*3+3


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="2-D floating-point"):
        transposed_conv_stepper(torch.ones(1, 1, 3, 3), torch.ones(3, 3))
    with pytest.raises(ValueError, match="stride must be in"):
        transposed_conv_stepper(torch.ones(3, 3), torch.ones(3, 3), stride=5)
