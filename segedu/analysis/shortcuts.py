"""The three shortcut styles of FCN, SegNet and U-Net: what crosses from encoder to decoder.

All three are encoder-decoders; they differ in what the encoder hands to the decoder:

- **FCN** (8s, 16s) turns pool3 and pool4 into *class scores* with a 1x1 convolution and
  **adds** them to the upsampled coarse scores: K numbers per pixel of a 1/8 or 1/16 map.
- **SegNet** keeps only the **max-pooling indices** (which of the 4 pixels of each 2x2 window
  held the maximum) and max-unpools with them: one index per pooled value, no features.
- **U-Net** copies the **whole encoder feature map** at every level and **concatenates** it
  with the upsampled decoder map: every channel of every pixel.

:func:`shortcut_tensors` measures those tensors with forward hooks; :func:`shortcut_styles_diagram`
draws the three styles side by side.

Example:
    >>> from segedu.models import get_model
    >>> rows = shortcut_tensors(get_model("fcn8s", in_channels=3, num_classes=4), (1, 3, 64, 64))
    >>> [(row.source, row.shape) for row in rows]
    [('pool4', (1, 4, 4, 4)), ('pool3', (1, 4, 8, 8))]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["SHORTCUT_STYLES", "ShortcutTensor", "shortcut_styles_diagram", "shortcut_tensors"]

SHORTCUT_STYLES: dict[str, str] = {
    "fcn": "add class scores (1x1 conv of pool3 / pool4)",
    "segnet": "pass max-pooling indices, max-unpool",
    "unet": "concatenate whole encoder feature maps",
}
"""One line per family: how its decoder receives the encoder's detail."""


@dataclass(frozen=True)
class ShortcutTensor:
    """One tensor that a model's decoder receives from its encoder, besides the main path.

    Attributes:
        source: Encoder layer it comes from (``"pool4"``, ``"stage2"``, ``"down1"`` ...).
        target: Decoder layer that uses it.
        how: ``"add"``, ``"unpool"`` or ``"concatenate"``.
        shape: Its shape ``(B, C, h, w)``.
        values: Number of entries.
        bytes: Bytes as PyTorch stores it (float32 maps: 4 per value, int64 indices: 8).
    """

    source: str
    target: str
    how: str
    shape: tuple[int, ...]
    values: int
    bytes: int


