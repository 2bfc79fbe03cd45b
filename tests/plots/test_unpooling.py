"""The unpooling pictures: switch colours at the maxima's positions, one colour scale, titles that match the masks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from segedu.analysis.pooling_indices import trace_segnet, window_position  # noqa: E402
from segedu.models import SegNet  # noqa: E402
from segedu.plots.unpooling import CORNER_COLORS, switches_figure, unpooling_rules_figure  # noqa: E402
from segedu.widgets.unpooling_explorer import CORNER_COLORS as WIDGET_COLORS  # noqa: E402


def test_switches_figure_colours_each_maximum_by_its_corner_and_leaves_the_rest_black() -> None:
    torch.manual_seed(0)
    model = SegNet(in_channels=3, num_classes=4, base_channels=4, depth=2).eval()
    image = torch.rand(3, 16, 16)
    trace = trace_segnet(model, image)
    figure = switches_figure(trace, image, ("stage2", "stage1"), scene=7)
    try:
        assert len(figure.axes) == 2 * 4 + 2 * 2  # four panels per row and two colour bars per row
        switches = figure.axes[1].get_images()[0].get_array()  # stage 2's switches, (8, 8, 3)
        channel = int(figure.axes[1].get_title().split()[-1])
        flat = trace.indices["stage2"][0, channel].flatten()
        expected = np.zeros((64, 3))
        for index in flat.tolist():  # brute force: one window at a time
            expected[index] = CORNER_COLORS[int(window_position(torch.tensor([index]), 8))]
        np.testing.assert_allclose(np.asarray(switches).reshape(64, 3), expected)
        assert (np.asarray(switches).reshape(64, 3).sum(axis=1) == 0).sum() == 64 - 16  # 3 of 4 positions black
        assert "test scene 7" in figure._suptitle.get_text()
        assert figure.axes[0].get_title() == "input: scene 7, shrunk to 8x8\n(the size of decoder stage2)"
    finally:
        plt.close(figure)
    np.testing.assert_array_equal(CORNER_COLORS, WIDGET_COLORS)


def test_switches_figure_zooms_the_middle_panels_and_frames_the_square_in_the_others() -> None:
    torch.manual_seed(0)
    model = SegNet(in_channels=3, num_classes=4, base_channels=4, depth=2).eval()
    image = torch.rand(3, 16, 16)
    trace = trace_segnet(model, image)
    figure = switches_figure(trace, image, ("stage2", "stage1"), scene=7, zoom={"stage1": (2, 4, 8)})
    try:
        scene_panel, switches, unpooled, output = figure.axes[4:8]  # stage 1's row (after stage 2's and its bars)
        for axis in (switches, unpooled):
            assert axis.get_xlim() == (3.5, 11.5) and axis.get_ylim() == (9.5, 1.5)
            assert "(zoom: rows 2-9, columns 4-11)" in axis.get_title()
        for axis in (scene_panel, output):
            frames = [patch for patch in axis.patches if patch.get_width() == 8]
            assert len(frames) == 1 and frames[0].get_xy() == (3.5, 1.5)
        assert "zeros in this channel" in unpooled.get_title()
        # one output channel, not a sum, on the unpooled channel's colour scale (0 black in both)
        unpooled_image, output_image = unpooled.get_images()[0], output.get_images()[0]
        assert unpooled_image.get_clim() == output_image.get_clim() and unpooled_image.get_clim()[0] == 0
        out_channel = int(output.get_title().split()[2].rstrip(":"))
        np.testing.assert_allclose(np.asarray(output_image.get_array()),
                                   trace.decoded["stage1"][0, out_channel].numpy())
        assert figure.axes[1].get_xlim() == (-0.5, 7.5)  # stage 2 is not zoomed
    finally:
        plt.close(figure)
    with pytest.raises(ValueError, match="leaves its 16x16 map"):
        switches_figure(trace, image, ("stage1",), scene=7, zoom={"stage1": (10, 4, 8)})
    with pytest.raises(ValueError, match=r"zoom names stages \['stage3'\]"):
        switches_figure(trace, image, ("stage1",), scene=7, zoom={"stage3": (0, 0, 4)})
    plt.close("all")


def test_unpooling_rules_figure_titles_give_each_prediction_its_accuracy_and_background_share() -> None:
    mask = torch.zeros(4, 4, dtype=torch.long)
    mask[:2, :2] = 1
    predictions = {"right": mask.clone(), "all background": torch.zeros(4, 4, dtype=torch.long)}
    figure = unpooling_rules_figure(torch.zeros(3, 4, 4), mask, predictions, ["background", "circle"], title="t")
    try:
        titles = [axis.get_title() for axis in figure.axes]
        assert titles[2] == "right\n100.0% right, 75% background"
        assert titles[3] == "all background\n75.0% right, 100% background"
        assert [text.get_text() for text in figure.legends[0].get_texts()] == ["background", "circle"]
    finally:
        plt.close(figure)
