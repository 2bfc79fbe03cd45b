"""Explore a segmentation network from the inside: feature maps, predictions and receptive fields.

Pick a sample, a layer (every conv, pool, unpool, upsampling and skip-fusion point, named as in
the model's code) and a channel, or a grid of channels, and see its feature map with a colour
bar next to the input, the prediction and the true mask. A pixel probe shows the class scores
(softmax) of one output pixel and its receptive field on the input, measured with the gradient
of that pixel's logit.

Each sample is run through the model once, with hooks that keep every feature map and the
autograd graph (:func:`segedu.analysis.activations.record_activations`); changing the layer,
channel, grid or probe reuses that recording and never runs the model again. The model and
the gradients run on one CPU thread (restored afterwards): for one small image that is fastest.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from segedu.analysis.activations import (
    ActivationRecording,
    expected_in_channels,
    explorable_layers,
    record_activations,
)
from segedu.analysis.receptive_field import pixel_receptive_field_from_recording
from segedu.plots.pictures import to_picture, to_uint8
from segedu.widgets._toolkit import WidgetPanel, array_to_png
from segedu.widgets.feature_map_pictures import (
    GRID_CHANNELS,
    enlarge,
    grid_channels,
    input_with_receptive_field,
    mark_pixel,
    min_max,
    render_channel_grid,
    render_class_scores,
    render_feature_map,
)

__all__ = ["feature_map_explorer"]


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run PyTorch on one thread, then restore the thread count.

    For one small image, handing work between threads costs more than it saves, and on a busy
    machine a waiting second thread can stall an update for a second or more.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _split_item(item: Any) -> tuple[Any, Any]:
    """A sample is ``(image, mask)``, a dict with "image" (and "mask"), or a bare image."""
    if isinstance(item, Mapping):
        return item["image"], item.get("mask")
    if isinstance(item, (tuple, list)):
        return item[0], (item[1] if len(item) > 1 else None)
    return item, None


def _rgb(image: Tensor) -> np.ndarray:
    """(C, H, W) float in [0, 1], C = 1 or 3 -> (H, W, 3) uint8."""
    return to_uint8(to_picture(image.detach().cpu().float(), clip=True))


class _Recorder:
    """Runs the model once per sample and keeps the last ``cache_size`` recordings."""

    def __init__(self, model: nn.Module, samples: Any, in_channels: int, cache_size: int) -> None:
        self.model, self.samples, self.in_channels, self.cache_size = model, samples, in_channels, cache_size
        self.cache: OrderedDict[int, tuple[ActivationRecording, Tensor, Tensor | None]] = OrderedDict()
        self.forward_passes = 0

    def load(self, index: int) -> tuple[Tensor, Tensor | None]:
        image, mask = _split_item(self.samples[index])
        image = torch.as_tensor(image)
        if image.dim() != 3 or not image.is_floating_point():
            raise ValueError(
                f"sample {index}: expected a float image of shape (C, H, W); got {tuple(image.shape)} {image.dtype}"
            )
        if image.shape[0] != self.in_channels:
            raise ValueError(
                f"sample {index} has {image.shape[0]} channel(s) (shape {tuple(image.shape)}) but the model takes "
                f"{self.in_channels}; use samples with {self.in_channels} channel(s) (e.g. a dataset built with "
                f"channels={self.in_channels}) or a model built with in_channels={image.shape[0]}"
            )
        if mask is not None:
            mask = torch.as_tensor(mask)
            if tuple(mask.shape) != tuple(image.shape[1:]):
                raise ValueError(
                    f"sample {index}: the mask's shape {tuple(mask.shape)} differs from the image's "
                    f"{tuple(image.shape[1:])}"
                )
        return image, mask

    def get(self, index: int) -> tuple[ActivationRecording, Tensor, Tensor | None]:
        if index in self.cache:
            self.cache.move_to_end(index)
            return self.cache[index]
        image, mask = self.load(index)
        with _one_thread():
            recording = record_activations(self.model, image, keep_graph=True)
        self.forward_passes += 1
        logits = recording.logits
        if logits.dim() != 4 or tuple(logits.shape[-2:]) != tuple(image.shape[1:]):
            raise ValueError(
                f"the model must map (1, C, H, W) to logits (1, K, H, W); got {tuple(logits.shape)} for an "
                f"image of shape {tuple(image.shape)}"
            )
        self.cache[index] = (recording, image, mask)
        if len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return self.cache[index]


def feature_map_explorer(
    model: nn.Module,
    samples: Any,
    *,
    layer: str | None = None,
    sample: int = 0,
    channel: int = 0,
    grid: bool = False,
    row: int | None = None,
    column: int | None = None,
    class_names: Sequence[str] | None = None,
    scale: int = 3,
    cache_size: int = 8,
) -> WidgetPanel:
    """Build the feature-map explorer for a segmentation model and some samples.

    The model is run in eval mode (its train/eval mode is restored afterwards) once per sample
    shown; the last ``cache_size`` samples' recordings are kept.

    Args:
        model: Any segmentation model mapping ``(B, C_in, H, W)`` to logits ``(B, K, H, W)``,
            e.g. ``segedu.models.get_model("unet", ...)`` or ``segedu.training.shipped.pretrained(...)``.
        samples: A dataset of ``(image, mask)`` pairs (or of bare images), e.g. ShapesScenes.
            Layer labels give the feature-map sizes of the first sample.
        layer: Layer shown first (see ``panel.state["layers"]``); default: the first one run.
        sample: Sample shown first.
        channel: Channel shown first.
        grid: Start with a grid of :data:`GRID_CHANNELS` channels instead of one channel.
        row: Probed output row (default: the middle).
        column: Probed output column (default: the middle).
        class_names: One name per class; default: ``samples.class_names`` or "class k".
        scale: Display enlargement of the input, prediction and mask; feature maps are drawn
            at the same size as the enlarged input.
        cache_size: Samples whose recordings are kept.

    Returns:
        A panel with controls ``"sample"``, ``"layer"``, ``"channel"``, ``"grid"``, ``"row"``,
        ``"column"``; images ``"input"`` (with the probe's receptive field), ``"activation"``,
        ``"prediction"``, ``"truth"``, ``"scores"``; and state ``sample``, ``layer``, ``kind``,
        ``layers`` (names in the order the forward pass reaches them), ``channel``, ``grid``,
        ``channels_shown``, ``activation_shape``, ``value_range``, ``row``, ``column``,
        ``probabilities``, ``predicted_class``, ``true_class``, ``receptive_field``
        (:class:`~segedu.analysis.receptive_field.PixelReceptiveField`), ``receptive_field_box`` and
        ``forward_passes`` (how many times the model has run).

    Raises:
        ValueError: For a model without convolutions, an unknown layer name (the message lists
            the valid ones), samples whose channel count the model does not take, or values
            out of range.
    """
    import ipywidgets as widgets

    from segedu.plots.masks import colorize

    explorable_layers(model)  # raises for a model without convolutions
    if len(samples) == 0:
        raise ValueError("samples must hold at least one sample; got an empty dataset")
    if not 0 <= sample < len(samples):
        raise ValueError(f"sample must be in [0, {len(samples)}); got {sample}")
    if scale < 1 or cache_size < 1:
        raise ValueError(f"scale and cache_size must be >= 1; got scale={scale}, cache_size={cache_size}")
    recorder = _Recorder(model, samples, expected_in_channels(model), cache_size)
    recording, image, _ = recorder.get(sample)
    layer_names = list(recording.order)
    if layer is None:
        layer = layer_names[0]
    if layer not in recording.activations:
        raise ValueError(f"unknown layer {layer!r}; valid layers (in the order they run): {', '.join(layer_names)}")
    num_classes, height, width = recording.logits.shape[1:]
    if class_names is None:
        class_names = getattr(samples, "class_names", None) or [f"class {k}" for k in range(num_classes)]
    class_names = list(class_names)
    if len(class_names) != num_classes:
        raise ValueError(f"class_names has {len(class_names)} names but the model predicts {num_classes} classes")
    num_channels = recording.activations[layer].shape[0]
    if not 0 <= channel < num_channels:
        raise ValueError(f"channel must be in [0, {num_channels}) for layer {layer!r}; got {channel}")
    row = height // 2 if row is None else row
    column = width // 2 if column is None else column
    if not (0 <= row < height and 0 <= column < width):
        raise ValueError(f"(row, column) must lie in the {height}x{width} output; got ({row}, {column})")

    def label(name: str) -> str:
        channels, map_height, map_width = recording.activations[name].shape
        return f"{name} · {recording.kinds[name]} · {channels}×{map_height}×{map_width}"

    controls: dict[str, Any] = {
        "sample": widgets.IntSlider(value=sample, min=0, max=len(samples) - 1, description="sample"),
        "layer": widgets.Dropdown(options=[(label(name), name) for name in layer_names], value=layer,
                                  description="layer"),
        "channel": widgets.IntSlider(value=channel, min=0, max=num_channels - 1, description="channel"),
        "grid": widgets.Checkbox(value=grid, description=f"grid of {GRID_CHANNELS} channels", indent=False),
        "row": widgets.IntSlider(value=row, min=0, max=height - 1, description="probe row"),
        "column": widgets.IntSlider(value=column, min=0, max=width - 1, description="probe column"),
    }
    controls["layer"].layout = widgets.Layout(width="480px")
    for name in ("sample", "channel", "row", "column"):
        controls[name].layout = widgets.Layout(width="340px")
        controls[name].style.description_width = "90px"
    views = {name: widgets.Image(format="png") for name in ("input", "activation", "prediction", "truth", "scores")}
    for name, view in views.items():
        view.add_class(f"segedu-feature-map-{name}")
    for name, control in controls.items():
        control.add_class(f"segedu-feature-map-{name}")
    layer_caption, probe_caption = widgets.HTML(), widgets.HTML()

    def titled(title: str, view: Any) -> Any:
        return widgets.VBox([widgets.Label(title), view], layout=widgets.Layout(margin="0 16px 8px 0"))

    wrap = widgets.Layout(flex_flow="row wrap")
    box = widgets.VBox([
        widgets.HBox([controls["sample"], controls["layer"]], layout=wrap),
        widgets.HBox([controls["channel"], controls["grid"]], layout=wrap),
        layer_caption,
        widgets.HBox([titled("input + receptive field", views["input"]),
                      titled("feature map", views["activation"])], layout=wrap),
        widgets.HBox([controls["row"], controls["column"]], layout=wrap),
        widgets.HBox([titled("prediction", views["prediction"]), titled("true mask", views["truth"]),
                      titled("softmax at the probe", views["scores"])], layout=wrap),
        probe_caption,
    ])
    box.add_class("segedu-feature-map-explorer")
    panel = WidgetPanel(box, controls, views, {"layers": layer_names})
    busy = [False]  # True while one control adjusts another (e.g. a new layer clamps the channel)

    def current() -> tuple[ActivationRecording, Tensor, Tensor | None]:
        return recorder.get(controls["sample"].value)

    def show_activation() -> None:
        recording = current()[0]
        name, channel = controls["layer"].value, controls["channel"].value
        activation = recording.activations[name]  # (C, h, w)
        size_height, size_width = height * scale, width * scale
        if controls["grid"].value:
            shown = grid_channels(activation.shape[0], channel)
            picture = render_channel_grid(activation, shown, selected=channel, height=size_height, width=size_width)
            shown_range = min_max(activation[shown].numpy())
            what = f"channels {shown[0]}–{shown[-1]} (one colour scale), channel {channel} framed"
        else:
            shown = [channel]
            picture = render_feature_map(activation[channel], height=size_height, width=size_width)
            shown_range = min_max(activation[channel].numpy())
            what = f"channel {channel}"
        views["activation"].value = array_to_png(picture, scale=1)
        channels, map_height, map_width = activation.shape
        stride = height / map_height
        resolution = "full resolution" if stride == 1 else f"1/{stride:g} of the input's resolution"
        layer_caption.value = (
            f"<b>{name}</b> ({recording.kinds[name]}): {channels} channels × {map_height} × {map_width} "
            f"({resolution}). Showing {what}: values {shown_range[0]:.3g} … "
            f"{shown_range[1]:.3g}."
        )
        panel.state.update(
            layer=name, kind=recording.kinds[name], channel=channel, grid=controls["grid"].value,
            channels_shown=shown, activation_shape=tuple(activation.shape), value_range=shown_range,
        )

    def show_probe() -> None:
        recording, image, mask = current()
        row, column = controls["row"].value, controls["column"].value
        with _one_thread():
            field = pixel_receptive_field_from_recording(recording, row, column)
        probabilities = recording.logits[0, :, row, column].detach().softmax(dim=0).cpu()  # (K,)
        prediction = recording.logits[0].detach().argmax(dim=0).cpu()  # (H, W)
        predicted = int(prediction[row, column])
        true_class = None if mask is None else int(mask[row, column])
        shown_true = true_class if true_class is not None and true_class < num_classes else None
        views["input"].value = array_to_png(input_with_receptive_field(_rgb(image), field, row, column, scale), scale=1)
        views["prediction"].value = array_to_png(mark_pixel(enlarge(colorize(prediction), scale), row, column,
                                                             scale), scale=1)
        if mask is None:
            truth = np.full((image.shape[1], image.shape[2], 3), 128, dtype=np.uint8)
        else:
            truth = colorize(mask)
        views["truth"].value = array_to_png(mark_pixel(enlarge(truth, scale), row, column, scale), scale=1)
        views["scores"].value = array_to_png(
            render_class_scores(probabilities.tolist(), class_names, true_class=shown_true), scale=1
        )
        true_text = "no mask" if true_class is None else (
            f"true <b>{class_names[true_class]}</b>" if shown_true is not None else f"label {true_class} (ignored)"
        )
        box_text = "depends on no input pixel (zero gradient)"
        if field.box is not None:
            top, left, bottom, right = field.box
            box_text = (
                f"depends on rows {top}–{bottom - 1}, columns {left}–{right - 1} of the input "
                f"({field.height} × {field.width} box, {int(field.region.sum())} pixels with a nonzero gradient)"
            )
        probe_caption.value = (
            f"Pixel ({row}, {column}): predicted <b>{class_names[predicted]}</b> "
            f"({float(probabilities[predicted]):.3f}), {true_text}. Its {class_names[predicted]} score {box_text}."
        )
        panel.state.update(
            row=row, column=column, probabilities=probabilities.tolist(), predicted_class=predicted,
            true_class=true_class, receptive_field=field, receptive_field_box=field.box,
        )

    def on_sample(change: Any = None) -> None:
        nonlocal height, width
        recording, image, _ = current()
        height, width = image.shape[1], image.shape[2]
        busy[0] = True
        try:  # another image size changes the ranges of the channel and probe sliders
            controls["row"].max, controls["column"].max = height - 1, width - 1
            controls["channel"].max = recording.activations[controls["layer"].value].shape[0] - 1
        finally:
            busy[0] = False
        panel.state.update(sample=controls["sample"].value, forward_passes=recorder.forward_passes)
        show_activation()
        show_probe()

    def on_layer(change: Any) -> None:
        busy[0] = True
        try:
            controls["channel"].max = current()[0].activations[controls["layer"].value].shape[0] - 1
        finally:
            busy[0] = False
        show_activation()

    def on_view(change: Any) -> None:
        if not busy[0]:
            show_activation()

    def on_probe(change: Any) -> None:
        if not busy[0]:
            show_probe()

    controls["sample"].observe(on_sample, names="value")
    controls["layer"].observe(on_layer, names="value")
    controls["channel"].observe(on_view, names="value")
    controls["grid"].observe(on_view, names="value")
    controls["row"].observe(on_probe, names="value")
    controls["column"].observe(on_probe, names="value")
    on_sample()
    return panel
