"""Record every feature map of one forward pass of a segmentation model.

The recorder of :mod:`segedu.analysis.hooks` catches the output of each layer as the model runs,
so one forward pass gives every feature map; nothing in the model changes. The *layers worth
looking at* are the ones that change what a pixel sees or where it sits: convolutions, poolings,
unpoolings, upsamplings, and the points where a skip connection is fused into the decoder (FCN's
score sums, U-Net's ``Up`` blocks, SegNet's ``DecoderStage`` blocks).

A recording made with ``keep_graph=True`` also keeps the autograd graph from the input to the
logits, so the receptive field of any output pixel can be measured afterwards without another
forward pass (:func:`segedu.analysis.receptive_field.pixel_receptive_field_from_recording`).

Example:
    >>> from segedu.models import UNet
    >>> recording = record_activations(UNet(3, 4, base_channels=4), torch.rand(3, 32, 32))
    >>> tuple(recording.activations["down1.pool"].shape)
    (4, 16, 16)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from segedu.analysis.hooks import recording
from segedu.models.fcn import FCN
from segedu.models.segnet import DecoderStage
from segedu.models.unet import Up

__all__ = [
    "LAYER_TYPES",
    "ActivationRecording",
    "ExplorableLayer",
    "expected_in_channels",
    "explorable_layers",
    "record_activations",
]

LAYER_TYPES: tuple[type[nn.Module], ...] = (
    nn.Conv2d,
    nn.ConvTranspose2d,
    nn.MaxPool2d,
    nn.MaxUnpool2d,
    nn.AvgPool2d,
    nn.Upsample,
)
"""Module types whose output is offered (subclasses included, e.g. FCN's BilinearUpsample)."""


@dataclass(frozen=True)
class ExplorableLayer:
    """One place in a model whose feature map can be recorded.

    Attributes:
        name: The module's qualified name from ``model.named_modules()`` (e.g. ``"up1"``),
            or for FCN's score fusion the sum as written in ``FCN.forward``
            (``"upscore2 + score_pool4"``).
        kind: The module's class name, or ``"skip fusion"``.
        module_name: The module that is recorded.
        hook_input: True when the feature map is that module's *input* (FCN's fused scores
            are the input of the next upsampler), False for its output.
    """

    name: str
    kind: str
    module_name: str
    hook_input: bool = False


def _fusion_layers(model: nn.Module) -> list[ExplorableLayer]:
    """The skip-fusion points of segedu's FCN, U-Net and SegNet models inside ``model``."""
    layers = []
    for prefix, module in model.named_modules():
        dot = f"{prefix}." if prefix else ""
        if isinstance(module, (Up, DecoderStage)):
            layers.append(ExplorableLayer(prefix, f"{type(module).__name__} (skip fusion)", prefix))
        elif isinstance(module, FCN) and module.variant != "32s":
            # FCN.forward adds the skip scores with `+`, not in a module: the sum is the input of
            # the upsampler that follows it.
            after_pool4 = "upscore16" if module.variant == "16s" else "upscore_pool4"
            layers.append(ExplorableLayer(f"{dot}upscore2 + {dot}score_pool4", "skip fusion", dot + after_pool4, True))
            if module.variant == "8s":
                name = f"{dot}upscore_pool4 + {dot}score_pool3"
                layers.append(ExplorableLayer(name, "skip fusion", f"{dot}upscore8", True))
    return layers


def explorable_layers(model: nn.Module) -> list[ExplorableLayer]:
    """Every conv, pool, unpool and upsampling layer of ``model`` and its skip-fusion points.

    Listed in the order of ``model.named_modules()`` (the order of the constructor), fusion
    points last; :func:`record_activations` reports the order in which they actually run.

    Raises:
        ValueError: If the model has no convolution at all (nothing to explore).
    """
    layers = [
        ExplorableLayer(name, type(module).__name__, name)
        for name, module in model.named_modules()
        if name and isinstance(module, LAYER_TYPES)
    ]
    if not any(isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) for module in model.modules()):
        raise ValueError(
            f"{type(model).__name__} has no Conv2d or ConvTranspose2d layer, so it has no feature maps to "
            "explore; pass a convolutional segmentation model such as segedu.models.get_model('unet', ...)"
        )
    return layers + _fusion_layers(model)


