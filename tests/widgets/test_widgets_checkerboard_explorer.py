"""The checkerboard explorer shows uneven stamp overlap and the fixes that avoid it."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from segedu.analysis.upsampling import checkerboard_pattern
from segedu.widgets.checkerboard_explorer import checkerboard_explorer, flat_image_outputs


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L")).astype(int)


def _interior_spread(counts: torch.Tensor, k: int) -> int:
    inner = counts[k:-k, k:-k]
    return int(inner.max() - inner.min())


def test_kernel_three_stride_two_is_uneven() -> None:
    panel = checkerboard_explorer(kernel_size=3, stride=2)
    assert panel.state["interior_counts"] == [1, 2, 4]
    assert panel.state["even"] is False
    assert panel.state["transposed_spread"] > 0.5
    assert panel.state["resize_conv_spread"] == pytest.approx(0.0, abs=1e-6)
    torch.testing.assert_close(panel.state["counts"], checkerboard_pattern(3, 2, 16))


def test_sliders_change_state_and_pictures() -> None:
    panel = checkerboard_explorer(kernel_size=3, stride=2)
    before = {name: view.value for name, view in panel.images.items()}
    panel.controls["kernel_size"].value = 4
    assert panel.state["kernel_size"] == 4 and panel.state["even"] is True
    assert panel.state["interior_counts"] == [4]
    assert panel.state["transposed_spread"] == pytest.approx(0.0, abs=1e-6)
    assert panel.images["overlap"].value != before["overlap"]
    assert panel.images["transposed"].value != before["transposed"]
    panel.controls["stride"].value = 3
    assert panel.state["stride"] == 3 and panel.state["even"] is False
    assert panel.state["interior_counts"] == [1, 2, 4]


def test_overlap_picture_shows_the_counts() -> None:
    panel = checkerboard_explorer(kernel_size=3, stride=2, display_size=1)  # one screen pixel each
    counts = panel.state["counts"]
    grey = _decode(panel.images["overlap"].value)
    expected = np.round(counts.numpy() / counts.max().item() * 255)
    assert np.array_equal(grey, expected)


def test_random_weights_show_an_artefact_even_for_divisible_kernels() -> None:
    panel = checkerboard_explorer(kernel_size=4, stride=2)
    before = panel.images["transposed"].value
    panel.controls["kernel"].value = "random"
    assert panel.state["kernel"] == "random" and panel.state["even"] is True
    assert panel.state["transposed_spread"] > 0.05  # learned weights can still differ by phase
    assert panel.state["resize_conv_spread"] == pytest.approx(0.0, abs=1e-6)
    assert panel.images["transposed"].value != before


@pytest.mark.parametrize("kernel", ["uniform", "random"])
@pytest.mark.parametrize(("kernel_size", "stride"), [(3, 2), (4, 2), (5, 3), (2, 1)])
def test_flat_image_outputs_agree_with_torch(kernel: str, kernel_size: int, stride: int) -> None:
    outputs = flat_image_outputs(kernel_size, stride, kernel=kernel)
    counts = checkerboard_pattern(kernel_size, stride, 16)
    assert outputs["transposed"].shape == counts.shape
    assert outputs["resize_conv"].shape == (16 * stride, 16 * stride)
    if kernel == "uniform":  # every stamp adds the same weight, so output is proportional to counts
        torch.testing.assert_close(outputs["transposed"], counts.float() * stride**2 / kernel_size**2)
    inner = slice(kernel_size, -kernel_size)
    interior = outputs["transposed"][inner, inner]
    assert abs(float(interior.mean()) - 1.0) < 0.05  # weights scaled to keep a flat image at 1
    torch.testing.assert_close(outputs["resize_conv"], torch.ones(16 * stride, 16 * stride))
    even = _interior_spread(counts, kernel_size) == 0
    assert even == (kernel_size % stride == 0)


def test_spread_counts_every_stride_phase_equally() -> None:
    # Equal weights 4/9 at kernel 3, stride 2: pixels hold 4/9, 8/9 or 16/9, and the phases average to 1.
    assert flat_image_outputs(3, 2, kernel="uniform")["transposed_spread"] == pytest.approx((16 - 4) / 9, abs=1e-5)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="kernel must be one of"):
        flat_image_outputs(3, 2, kernel="gaussian")
    with pytest.raises(ValueError, match="interior"):
        flat_image_outputs(7, 1, size=8)
    with pytest.raises(ValueError, match="kernel_size must be in"):
        checkerboard_explorer(kernel_size=9)
