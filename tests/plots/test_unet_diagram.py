"""unet_diagram draws one box per traced map, the pool and up-conv arrows, and one arrow per skip."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from segedu.analysis.unet_anatomy import UNetTrace, trace_unet  # noqa: E402
from segedu.models import UNet  # noqa: E402
from segedu.plots.unet_diagram import unet_diagram  # noqa: E402


@pytest.fixture
def model() -> UNet:
    torch.manual_seed(0)
    return UNet(3, 4, base_channels=4).eval()


def test_diagram_draws_one_box_per_map_and_the_skip_arrows(model: UNet) -> None:
    with_skips = unet_diagram(trace_unet(model, torch.rand(3, 32, 32)))
    blind = UNet(3, 4, base_channels=4, skip_connections=False).eval()
    without = unet_diagram(trace_unet(blind, torch.rand(3, 32, 32)))
    texts = [text.get_text() for text in with_skips.axes[0].texts]
    assert len(with_skips.axes[0].patches) == 5 + 4 + 4 * 3  # boxes, then pool, up-conv and skip arrows
    assert len(without.axes[0].patches) == 5 + 4 + 4 * 2
    assert "up4\n8→4 ch\n32²" in texts and any(text.startswith("copy") for text in texts)
    with torch.device("meta"):
        paper = trace_unet(UNet.paper(), torch.empty(1, 1, 572, 572))
    paper_texts = [text.get_text() for text in unet_diagram(paper).axes[0].texts]
    assert "copy and crop 568² → 392²" in paper_texts
    plt.close("all")


def test_boxes_grow_with_channels_and_side(model: UNet) -> None:
    trace = trace_unet(model, torch.rand(3, 32, 32))
    figure = unet_diagram(trace, title="mine")
    try:
        boxes = figure.axes[0].patches[: len(trace.encoder)]  # the encoder's boxes come first
        widths = [patch.get_width() for patch in boxes]
        heights = [patch.get_height() for patch in boxes]
        channels = [tensor.shape[1] for tensor in trace.encoder.values()]
        sides = [tensor.shape[-1] for tensor in trace.encoder.values()]
        assert sorted(widths) == widths and len(set(channels)) == len(set(widths))  # more channels, wider
        assert sorted(heights, reverse=True) == heights and len(set(sides)) == len(set(heights))
        assert figure.axes[0].get_title() == "mine"
    finally:
        plt.close(figure)


def test_incomplete_trace_is_refused() -> None:
    with pytest.raises(ValueError, match="trace_unet"):
        unet_diagram(UNetTrace())
