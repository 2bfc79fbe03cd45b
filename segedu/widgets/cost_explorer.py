"""Explore what full resolution costs: a stack of 3x3 convs with and without downsampling.

Sliders pick the image size, the width and number of 3x3 conv layers, and how many times the
encoder-decoder halves the resolution; a readout and a bar chart compare the full-resolution
stack (no downsampling) with the encoder-decoder of the same layers, using the formulas of
:func:`segedu.analysis.stack_costs.encoder_decoder_costs`. Every layer is conv -> BatchNorm ->
ReLU, and "training memory" means what autograd saves for the backward pass
(:func:`segedu.analysis.costs.activation_memory` with ``backward=True``): two maps per conv layer, the
resampled maps the convs read, the max-poolings' indices and BatchNorm's statistics.
"""

from __future__ import annotations

import io
from typing import Any

from segedu.analysis.stack_costs import encoder_decoder_costs
from segedu.widgets._toolkit import WidgetPanel

__all__ = ["IMAGE_SIZES", "cost_explorer", "format_bytes"]

IMAGE_SIZES: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048)
_COLOURS = ("tab:red", "tab:blue")


def format_bytes(size: float) -> str:
    """Bytes as a short decimal string: ``"512.0 kB"``, ``"3.2 MB"``, ``"25.8 GB"`` (1 kB = 1000 B)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:.0f} B"


def _chart_png(full: dict[str, int], encoder_decoder: dict[str, int], stages: int) -> bytes:
    """Three bar pairs (GMACs, MB saved for backward, receptive field) rendered to PNG bytes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 2.3), dpi=80, layout="constrained")
    axes = figure.subplots(1, 3)
    labels = ("full res.", f"enc-dec\n({stages} down)")
    panels = (
        ("multiply-accumulates (G)", "macs", 1e9, "{:.2f}"),
        ("saved for backward (MB)", "saved_bytes", 1e6, "{:.0f}"),
        ("receptive field (px)", "receptive_field", 1, "{:.0f}"),
    )
    for ax, (title, key, scale, pattern) in zip(axes, panels):
        values = [full[key] / scale, encoder_decoder[key] / scale]
        bars = ax.bar(labels, values, color=_COLOURS)
        ax.bar_label(bars, [pattern.format(value) for value in values], fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(0, max(values) * 1.25 or 1)
        ax.tick_params(labelsize=8)
        ax.set_yticks([])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def cost_explorer(
    *, image_size: int = 256, width: int = 32, depth: int = 18, stages: int = 4, double_channels: bool = True
) -> WidgetPanel:
    """Compare a full-resolution stack of 3x3 convs with an encoder-decoder of the same layers.

    Args:
        image_size: Side of the square RGB input, one of :data:`IMAGE_SIZES`.
        width: Channels of the full-resolution layers (8 to 128).
        depth: Number of 3x3 conv layers of both networks (at least ``2 * stages + 1``).
        stages: Number of 2x downsamplings of the encoder-decoder (0 to 5).
        double_channels: Whether the encoder-decoder doubles its channels at each downsampling.

    Returns:
        A panel with the controls ``"image_size"``, ``"width"``, ``"depth"``, ``"stages"``,
        ``"double_channels"``, the image ``"chart"`` and the state: the settings,
        ``"full_resolution"`` and ``"encoder_decoder"`` (dicts of
        :func:`~segedu.analysis.stack_costs.encoder_decoder_costs`), ``"macs_ratio"`` and
        ``"memory_ratio"`` (full resolution / encoder-decoder; memory = ``saved_bytes``, what
        autograd saves for the backward pass).
    """
    import ipywidgets as widgets

    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {IMAGE_SIZES}; got {image_size}")
    if not 0 <= stages <= 5:
        raise ValueError(f"stages must be in [0, 5]; got {stages}")
    if not 2 * stages + 1 <= depth <= 100:
        raise ValueError(f"depth must be in [2 * stages + 1, 100] = [{2 * stages + 1}, 100]; got {depth}")
    if not 8 <= width <= 128:
        raise ValueError(f"width must be in [8, 128]; got {width}")
    style = {"description_width": "150px"}
    layout = widgets.Layout(width="420px")
    controls = {
        "image_size": widgets.SelectionSlider(
            options=list(IMAGE_SIZES), value=image_size, description="image size (px)", style=style, layout=layout
        ),
        "width": widgets.IntSlider(
            value=width, min=8, max=128, step=8, description="width (channels)", style=style, layout=layout
        ),
        "depth": widgets.IntSlider(
            value=depth, min=2 * stages + 1, max=100, description="3x3 conv layers", style=style, layout=layout
        ),
        "stages": widgets.IntSlider(
            value=stages, min=0, max=5, description="downsampling stages", style=style, layout=layout
        ),
        "double_channels": widgets.Checkbox(
            value=double_channels, description="double channels when downsampling", style=style
        ),
    }
    chart = widgets.Image(format="png")
    readout = widgets.HTML()
    panel = WidgetPanel(
        widgets.VBox([*controls.values(), readout, chart]), controls, {"chart": chart}
    )

    def show(change: Any = None) -> None:
        settings = {name: control.value for name, control in controls.items()}
        common = {"width": settings["width"], "depth": settings["depth"]}
        full = encoder_decoder_costs(settings["image_size"], stages=0, **common)
        encoder_decoder = encoder_decoder_costs(
            settings["image_size"], stages=settings["stages"], double_channels=settings["double_channels"], **common
        )
        macs_ratio = full["macs"] / encoder_decoder["macs"]
        memory_ratio = full["saved_bytes"] / encoder_decoder["saved_bytes"]
        rows = "".join(
            f"<tr><td>{name}</td><td>{costs['macs'] / 1e9:.2f} G</td>"
            f"<td>{format_bytes(costs['saved_bytes'])}</td><td>{costs['parameters']:,}</td>"
            f"<td>{costs['receptive_field']} px</td></tr>"
            for name, costs in (("full resolution", full), ("encoder-decoder", encoder_decoder))
        )
        readout.value = (
            "<table><tr><th></th><th>MACs</th><th>saved for backward</th><th>parameters</th>"
            f"<th>receptive field</th></tr>{rows}</table>"
            f"Full resolution needs <b>{macs_ratio:.1f}x</b> the MACs and <b>{memory_ratio:.1f}x</b> "
            "the training memory (saved for backward) of the encoder-decoder."
        )
        chart.value = _chart_png(full, encoder_decoder, settings["stages"])
        panel.state.clear()
        panel.state.update(
            settings,
            full_resolution=full,
            encoder_decoder=encoder_decoder,
            macs_ratio=macs_ratio,
            memory_ratio=memory_ratio,
        )

    def stages_changed(change: Any) -> None:
        # Every level needs a layer; raising the minimum may move the depth slider (and redraw).
        controls["depth"].min = 2 * change["new"] + 1
        show()

    for name, control in controls.items():
        control.observe(stages_changed if name == "stages" else show, names="value")
    show()
    return panel
