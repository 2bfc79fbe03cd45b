"""Look inside a SegNet decoder: pooling switches, sparse unpooled maps, dense decoded maps.

Controls pick a scene, a decoder stage and a channel. The panel shows the scene, the encoder's
"switches" (which corner of each 2x2 window held the maximum, one colour per corner), the sparse
map ``MaxUnpool2d`` builds from them, and the dense map after the stage's convolutions. Built on
:func:`segedu.analysis.pooling_indices.trace_segnet`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from segedu.analysis.pooling_indices import SegNetTrace, trace_segnet, window_position, zero_fraction
from segedu.widgets._toolkit import WidgetPanel, array_to_png, image_to_hwc

__all__ = ["CORNER_COLORS", "unpooling_explorer"]

# One colour per corner of a 2x2 window: top-left, top-right, bottom-left, bottom-right.
CORNER_COLORS = np.array([[0.90, 0.25, 0.20], [0.20, 0.65, 0.25], [0.20, 0.45, 0.90], [0.95, 0.75, 0.15]])


def _heat(values: np.ndarray) -> np.ndarray:
    """(H, W) non-negative map -> (H, W, 3) picture: zero is black, the maximum is bright yellow."""
    import matplotlib

    high = float(values.max())
    scaled = values / high if high > 0 else np.zeros_like(values)
    return matplotlib.colormaps["magma"](np.clip(scaled, 0.0, 1.0))[:, :, :3]


def _switch_picture(indices: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H/2, W/2) flat indices -> (H, W, 3): each window's remembered pixel in its corner colour."""
    import torch

    picture = np.zeros((height * width, 3))  # (H*W, 3) black everywhere
    flat = indices.reshape(-1)
    corners = window_position(torch.from_numpy(flat), width).numpy()  # (H/2 * W/2,) codes 0..3
    picture[flat] = CORNER_COLORS[corners]
    return picture.reshape(height, width, 3)


