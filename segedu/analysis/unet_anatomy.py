"""Look inside a U-Net: its named skip tensors, the sizes at every level, and what a skip adds.

:func:`trace_unet` runs one forward pass with hooks and keeps every map of the U by name: the
encoder outputs (``inc``, ``down1`` ... ``down{depth}``; all but the last are the skips), what each
up-conv produces, what each decoder block outputs, and the features the final 1x1 conv sees.
It works on the ``meta`` device too, where it computes shapes without any arithmetic, so even
the paper's 572x572 network can be traced for free. :func:`zero_skips` replaces chosen skips
by zeros for an experiment, and :func:`unet_diagram` draws the traced U with its channel counts.

Example:
    >>> import torch
    >>> from segedu.models import UNet
    >>> with torch.device("meta"):
    ...     paper = UNet.paper()
    ...     trace = trace_unet(paper, torch.empty(1, 1, 572, 572))
    >>> tuple(trace.logits.shape)
    (1, 2, 388, 388)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from segedu.models.unet import UNet

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.figure import Figure

__all__ = ["UNetTrace", "skip_sources", "trace_unet", "unet_diagram", "zero_skips"]


def skip_sources(model: UNet) -> dict[str, str]:
    """Which encoder block feeds each decoder block's skip, deepest first.

    Example:
        >>> skip_sources(UNet(1, 2, depth=3))
        {'up1': 'down2', 'up2': 'down1', 'up3': 'inc'}
    """
    encoder_names = ["inc", *list(model.encoder)[:-1]]  # the bottleneck (last Down) is no skip
    return dict(zip(model.decoder, reversed(encoder_names)))


@dataclass
class UNetTrace:
    """Every named map of one forward pass (batch dimension kept).

    Attributes:
        encoder: Outputs of ``inc`` and ``down1`` ... ``down{depth}``, top to bottom.
        upsampled: Output of each decoder block's 2x2 up-conv (``up1`` is the deepest).
        decoded: Output of each decoder block (after concatenation and its DoubleConv).
        features: What the final 1x1 conv (``outc``) sees.
        logits: The model's output.
        sources: ``skip_sources(model)``: decoder block -> encoder block whose output it receives.
        skip_connections: Whether the decoder concatenates the skips.
        input_shape: Shape of the traced batch ``(B, C, H, W)``.
    """

    encoder: dict[str, Tensor] = field(default_factory=dict)
    upsampled: dict[str, Tensor] = field(default_factory=dict)
    decoded: dict[str, Tensor] = field(default_factory=dict)
    features: Tensor | None = None
    logits: Tensor | None = None
    sources: dict[str, str] = field(default_factory=dict)
    skip_connections: bool = True
    input_shape: tuple[int, ...] = ()

    @property
    def skips(self) -> dict[str, Tensor]:
        """The skip tensors by the decoder block that receives them (before any crop)."""
        return {up: self.encoder[source] for up, source in self.sources.items()}


def trace_unet(model: UNet, image: Tensor) -> UNetTrace:
    """Run ``image`` through ``model`` once (no gradients) and keep every named map.

    Args:
        model: A :class:`~segedu.models.UNet`; its train/eval mode is restored afterwards.
        image: One image or a batch, on the model's device (``meta`` gives shapes only).

    Returns:
        The :class:`UNetTrace`.

    Shape:
        image: ``(C, H, W)`` or ``(B, C, H, W)``; every traced map keeps a batch dimension.
    """
    if not isinstance(model, UNet):
        raise ValueError(f"model must be a segedu.models.UNet; got {type(model).__name__}")
    batch = image if image.dim() == 4 else image.unsqueeze(0)  # (B, C, H, W)
    skip_connections = all(up.skip_connection for up in model.decoder.values())
    trace = UNetTrace(sources=skip_sources(model), skip_connections=skip_connections, input_shape=tuple(batch.shape))

    def keep(store: dict[str, Tensor], name: str) -> Any:
        return lambda module, inputs, output: store.__setitem__(name, output)

    def keep_features(module: Any, inputs: tuple[Tensor, ...]) -> None:
        trace.features = inputs[0]

    handles = [model.inc.register_forward_hook(keep(trace.encoder, "inc"))]
    handles += [down.register_forward_hook(keep(trace.encoder, name)) for name, down in model.encoder.items()]
    for name, up in model.decoder.items():
        handles.append(up.up.register_forward_hook(keep(trace.upsampled, name)))
        handles.append(up.register_forward_hook(keep(trace.decoded, name)))
    handles.append(model.outc.register_forward_pre_hook(keep_features))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            trace.logits = model(batch)  # (B, K, H', W')
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return trace


@contextmanager
def zero_skips(model: UNet, blocks: str | Sequence[str]) -> Iterator[None]:
    """Inside the ``with`` block, the named decoder blocks receive an all-zero skip tensor.

    The network is unchanged (same weights, same shapes); only the encoder's detail stops
    reaching the decoder at those levels, which shows how much the decoder relies on it.

    Args:
        model: A U-Net built with ``skip_connections=True``.
        blocks: Decoder block names such as ``"up4"``, or ``"all"``.

    Example:
        >>> model = UNet(3, 4, base_channels=4, depth=2).eval()
        >>> with zero_skips(model, "up2"):
        ...     blind = model(torch.rand(1, 3, 16, 16))
    """
    names = list(model.decoder) if blocks == "all" else [blocks] if isinstance(blocks, str) else list(blocks)
    unknown = [name for name in names if name not in model.decoder]
    if unknown:
        raise ValueError(f"unknown decoder blocks {unknown}; choose from {list(model.decoder)} or 'all'")

    def blank(module: Any, inputs: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        x, skip = inputs
        return x, torch.zeros_like(skip)

    handles = [model.decoder[name].register_forward_pre_hook(blank) for name in names]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _side(tensor: Tensor) -> str:
    height, width = tensor.shape[-2:]
    return f"{height}x{width}" if height != width else f"{height}²"


def unet_diagram(trace: UNetTrace, *, title: str = "") -> Figure:
    """Draw the traced U: one box per map, labelled with its channels and size.

    Encoder boxes (blue) go down the left, decoder boxes (orange) come up the right; a box's
    width grows with its channels and its height with its side. Grey arrows are the skips
    ("copy", or "copy and crop" when the decoder's map is smaller), red arrows max-pooling,
    green arrows up-convolutions.

    Args:
        trace: From :func:`trace_unet` (on any device, ``meta`` included).
        title: Figure title.

    Returns:
        The figure (close it with ``matplotlib.pyplot.close(figure)``).
    """
    import math

    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Rectangle

    encoder = list(trace.encoder.values())  # level 0 .. depth
    decoder = list(trace.decoded.values())[::-1]  # level 0 .. depth-1 (up{depth} is level 0)
    upsampled = list(trace.upsampled.values())[::-1]
    depth = len(encoder) - 1
    largest = encoder[0].shape[-2]
    base = encoder[0].shape[1]
    figure, axis = plt.subplots(figsize=(10, 1.3 + 1.15 * depth))

    def box_size(tensor: Tensor) -> tuple[float, float]:
        width = 0.75 + 0.1 * math.log2(tensor.shape[1] / base)
        height = 0.35 + 0.55 * tensor.shape[-2] / largest
        return width, height

    def draw(tensor: Tensor, center_x: float, level: int, color: str, label: str) -> tuple[float, float, float, float]:
        width, height = box_size(tensor)
        center_y = -1.15 * level
        axis.add_patch(Rectangle((center_x - width / 2, center_y - height / 2), width, height,
                                 facecolor=color, edgecolor="black"))
        axis.text(center_x, center_y, label, ha="center", va="center", fontsize=7.5)
        return center_x, center_y, width, height

    def arrow(start: tuple[float, float], end: tuple[float, float], color: str, text: str = "") -> None:
        axis.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color, linewidth=1.5))
        if text:
            axis.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.06, text, ha="center", va="bottom",
                      fontsize=7, color="dimgray")

    def bottom(box: tuple[float, float, float, float]) -> tuple[float, float]:
        return box[0], box[1] - box[3] / 2

    def top(box: tuple[float, float, float, float]) -> tuple[float, float]:
        return box[0], box[1] + box[3] / 2

    left, right = 1.0, 7.4
    encoder_boxes, decoder_boxes = [], []
    for level, tensor in enumerate(encoder):
        bottleneck = level == depth
        x = (left + right) / 2 if bottleneck else left + 0.5 * level
        name = "inc" if level == 0 else f"down{level}"
        label = f"{name}\n{tensor.shape[1]} ch\n{_side(tensor)}"
        encoder_boxes.append(draw(tensor, x, level, "#c7e9c0" if bottleneck else "#9ecae1", label))
    for level, tensor in enumerate(decoder):
        channels_in = 2 * tensor.shape[1] if trace.skip_connections else tensor.shape[1]
        label = f"up{depth - level}\n{channels_in}→{tensor.shape[1]} ch\n{_side(tensor)}"
        decoder_boxes.append(draw(tensor, right - 0.5 * level, level, "#fdae6b", label))
    decoder_boxes.append(encoder_boxes[depth])  # the decoder starts from the bottleneck
    for level in range(depth):
        arrow(bottom(encoder_boxes[level]), top(encoder_boxes[level + 1]), "#d62728", "pool")
        arrow(top(decoder_boxes[level + 1]), bottom(decoder_boxes[level]), "#2ca02c",
              f"up-conv → {_side(upsampled[level])}")
        if trace.skip_connections:
            (ex, ey, ew, _), (dx, dy, dw, _) = encoder_boxes[level], decoder_boxes[level]
            skip, target = encoder[level], upsampled[level]
            crop = skip.shape[-2:] != target.shape[-2:]
            text = f"copy and crop {_side(skip)} → {_side(target)}" if crop else f"copy ({skip.shape[1]} ch)"
            arrow((ex + ew / 2, ey), (dx - dw / 2, dy), "gray", text)
    channels, height, width = trace.input_shape[1:]
    axis.text(left, 0.75, f"input {channels} x {height}x{width}", ha="center", fontsize=8)
    logits = trace.logits
    axis.text(right, 0.75, f"1x1 conv → {logits.shape[1]} class scores, {_side(logits)}", ha="center", fontsize=8)
    axis.set_xlim(0.3, 8.1)
    axis.set_ylim(-1.15 * depth - 0.8, 1.0)
    axis.set_aspect("equal")
    axis.axis("off")
    axis.set_title(title or f"U-Net, depth {depth}")
    figure.tight_layout()
    return figure