def _record(model: nn.Module, modules: dict[str, nn.Module], images: Tensor) -> dict[str, Any]:
    """Run ``model`` once without gradients and keep the outputs of ``modules`` by name."""
    outputs: dict[str, Any] = {}
    handles = [
        module.register_forward_hook(lambda _module, _inputs, output, name=name: outputs.__setitem__(name, output))
        for name, module in modules.items()
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(images)  # (B, K, H, W)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return outputs


def _row(source: str, target: str, how: str, tensor: Tensor) -> ShortcutTensor:
    return ShortcutTensor(source, target, how, tuple(tensor.shape), tensor.numel(),
                          tensor.numel() * tensor.element_size())


def shortcut_tensors(model: nn.Module, input_shape: Sequence[int]) -> list[ShortcutTensor]:
    """Measure what crosses each shortcut of an FCN, SegNet or U-Net for one input batch.

    Runs one forward pass on zeros of ``input_shape`` (the model's mode is restored); shapes do
    not depend on the values. The models pad H and W to a multiple of their total stride first,
    so the shapes are those of the padded input.

    Args:
        model: A :class:`~segedu.models.FCN`, :class:`~segedu.models.SegNet` or
            :class:`~segedu.models.UNet`.
        input_shape: ``(B, C_in, H, W)``.

    Returns:
        One row per shortcut, in the order the decoder uses them (coarse to fine). FCN-32s has
        none: an empty list.

    Raises:
        ValueError: For another kind of model or a shape that is not ``(B, C_in, H, W)``.
    """
    from segedu.models import FCN, SegNet, UNet
    from segedu.analysis.unet_anatomy import skip_sources

    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (B, C_in, H, W); got {tuple(input_shape)}")
    parameter = next(model.parameters())
    images = torch.zeros(tuple(int(size) for size in input_shape), dtype=parameter.dtype, device=parameter.device)
    if isinstance(model, FCN):
        layers = {"pool4": "score_pool4", "pool3": "score_pool3"}
        present = {pool: getattr(model, name) for pool, name in layers.items() if hasattr(model, name)}
        outputs = _record(model, present, images)
        targets = {"pool4": "upscore2 + score_pool4", "pool3": "upscore_pool4 + score_pool3"}
        return [_row(pool, targets[pool], "add", outputs[pool]) for pool in present]
    if isinstance(model, SegNet):
        outputs = _record(model, dict(model.encoder.items()), images)
        names = list(model.encoder)[::-1]  # the decoder unpools the deepest indices first
        return [_row(name, f"decoder.{name}", "unpool", outputs[name][1]) for name in names]
    if isinstance(model, UNet):
        sources = skip_sources(model)  # decoder block -> encoder block, deepest first
        modules = {"inc": model.inc, **dict(model.encoder.items())}
        outputs = _record(model, {name: modules[name] for name in sources.values()}, images)
        return [_row(source, f"decoder.{up}", "concatenate", outputs[source]) for up, source in sources.items()]
    raise ValueError(
        f"model must be a segedu FCN, SegNet or UNet (they are the ones with shortcuts to measure); "
        f"got {type(model).__name__}"
    )


# ------------------------------------------------------------------------------------- drawing

_ENCODER_COLOR, _DECODER_COLOR, _OUTPUT_COLOR, _SHORTCUT_COLOR = "#9ecae1", "#fdae6b", "#a1d99b", "#d62728"
_STEP, _ENCODER_Y, _DECODER_Y = 1.3, 2.2, -0.9


def _side(stride: int) -> float:
    return 1.4 / stride**0.5  # square-root scale keeps the 1/32 maps visible


def _box(axis: Axes, column: int, y: float, stride: int, color: str, label: str = "") -> None:
    from matplotlib.patches import Rectangle

    side = _side(stride)
    axis.add_patch(Rectangle((column * _STEP - 0.25, y - side / 2), 0.5, side, facecolor=color, edgecolor="black"))
    if label:
        axis.text(column * _STEP, y + side / 2 + 0.08, label, ha="center", va="bottom", fontsize=7)


def _arrow(axis: Axes, start: tuple[float, float], end: tuple[float, float], *, color: str = "black",
           style: str = "-", width: float = 1.0, label: str = "", side: str = "above") -> None:
    axis.annotate("", xy=end, xytext=start,
                  arrowprops=dict(arrowstyle="->", color=color, lw=width, linestyle=style, shrinkA=0, shrinkB=0))
    if label:
        middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        where = {"above": dict(ha="center", va="bottom"), "right": dict(ha="left", va="center")}[side]
        axis.text(middle[0] + (0.06 if side == "right" else 0), middle[1] + (0.05 if side == "above" else 0),
                  label, fontsize=7, color=color, **where)


def _encoder(axis: Axes, strides: Sequence[int], names: dict[int, str] | None = None) -> None:
    """The encoder row, left to right; arrows are the 2x2 max-poolings."""
    names = names or {}
    for column, stride in enumerate(strides):
        label = "input res." if stride == 1 else f"1/{stride}"
        label = f"{label}\n{names[column]}" if column in names else label
        _box(axis, column, _ENCODER_Y, stride, _ENCODER_COLOR, label)
        if column:
            _arrow(axis, ((column - 1) * _STEP + 0.27, _ENCODER_Y), (column * _STEP - 0.27, _ENCODER_Y), label="pool")


def _decoder(axis: Axes, strides: Sequence[int], step_label: str) -> None:
    """Decoder row: the bottleneck comes down, then each step goes one column left, one level finer."""
    last = len(strides) - 1
    bottleneck = _side(strides[last])
    _arrow(axis, (last * _STEP, _ENCODER_Y - bottleneck / 2 - 0.05), (last * _STEP, _DECODER_Y + bottleneck / 2 + 0.02))
    _box(axis, last, _DECODER_Y, strides[last], _DECODER_COLOR)
    for column in range(last - 1, -1, -1):
        _box(axis, column, _DECODER_Y, strides[column], _OUTPUT_COLOR if column == 0 else _DECODER_COLOR)
        _arrow(axis, ((column + 1) * _STEP - 0.27, _DECODER_Y), (column * _STEP + 0.27, _DECODER_Y))
        axis.text((column + 0.5) * _STEP, _DECODER_Y - 0.12, step_label, ha="center", va="top", fontsize=7)
    axis.text(0, _DECODER_Y - _side(1) / 2 - 0.08, "prediction", ha="center", va="top", fontsize=7)


def _draw_fcn(axis: Axes) -> None:
    from matplotlib.patches import Circle

    strides = (1, 2, 4, 8, 16, 32)
    _encoder(axis, strides, {3: "pool3", 4: "pool4", 5: "pool5"})
    _box(axis, 5, _DECODER_Y, 32, _DECODER_COLOR)  # conv7's class scores at 1/32
    _arrow(axis, (5 * _STEP, _ENCODER_Y - _side(32) / 2 - 0.05), (5 * _STEP, _DECODER_Y + _side(32) / 2 + 0.02),
           label="fc6, fc7,\nscores", side="right")
    for column in (4, 3):  # pool4 (1/16), then pool3 (1/8): a 1x1 conv to K scores, added
        x = column * _STEP
        axis.add_patch(Circle((x, _DECODER_Y), 0.2, facecolor="white", edgecolor=_SHORTCUT_COLOR, lw=1.3))
        axis.text(x, _DECODER_Y, "+", ha="center", va="center", fontsize=11, color=_SHORTCUT_COLOR)
        _arrow(axis, ((column + 1) * _STEP - 0.25, _DECODER_Y), (x + 0.22, _DECODER_Y))
        axis.text((column + 0.5) * _STEP, _DECODER_Y - 0.12, "2x up", ha="center", va="top", fontsize=7)
        _arrow(axis, (x, _ENCODER_Y - _side(strides[column]) / 2 - 0.05), (x, _DECODER_Y + 0.22),
               color=_SHORTCUT_COLOR, width=1.2, label="1x1 conv:\nK scores", side="right")
    _box(axis, 0, _DECODER_Y, 1, _OUTPUT_COLOR)
    _arrow(axis, (3 * _STEP - 0.22, _DECODER_Y), (0.27, _DECODER_Y), label="8x up (bilinear init.)")
    axis.text(0, _DECODER_Y - _side(1) / 2 - 0.08, "prediction", ha="center", va="top", fontsize=7)
    axis.set_title("FCN-8s: ADD class scores made from pool4 and pool3\n(K numbers per pixel of a 1/16 and a 1/8 map)",
                   fontsize=9)


def _draw_segnet(axis: Axes) -> None:
    strides = (1, 2, 4, 8, 16)
    _encoder(axis, strides)
    _decoder(axis, strides, "unpool")
    for column in range(len(strides) - 1):  # each pool's indices reach the unpooling that mirrors it
        x = (column + 0.5) * _STEP
        _arrow(axis, (x, _ENCODER_Y - 0.12), (x, _DECODER_Y + 0.05), color=_SHORTCUT_COLOR, style="--",
               label="indices", side="right")
    axis.set_title("SegNet: pass only max-pooling INDICES\n(where each maximum was; no feature values)", fontsize=9)


def _draw_unet(axis: Axes) -> None:
    strides = (1, 2, 4, 8, 16)
    _encoder(axis, strides)
    _decoder(axis, strides, "up-conv")
    for column in range(len(strides) - 1):  # every level above the bottleneck: copy the whole map
        x = column * _STEP
        _arrow(axis, (x, _ENCODER_Y - _side(strides[column]) / 2 - 0.05),
               (x, _DECODER_Y + _side(strides[column]) / 2 + 0.02), color=_SHORTCUT_COLOR, width=3.0,
               label="copy,\nconcat", side="right")
    axis.set_title("U-Net: CONCATENATE whole encoder feature maps\n(every channel of every pixel)", fontsize=9)


def shortcut_styles_diagram() -> Figure:
    """Draw FCN-8s, SegNet and U-Net as encoder rows (top) and decoder rows (bottom) with their shortcuts.

    Encoder maps are blue boxes whose height shrinks with the resolution, decoder maps orange,
    the prediction green; shortcuts are red: thin arrows into a ``+`` for FCN's score sums,
    dashed arrows for SegNet's pooling indices, thick arrows for U-Net's copied feature maps
    (the thickness hints at how much each one carries). Depths are those of segedu's models:
    FCN goes down to 1/32, SegNet and U-Net to 1/16.

    Returns:
        The figure with three panels (close it with ``matplotlib.pyplot.close(figure)``).
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(15.0, 4.4))
    for axis, draw in zip(axes, (_draw_fcn, _draw_segnet, _draw_unet)):
        draw(axis)
        axis.set_xlim(-0.5, 5 * _STEP + 0.9)
        axis.set_ylim(_DECODER_Y - 1.2, _ENCODER_Y + 1.6)
        axis.set_aspect("equal")
        axis.axis("off")
    figure.tight_layout()
    return figure