def expected_in_channels(model: nn.Module) -> int:
    """Input channels the model takes: its ``in_channels`` attribute, else its first convolution's."""
    channels = getattr(model, "in_channels", None)
    if isinstance(channels, int):
        return channels
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            return module.in_channels
    raise ValueError(f"{type(model).__name__} has no convolution, so its number of input channels is unknown")


@dataclass
class ActivationRecording:
    """Everything one forward pass of one image showed.

    Attributes:
        activations: Layer name -> feature map of the image, detached, on the CPU.
        order: Layer names in the order the forward pass reached them.
        kinds: Layer name -> kind (class name or "skip fusion").
        logits: The model's output; part of the autograd graph when recorded with
            ``keep_graph=True``.
        input: The input batch the logits were computed from (``requires_grad`` with ``keep_graph``).

    Shape:
        - activations: each ``(C, h, w)``.
        - logits: ``(1, K, H, W)``; input: ``(1, C_in, H, W)``.
    """

    activations: dict[str, Tensor]
    order: list[str]
    kinds: dict[str, str]
    logits: Tensor
    input: Tensor


def _first_tensor(value: Any) -> Tensor | None:
    """A layer gives a tensor, or a tuple whose first item is the feature map (pooling with indices)."""
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    return value if isinstance(value, Tensor) and value.dim() == 4 else None


def record_activations(model: nn.Module, image: Tensor, *, keep_graph: bool = False) -> ActivationRecording:
    """Run ``model`` once on ``image`` (in eval mode) and keep the feature map of every explorable layer.

    The model's train/eval mode is restored afterwards. A module that runs twice keeps its first map.

    Args:
        model: A segmentation model mapping ``(B, C_in, H, W)`` to logits ``(B, K, H, W)``.
        image: One image.
        keep_graph: Keep the autograd graph from the input to the logits, so that receptive
            fields can be measured later
            (:func:`segedu.analysis.receptive_field.pixel_receptive_field_from_recording`)
            without another forward pass.

    Returns:
        The recording.

    Shape:
        image ``(C_in, H, W)`` -> activations ``(C, h, w)`` each, logits ``(1, K, H, W)``.
    """
    layers = explorable_layers(model)
    if not isinstance(image, Tensor) or image.dim() != 3:
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"image must be a (C, H, W) tensor; got {shape}")
    by_module: dict[str, list[ExplorableLayer]] = defaultdict(list)
    for layer in sorted(layers, key=lambda layer: not layer.hook_input):  # a module's input comes before its output
        by_module[layer.module_name].append(layer)
    activations: dict[str, Tensor] = {}
    order: list[str] = []

    def keep(module_name: str, _module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        for layer in by_module[module_name]:
            tensor = _first_tensor(inputs if layer.hook_input else output)
            if tensor is not None and layer.name not in activations:  # a module run twice keeps its first map
                activations[layer.name] = tensor[0].detach().cpu()
                order.append(layer.name)

    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    batch = image.detach().float().to(device).clone()[None]  # (1, C_in, H, W), the caller's tensor untouched
    if keep_graph:
        batch.requires_grad_(True)
    was_training = model.training
    model.eval()
    try:
        with recording(model, list(by_module), callback=keep), torch.set_grad_enabled(keep_graph):
            logits = model(batch)  # (1, K, H, W)
    finally:
        model.train(was_training)
    kinds = {layer.name: layer.kind for layer in layers}
    return ActivationRecording(activations, order, kinds, logits, batch)
