"""read_maps_figure greys exactly the positions never read, counts the read ones and outlines the output's cell."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from segedu.plots.read_maps import UNREAD_COLOR, read_colormap, read_maps_figure  # noqa: E402
from segedu.widgets.atrous_explorer import _UNREAD  # noqa: E402


def test_unread_positions_are_masked_counted_and_grey() -> None:
    generator = torch.Generator().manual_seed(0)
    cells = torch.rand(8, 8, generator=generator)
    cells[::3, 1::2] = 0  # some never-read cells
    pixels = torch.rand(16, 16, generator=generator) + 0.1
    pixels[5, :] = 0
    figure = read_maps_figure({"cells\nsecond line": cells, "pixels": pixels}, title="t", grid=8, marked_cell=(4, 2))
    try:
        image_axes = [axis for axis in figure.axes if axis.get_images() and axis.get_label() != "<colorbar>"]
        assert len(image_axes) == 2 and len(figure.axes) == 4  # two panels, two colour bars
        for axis, values in zip(image_axes, (cells, pixels)):
            shown = axis.get_images()[0].get_array()
            unread = sum(1 for row in range(values.shape[0]) for column in range(values.shape[1])
                         if values[row, column] == 0)  # brute force
            np.testing.assert_array_equal(np.ma.getmaskarray(shown), (values == 0).numpy())
            assert f": {values.numel() - unread} of {values.numel()} read" in axis.get_title()
            (patch,) = axis.patches
            cell = values.shape[0] // 8
            assert patch.get_xy() == (2 * cell - 0.5, 4 * cell - 0.5) and patch.get_width() == cell
        assert image_axes[0].get_title() == f"cells: {64 - int((cells == 0).sum())} of 64 read\nsecond line"
        assert image_axes[0].get_xlabel() == "column (cells)" and image_axes[1].get_xlabel() == "column (pixels)"
        assert figure._suptitle.get_text() == "t"
    finally:
        plt.close(figure)
    np.testing.assert_allclose(read_colormap().get_bad()[:3], UNREAD_COLOR)
    np.testing.assert_allclose(np.array(UNREAD_COLOR) * 255, _UNREAD)  # the explorer's grey


@pytest.mark.parametrize(("maps", "message"), [
    ({}, "maps is empty"),
    ({"flat": torch.zeros(8, 8)}, "at least one read"),
    ({"wide": torch.ones(8, 16)}, "must be square"),
    ({"odd": torch.ones(12, 12)}, "not a multiple of grid=8"),
    ({"negative": -torch.ones(8, 8)}, "non-negative"),
])
def test_bad_maps_are_refused(maps, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_maps_figure(maps, title="t")
