"""The three shortcut styles of FCN, SegNet and U-Net: what crosses from encoder to decoder.

All three are encoder-decoders; they differ in what the encoder hands to the decoder:

- **FCN** (8s, 16s) turns pool3 and pool4 into *class scores* with a 1x1 convolution and
  **adds** them to the upsampled coarse scores: K numbers per pixel of a 1/8 or 1/16 map.
- **SegNet** keeps only the **max-pooling indices** (which of the 4 pixels of each 2x2 window
  held the maximum) and max-unpools with them: one index per pooled value, no features.
- **U-Net** copies the **whole encoder feature map** at every level and **concatenates** it
  with the upsampled decoder map: every channel of every pixel.

:func:`shortcut_tensors` measures those tensors with :func:`segedu.analysis.hooks.record`;
:func:`segedu.plots.shortcut_diagram.shortcut_styles_diagram` draws the three styles side by side.

Example:
    >>> from segedu.models import get_model
    >>> rows = shortcut_tensors(get_model("fcn8s", in_channels=3, num_classes=4), (1, 3, 64, 64))
    >>> [(row.source, row.shape) for row in rows]
    [('pool4', (1, 4, 4, 4)), ('pool3', (1, 4, 8, 8))]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from segedu.analysis.hooks import record, recording
from segedu.models import FCN, SegNet, UNet
from segedu.models.segnet import EncoderStage
from segedu.models.unet import DoubleConv, Down, Up

__all__ = ["SHORTCUT_STYLES", "ShortcutTensor", "shortcut_tensors"]

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


def _record(model: nn.Module, images: Tensor, layers: list[str]) -> dict[str, Any]:
    """Run ``model`` once in eval mode without gradients and keep what ``layers`` return."""
    was_training = model.training
    try:
        return record(model.eval(), images, layers)
    finally:
        model.train(was_training)


def _unet_shortcuts(model: nn.Module, images: Tensor) -> list[ShortcutTensor]:
    """Each ``Up`` block's skip input, named by the encoder block whose output it is (found by identity)."""
    modules = dict(model.named_modules())
    ups = [name for name, module in modules.items() if isinstance(module, Up)]
    blocks = [name for name, module in modules.items() if isinstance(module, (DoubleConv, Down))]
    was_training = model.training
    model.eval()
    try:
        with recording(model, ups, inputs=True) as received, recording(model, blocks) as produced, torch.no_grad():
            model(images)  # (B, K, H, W)
    finally:
        model.train(was_training)
    rows = []
    for up, (_, skip) in received.items():  # in the order the decoder runs: deepest first
        # The outermost block that returned this very tensor (Down returns its DoubleConv's output).
        source = min((name for name, output in produced.items() if output is skip), key=len)
        rows.append(_row(source, up, "concatenate", skip))
    return rows


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
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (B, C_in, H, W); got {tuple(input_shape)}")
    parameter = next(model.parameters())
    images = torch.zeros(tuple(int(size) for size in input_shape), dtype=parameter.dtype, device=parameter.device)
    if isinstance(model, FCN):
        layers = {"pool4": "score_pool4", "pool3": "score_pool3"}
        present = {pool: name for pool, name in layers.items() if hasattr(model, name)}
        outputs = _record(model, images, list(present.values()))
        targets = {"pool4": "upscore2 + score_pool4", "pool3": "upscore_pool4 + score_pool3"}
        return [_row(pool, targets[pool], "add", outputs[name]) for pool, name in present.items()]
    if isinstance(model, SegNet):
        stages = [name for name, module in model.named_modules() if isinstance(module, EncoderStage)]
        outputs = _record(model, images, stages)  # name -> (pooled values, indices)
        rows = []
        for name in stages[::-1]:  # the decoder unpools the deepest indices first
            stage = name.split(".")[-1]
            rows.append(_row(stage, f"decoder.{stage}", "unpool", outputs[name][1]))
        return rows
    if isinstance(model, UNet):
        return _unet_shortcuts(model, images)
    raise ValueError(
        f"model must be a segedu FCN, SegNet or UNet (they are the ones with shortcuts to measure); "
        f"got {type(model).__name__}"
    )
