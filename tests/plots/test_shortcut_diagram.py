"""The shortcut diagram draws one panel per family with that family's shortcut."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from segedu.analysis.shortcuts import SHORTCUT_STYLES  # noqa: E402
from segedu.plots.primitives import SHORTCUT_COLOR  # noqa: E402
from segedu.plots.shortcut_diagram import shortcut_styles_diagram  # noqa: E402


def test_diagram_has_one_panel_per_family() -> None:
    figure = shortcut_styles_diagram()
    assert len(figure.axes) == 3 == len(SHORTCUT_STYLES)
    titles = [axis.get_title() for axis in figure.axes]
    assert [title.split(":")[0] for title in titles] == ["FCN-8s", "SegNet", "U-Net"]
    assert figure.get_suptitle().startswith("segedu's FCN-8s, SegNet and U-Net")  # segedu's versions, not the papers'
    texts = [{text.get_text() for text in axis.texts} for axis in figure.axes]
    assert "+" in texts[0] and "indices" in texts[1] and "copy,\nconcat" in texts[2]
    # SegNet's and U-Net's decoders convolve after every upsampling: the step note says so
    assert "each decoder arrow: 2x max-unpooling, then convs" in texts[1]
    assert "each decoder arrow: 2x up-convolution, concat, then convs" in texts[2]
    plt.close(figure)


def test_shortcuts_are_red_and_match_each_family() -> None:
    from matplotlib.colors import to_rgba

    figure = shortcut_styles_diagram()
    try:
        red = to_rgba(SHORTCUT_COLOR)
        shortcuts = [
            [patch for patch in axis.patches if isinstance(patch, FancyArrowPatch) and patch.get_edgecolor() == red]
            for axis in figure.axes
        ]
        assert [len(arrows) for arrows in shortcuts] == [2, 4, 4]  # pool4 + pool3; 4 levels for SegNet, U-Net
        sums = [patch for patch in figure.axes[0].patches if isinstance(patch, Circle)]
        assert len(sums) == 2  # FCN adds its two score maps
        assert all(arrow.get_linestyle() == "--" for arrow in shortcuts[1])  # SegNet: dashed indices
        assert min(arrow.get_linewidth() for arrow in shortcuts[2]) > max(a.get_linewidth() for a in shortcuts[0])
    finally:
        plt.close(figure)