def unpooling_explorer(
    model: nn.Module,
    dataset: Any,
    *,
    index: int = 0,
    stage: str = "stage1",
    channel: int | None = None,
    size: int = 192,
) -> WidgetPanel:
    """Explore what a SegNet decoder stage receives and makes of it.

    Args:
        model: A trained :class:`~segedu.models.SegNet` (left in its mode, unchanged).
        dataset: Test scenes, ``dataset[i] -> (image (C, H, W), mask (H, W))``.
        index: Scene shown first.
        stage: Decoder stage shown first (``"stage1"`` = full resolution).
        channel: Channel shown first; ``None`` picks the strongest channel of the unpooled map.
        size: Display size of every picture, in screen pixels (rounded down to a multiple of the
            map's side).

    Returns:
        A panel with the controls ``"index"``, ``"stage"``, ``"channel"``, the images
        ``"image"``, ``"switches"``, ``"unpooled"``, ``"decoded"`` and the state ``index``,
        ``stage``, ``channel``, ``unpooled_shape``, ``decoded_shape`` (per image, ``(C, H, W)``),
        ``unpooled_zero_fraction``, ``decoded_zero_fraction`` (over the whole stage, all
        channels) and ``corner_counts`` (how many windows of this channel chose each corner).
    """
    import ipywidgets as widgets

    from segedu.models.segnet import SegNet

    if not isinstance(model, SegNet):
        raise ValueError(f"model must be a segedu.models.SegNet; got {type(model).__name__}")
    if not 0 <= index < len(dataset):
        raise ValueError(f"index must be in [0, {len(dataset)}); got {index}")
    stages = list(model.decoder.keys())  # deepest first, as the decoder runs
    if stage not in stages:
        raise ValueError(f"stage must be one of {sorted(stages)}; got {stage!r}")
    scene_slider = widgets.IntSlider(value=index, min=0, max=len(dataset) - 1, description="scene")
    stage_menu = widgets.Dropdown(options=stages, value=stage, description="stage")
    channel_slider = widgets.IntSlider(value=0, min=0, max=0, description="channel")
    names = ("image", "switches", "unpooled", "decoded")
    views = {name: widgets.Image(format="png") for name in names}
    titles = {
        "image": "scene",
        "switches": "switches (corner of each max)",
        "unpooled": "after MaxUnpool2d (sparse)",
        "decoded": "after the decoder convs (dense)",
    }
    columns = [widgets.VBox([widgets.Label(titles[name]), views[name]]) for name in names]
    caption = widgets.Label()
    panel = WidgetPanel(
        widgets.VBox([widgets.HBox([scene_slider, stage_menu, channel_slider]), widgets.HBox(columns), caption]),
        {"index": scene_slider, "stage": stage_menu, "channel": channel_slider},
        views,
    )
    traces: dict[int, SegNetTrace] = {}
    adjusting = False  # True while the channel slider's range is being moved

    def trace_for(scene: int) -> SegNetTrace:
        if scene not in traces:
            traces.clear()  # keep one scene's maps only
            traces[scene] = trace_segnet(model, dataset[scene][0])
        return traces[scene]

    def channel_count(name: str) -> int:
        # Channel c of the conv output is not "the same feature" as input channel c (convs mix
        # channels); both maps are shown for the same number c, so c runs over the channels both have.
        trace = trace_for(scene_slider.value)
        return min(trace.unpooled[name].shape[1], trace.decoded[name].shape[1])

    def strongest_channel(name: str) -> int:
        unpooled = trace_for(scene_slider.value).unpooled[name][0]  # (C_i, H_i, W_i)
        return int(unpooled[: channel_count(name)].flatten(1).sum(dim=1).argmax())

    def set_channel(value: int, top: int) -> None:
        nonlocal adjusting
        adjusting = True
        try:  # order matters: the slider clamps its value into [min, max]
            if top >= channel_slider.max:
                channel_slider.max, channel_slider.value = top, value
            else:
                channel_slider.value, channel_slider.max = value, top
        finally:
            adjusting = False

    def show() -> None:
        trace = trace_for(scene_slider.value)
        name = stage_menu.value
        unpooled = trace.unpooled[name][0].cpu()  # (C_i, H_i, W_i) sparse
        decoded = trace.decoded[name][0].cpu()  # (C_(i-1), H_i, W_i) dense
        indices = trace.indices[name][0].cpu()  # (C_i, H_i/2, W_i/2)
        picked = channel_slider.value
        height, width = unpooled.shape[-2:]
        scale = max(1, size // max(height, width))
        image = dataset[scene_slider.value][0]
        image_scale = max(1, size // max(image.shape[-2:]))
        views["image"].value = array_to_png(image_to_hwc(image), scale=image_scale)
        views["switches"].value = array_to_png(_switch_picture(indices[picked].numpy(), height, width), scale=scale)
        views["unpooled"].value = array_to_png(_heat(unpooled[picked].numpy()), scale=scale)
        views["decoded"].value = array_to_png(_heat(decoded[picked].numpy()), scale=scale)
        corners = window_position(indices[picked], width)  # (H_i/2, W_i/2) codes 0..3
        counts = [int((corners == corner).sum()) for corner in range(4)]
        state = {
            "index": scene_slider.value,
            "stage": name,
            "channel": picked,
            "unpooled_shape": tuple(unpooled.shape),
            "decoded_shape": tuple(decoded.shape),
            "unpooled_zero_fraction": zero_fraction(unpooled),
            "decoded_zero_fraction": zero_fraction(decoded),
            "corner_counts": counts,
        }
        caption.value = (
            f"{name}, whole stage (all {unpooled.shape[0]} channels): unpooled {tuple(unpooled.shape)} is "
            f"{state['unpooled_zero_fraction']:.0%} zeros; "
            f"after the convs {tuple(decoded.shape)} is {state['decoded_zero_fraction']:.0%} zeros. "
            f"Channel {picked}: windows per corner (TL, TR, BL, BR) = {counts}"
        )
        panel.state.update(state)

    def on_change(change: Any) -> None:
        if adjusting:
            return
        if change["owner"] is stage_menu:  # a new stage: jump to its strongest channel
            set_channel(strongest_channel(stage_menu.value), channel_count(stage_menu.value) - 1)
        show()

    count = channel_count(stage)
    if channel is not None and not 0 <= channel < count:
        raise ValueError(f"channel must be in [0, {count}) for {stage}; got {channel}")
    set_channel(strongest_channel(stage) if channel is None else channel, count - 1)
    show()
    for control in (scene_slider, stage_menu, channel_slider):
        control.observe(on_change, names="value")
    return panel
