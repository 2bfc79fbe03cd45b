"""Look inside a U-Net: its named skip tensors, the sizes at every level, and what a skip adds.

:func:`trace_unet` runs one forward pass under :func:`segedu.analysis.hooks.recording` and keeps
every map of the U by name: the encoder outputs (``inc``, ``down1`` ... ``down4``; all but the
last are the skips), what each up-conv produces, what each decoder block outputs, and the
features the final 1x1 conv sees. It also keeps what each ``Up`` block actually received (a
forward pre-hook) and names the encoder block whose output that skip *is* (by identity), so the
wiring is observed, not assumed.
It works on the ``meta`` device too, where it computes shapes without any arithmetic, so even
the paper's 572x572 network can be traced for free. :func:`zero_skips` replaces chosen skips
by zeros for an experiment, and :func:`segedu.plots.unet_diagram.unet_diagram` draws the traced U
with its channel counts.

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
from typing import Any

import torch
from torch import Tensor

from segedu.analysis.hooks import recording
from segedu.models.unet import UNet

__all__ = ["UNetTrace", "skip_sources", "trace_unet", "zero_skips"]


_DOWN_PATH = ("inc", "down1", "down2", "down3", "down4")  # top to bottom; down4 is the bottleneck
_UP_PATH = ("up1", "up2", "up3", "up4")  # deepest first, as the decoder runs


def skip_sources(model: UNet) -> dict[str, str]:
    """Which encoder block feeds each decoder block's skip, deepest first, as ``UNet.forward`` wires them.

    This is the expected pairing; :func:`trace_unet` observes the real one (``UNetTrace.sources``).

    Example:
        >>> skip_sources(UNet(1, 2))
        {'up1': 'down3', 'up2': 'down2', 'up3': 'down1', 'up4': 'inc'}
    """
    if not isinstance(model, UNet):
        raise ValueError(f"model must be a segedu.models.UNet; got {type(model).__name__}")
    return dict(zip(_UP_PATH, reversed(_DOWN_PATH[:-1])))  # the bottleneck (down4) is no skip


@dataclass
class UNetTrace:
    """Every named map of one forward pass (batch dimension kept).

    Attributes:
        encoder: Outputs of ``inc`` and ``down1`` ... ``down4``, top to bottom.
        upsampled: Output of each decoder block's 2x2 up-conv (``up1`` is the deepest).
        decoded: Output of each decoder block (after concatenation and its DoubleConv).
        features: What the final 1x1 conv (``outc``) sees.
        logits: The model's output.
        received: What each decoder block was called with, ``(from_below, skip)``, recorded by a
            forward pre-hook.
        sources: Decoder block -> encoder block whose output *is* (by identity) the skip it
            received; ``"(replaced)"`` when the skip was no encoder output (e.g. under :func:`zero_skips`).
        skip_connections: Whether the decoder concatenates the skips.
        input_shape: Shape of the traced batch ``(B, C, H, W)``.
    """

    encoder: dict[str, Tensor] = field(default_factory=dict)
    upsampled: dict[str, Tensor] = field(default_factory=dict)
    decoded: dict[str, Tensor] = field(default_factory=dict)
    received: dict[str, tuple[Tensor, Tensor]] = field(default_factory=dict)
    features: Tensor | None = None
    logits: Tensor | None = None
    sources: dict[str, str] = field(default_factory=dict)
    skip_connections: bool = True
    input_shape: tuple[int, ...] = ()

    @property
    def skips(self) -> dict[str, Tensor]:
        """The skip tensors by the decoder block that receives them (before any crop)."""
        if self.received:
            return {up: inputs[1] for up, inputs in self.received.items()}
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
    skip_sources(model)  # checks that model is a UNet
    batch = image if image.dim() == 4 else image.unsqueeze(0)  # (B, C, H, W)
    skip_connections = all(getattr(model, name).skip_connection for name in _UP_PATH)
    trace = UNetTrace(skip_connections=skip_connections, input_shape=tuple(batch.shape))
    upsamplers = [f"{name}.up" for name in _UP_PATH]
    was_training = model.training
    model.eval()
    try:
        with recording(model, [*_DOWN_PATH, *upsamplers, *_UP_PATH]) as outputs, \
                recording(model, ["outc", *_UP_PATH], inputs=True) as seen, torch.no_grad():
            trace.logits = model(batch)  # (B, K, H', W')
    finally:
        model.train(was_training)
    trace.encoder = {name: outputs[name] for name in _DOWN_PATH}
    trace.upsampled = {name: outputs[f"{name}.up"] for name in _UP_PATH}
    trace.decoded = {name: outputs[name] for name in _UP_PATH}
    trace.features = seen["outc"]
    trace.received = {name: seen[name] for name in _UP_PATH}  # (from_below, skip) as each Up was called
    trace.sources = {
        name: next((source for source, output in trace.encoder.items() if output is skip), "(replaced)")
        for name, (_, skip) in trace.received.items()
    }  # observed: the encoder block whose output is the very tensor the Up block received
    return trace


@contextmanager
def zero_skips(model: UNet, blocks: str | Sequence[str]) -> Iterator[None]:
    """Inside the ``with`` block, the named decoder blocks receive an all-zero skip tensor.

    The network is unchanged (same weights, same shapes); only the encoder's detail stops
    reaching the decoder at those levels, which shows how much the decoder relies on it.
    (A forward pre-hook on each ``upK`` changes its input, so this is not a recording.)

    Args:
        model: A U-Net built with ``skip_connections=True``.
        blocks: Decoder block names such as ``"up4"``, or ``"all"``.

    Example:
        >>> model = UNet(3, 4, base_channels=4).eval()
        >>> with zero_skips(model, "up4"):
        ...     blind = model(torch.rand(1, 3, 16, 16))
    """
    names = list(_UP_PATH) if blocks == "all" else [blocks] if isinstance(blocks, str) else list(blocks)
    unknown = [name for name in names if name not in _UP_PATH]
    if unknown:
        raise ValueError(f"unknown decoder blocks {unknown}; choose from {list(_UP_PATH)} or 'all'")

    def blank(module: Any, inputs: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        x, skip = inputs
        return x, torch.zeros_like(skip)

    handles = [getattr(model, name).register_forward_pre_hook(blank) for name in names]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
