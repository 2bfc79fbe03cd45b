"""The encoder-decoder diagram draws one box per feature map, mirrored around the bottleneck."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Rectangle

from segedu.plots.diagrams import encoder_decoder_diagram


def test_boxes_shrink_then_grow() -> None:
    figure = encoder_decoder_diagram((64, 32, 16))
    boxes = [patch for patch in figure.axes[0].patches if isinstance(patch, Rectangle)]
    heights = [box.get_height() for box in boxes]
    assert len(boxes) == 5
    assert heights == sorted(heights[:3], reverse=True) + sorted(heights[3:])
    assert heights[0] == heights[-1] and heights[1] == heights[3]
    texts = {text.get_text() for text in figure.axes[0].texts}
    assert {"encoder (downsampling)", "decoder (upsampling)"} <= texts
    plt.close(figure)


@pytest.mark.parametrize("sizes", [(8,), (16, 32), (16, 16, 8), (4, 0)])
def test_bad_sizes_are_refused(sizes: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="decreasing positive"):
        encoder_decoder_diagram(sizes)
