"""Which class does a channel detect? Measure it with IoU over a test set, and test it by silencing the channel.

Looking at a few feature maps overstates how "class-like" a channel is. Two measurements
replace the impression:

- **Class IoU** (after *network dissection*, Bau et al., CVPR 2017): threshold channel k so that
  it is "on" on as many test pixels as class c occupies, and compute the IoU of that on-region
  with the class mask, over all test pixels at once (:func:`channel_class_iou`). A channel that
  *is* the class mask scores 1. A channel that fires evenly on two classes of n pixels each is on
  at n of their 2n pixels, about n/2 in each class, so it scores about (n/2) / (3n/2) = 1/3 for
  either (and 0 if its values there tie exactly, since tied values are off). Bau et al. use one
  fixed threshold per channel (its top 0.5 % of values) and a dataset of labelled concepts;
  segedu matches the threshold to each class's pixel share, so that a perfect detector of any
  class can reach 1 on these small scenes.
- **Silencing** (:func:`silence_channels`): set chosen channels of a layer's output to zero (or to
  another fixed value, such as the channel's mean over a test set) while the model runs, and score
  the model per class. A channel whose loss hurts one class's IoU much more than the others'
  carries that class's evidence.

Maps smaller than the masks are upsampled bilinearly to the mask size first, as in network dissection.

Example:
    >>> import torch
    >>> activations = torch.zeros(2, 1, 4, 4); activations[:, 0, :2] = 1.0  # channel 0 marks the top half
    >>> masks = torch.zeros(2, 4, 4, dtype=torch.long); masks[:, :2] = 1
    >>> channel_class_iou(activations, masks, num_classes=2)
    tensor([[0., 1.]])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from segedu.analysis.hooks import record

__all__ = ["channel_class_iou", "layer_maps", "silence_channels"]


def layer_maps(model: nn.Module, images: Tensor, layers: Sequence[str], *, batch_size: int = 50) -> dict[str, Tensor]:
    """The outputs of ``layers`` for every image, upsampled (bilinear) to the images' size.

    Args:
        model: Any model; run in eval mode without gradients (its mode is restored).
        images: ``(N, C, H, W)``.
        layers: Qualified module names, e.g. ``["inc", "up4"]``.
        batch_size: Images per forward pass.

    Returns:
        Layer name -> ``(N, C_layer, H, W)`` float.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be (N, C, H, W); got shape {tuple(images.shape)}")
    if isinstance(layers, str):
        raise ValueError(f"layers must be a list of names, not the string {layers!r}; write [{layers!r}]")
    was_training = model.training
    model.eval()
    parts: dict[str, list[Tensor]] = {name: [] for name in layers}
    try:
        for start in range(0, len(images), batch_size):
            outputs = record(model, images[start : start + batch_size], list(layers))
            for name in layers:
                output = outputs[name]  # (B, C_layer, h, w)
                if tuple(output.shape[-2:]) != tuple(images.shape[-2:]):
                    output = F.interpolate(output, size=images.shape[-2:], mode="bilinear", align_corners=False)
                parts[name].append(output)  # (B, C_layer, H, W)
    finally:
        model.train(was_training)
    return {name: torch.cat(maps) for name, maps in parts.items()}


def channel_class_iou(activations: Tensor, masks: Tensor, num_classes: int) -> Tensor:
    """IoU of each thresholded channel with each class mask, over all pixels of all images.

    For channel k and class c, with n the number of pixels of class c, the channel is "on" at
    its n largest values over all pixels (the values above its ``1 - share_c`` quantile); values
    tied with the (n+1)-th largest are off, so a channel that is 0 on most pixels gets no credit
    for its zeros. The on-region is compared with the class's pixels. A class with no pixel gets NaN.

    Args:
        activations: ``(N, C, H, W)`` channel maps at the masks' resolution.
        masks: ``(N, H, W)`` integer labels in ``[0, num_classes)``.
        num_classes: K.

    Returns:
        ``(C, K)`` IoU in [0, 1] (NaN for absent classes).
    """
    if activations.dim() != 4 or masks.dim() != 3 or activations.shape[0] != masks.shape[0] \
            or activations.shape[-2:] != masks.shape[-2:]:
        raise ValueError(
            f"activations must be (N, C, H, W) and masks (N, H, W) with the same N, H, W; got "
            f"{tuple(activations.shape)} and {tuple(masks.shape)}"
        )
    values = activations.transpose(0, 1).reshape(activations.shape[1], -1).float()  # (C, N*H*W)
    labels = masks.reshape(-1)  # (N*H*W,)
    ranked = values.sort(dim=1, descending=True).values  # (C, N*H*W), largest first
    iou = torch.full((values.shape[0], num_classes), float("nan"))
    for class_index in range(num_classes):
        inside = labels == class_index  # (N*H*W,)
        count = int(inside.sum())
        if count == 0:
            continue
        if count == labels.numel():
            on = torch.ones_like(values, dtype=torch.bool)  # the class is everywhere: so is every channel
        else:
            on = values > ranked[:, count : count + 1]  # (C, N*H*W): above the (count+1)-th largest value
        intersection = (on & inside).sum(dim=1).float()
        union = (on | inside).sum(dim=1).float()
        iou[:, class_index] = intersection / union
    return iou


@contextmanager
def silence_channels(
    model: nn.Module, layer: str, channels: int | Sequence[int], *, value: float | Tensor = 0.0
) -> Iterator[None]:
    """Inside the ``with`` block, the given channels of ``layer``'s output are constant (zero by default).

    A forward hook replaces the output (the model's weights are untouched); it is removed on exit.
    Zero is the usual choice ("zero ablation"); passing each channel's mean over a test set
    ("mean ablation") removes only the channel's variation and keeps its average contribution.

    Args:
        model: Any model.
        layer: A qualified module name whose output is a ``(B, C, h, w)`` tensor.
        channels: One channel index or several.
        value: The constant written into the chosen channels: one number for all of them, or a
            ``(len(channels),)`` tensor with one value per chosen channel, in the same order.
    """
    modules = dict(model.named_modules())
    if layer not in modules or not layer:
        raise ValueError(f"model has no layer named {layer!r}")
    chosen = [channels] if isinstance(channels, int) else list(channels)
    fill = torch.as_tensor(value, dtype=torch.float32).reshape(-1)  # (1,) or (len(chosen),)
    if fill.numel() not in (1, len(chosen)):
        raise ValueError(f"value must be one number or one per channel ({len(chosen)}); got {fill.numel()} values")

    def silence(module: Any, inputs: Any, output: Tensor) -> Tensor:
        if any(not 0 <= channel < output.shape[1] for channel in chosen):
            raise ValueError(f"channels {chosen} out of range for {layer!r} with {output.shape[1]} channels")
        output = output.clone()
        output[:, chosen] = fill.to(output)[:, None, None].expand(len(chosen), *output.shape[-2:])
        return output

    handle = modules[layer].register_forward_hook(silence)
    try:
        yield
    finally:
        handle.remove()
