"""The drawing primitives put boxes, arrows and sums exactly where they are asked to."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle  # noqa: E402

from segedu.plots.primitives import (  # noqa: E402
    ENCODER_COLOR,
    NOTE_COLOR,
    SHORTCUT_COLOR,
    Box,
    arrow,
    box,
    diagram_figure,
    finish_axis,
    sum_node,
)


@pytest.fixture
def axis():
    figure, (axis,) = diagram_figure(1, 1, (3.0, 2.0))
    yield axis
    plt.close(figure)


def test_box_is_centred_and_its_sides_are_where_arrows_attach(axis) -> None:
    drawn = box(axis, (2.0, -1.0), 0.6, 1.4, ENCODER_COLOR, inside="pool1", above="name", below="1/2")
    (rectangle,) = axis.patches
    assert isinstance(rectangle, Rectangle)
    assert rectangle.get_xy() == pytest.approx((1.7, -1.7))
    assert (rectangle.get_width(), rectangle.get_height()) == pytest.approx((0.6, 1.4))
    assert rectangle.get_facecolor() == to_rgba(ENCODER_COLOR)
    assert drawn == Box(2.0, -1.0, 0.6, 1.4)
    assert drawn.top == pytest.approx((2.0, -0.3)) and drawn.bottom == pytest.approx((2.0, -1.7))
    assert drawn.left == pytest.approx((1.7, -1.0)) and drawn.right == pytest.approx((2.3, -1.0))
    texts = {text.get_text(): text for text in axis.texts}
    assert texts["pool1"].get_position() == pytest.approx((2.0, -1.0))
    assert texts["name"].get_position() == pytest.approx((2.0, -0.3 + 0.12))
    assert texts["1/2"].get_position() == pytest.approx((2.0, -1.7 - 0.12))
    assert texts["1/2"].get_color() == NOTE_COLOR and texts["1/2"].get_fontsize() == 7.0


def test_box_edge_is_black_for_a_map_and_as_asked_for_a_layer(axis) -> None:
    box(axis, (0.0, 0.0), 1.0, 1.0, ENCODER_COLOR)
    box(axis, (2.0, 0.0), 1.0, 1.0, "white", edge_color=SHORTCUT_COLOR, edge_width=2.0)
    map_box, layer = axis.patches
    assert map_box.get_edgecolor() == to_rgba("black") and map_box.get_linewidth() == 1.0
    assert layer.get_edgecolor() == to_rgba(SHORTCUT_COLOR) and layer.get_linewidth() == 2.0


def test_box_without_words_adds_no_texts_and_refuses_empty_sizes(axis) -> None:
    box(axis, (0.0, 0.0), 1.0, 1.0, ENCODER_COLOR)
    assert len(axis.texts) == 0
    with pytest.raises(ValueError, match="positive width and height"):
        box(axis, (0.0, 0.0), 0.0, 1.0, ENCODER_COLOR)


def test_arrow_runs_from_start_to_end_with_its_label(axis) -> None:
    arrow(axis, (0.0, 0.0), (2.0, 1.0), color=SHORTCUT_COLOR, width=3.0, line_style="--", label="copy",
          label_gap=0.05)
    arrow(axis, (0.0, 0.0), (0.0, -2.0), label="1x1 conv", label_side="right", label_gap=0.06, label_color="gray")
    first, second = axis.patches
    assert isinstance(first, FancyArrowPatch)
    assert first.get_edgecolor() == to_rgba(SHORTCUT_COLOR) and first.get_linewidth() == 3.0
    assert first.get_linestyle() == "--"
    above, right = axis.texts
    assert above.get_position() == pytest.approx((1.0, 0.55)) and above.get_color() == SHORTCUT_COLOR
    assert (above.get_ha(), above.get_va()) == ("center", "bottom")
    assert right.get_position() == pytest.approx((0.06, -1.0)) and right.get_color() == "gray"
    assert (right.get_ha(), right.get_va()) == ("left", "center")
    with pytest.raises(ValueError, match="label_side"):
        arrow(axis, (0.0, 0.0), (1.0, 0.0), label="x", label_side="below")


def test_arrow_path_ends_at_the_requested_points(axis) -> None:
    finish_axis(axis, (-1.0, 3.0), (-1.0, 2.0))
    arrow(axis, (0.0, 0.0), (2.0, 1.0), shrink=0.0, head="-")
    axis.figure.canvas.draw()
    (patch,) = axis.patches
    vertices = patch.get_path().vertices  # data coordinates
    assert vertices[0] == pytest.approx((0.0, 0.0), abs=1e-6) and vertices[-1] == pytest.approx((2.0, 1.0), abs=1e-6)


def test_sum_node_is_a_white_circle_with_a_plus(axis) -> None:
    sum_node(axis, (1.0, 2.0), 0.2, color=SHORTCUT_COLOR, line_width=1.3)
    (circle,) = axis.patches
    assert isinstance(circle, Circle) and circle.get_radius() == 0.2
    assert circle.center == pytest.approx((1.0, 2.0))
    assert circle.get_facecolor() == to_rgba("white") and circle.get_edgecolor() == to_rgba(SHORTCUT_COLOR)
    (plus,) = axis.texts
    assert plus.get_text() == "+" and plus.get_position() == pytest.approx((1.0, 2.0))


def test_diagram_figure_and_finish_axis() -> None:
    figure, axes = diagram_figure(2, 3, (6.0, 4.0))
    try:
        assert len(axes) == 6 and list(figure.get_size_inches()) == [6.0, 4.0]
        finish_axis(axes[0], (0.0, 2.0), (-1.0, 1.0))
        assert axes[0].get_xlim() == (0.0, 2.0) and axes[0].get_ylim() == (-1.0, 1.0)
        assert axes[0].get_aspect() == 1.0 and not axes[0].axison
        finish_axis(axes[1], (0.0, 2.0), (-1.0, 1.0), equal_aspect=False)
        assert axes[1].get_aspect() == "auto"
    finally:
        plt.close(figure)
    with pytest.raises(ValueError, match="at least one row"):
        diagram_figure(0, 1, (1.0, 1.0))
