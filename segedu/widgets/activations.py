"""Look inside a network: record every feature map of one forward pass and measure receptive fields.

Forward hooks catch the output of each layer as the model runs, so one forward pass gives
every feature map; nothing in the model changes. The *layers worth looking at* are the ones
that change what a pixel sees or where it sits: convolutions, poolings, unpoolings,
upsamplings, and the points where a skip connection is fused into the decoder (FCN's score
sums, U-Net's ``Up`` blocks, SegNet's ``DecoderStage`` blocks).

The receptive field of an output pixel is measured, not derived: the gradient of that pixel's
logit with respect to the input is nonzero exactly on the input pixels that can change it, for
this image (a ReLU that is off or a max-pool passes no gradient, so the field can be smaller than
the architecture allows). For the architecture's field, by formula or over many random images,
see :mod:`segedu.analysis.receptive_field`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "LAYER_TYPES",
    "ActivationRecording",
    "ExplorableLayer",
    "ReceptiveField",
    "expected_in_channels",
    "explorable_layers",
    "receptive_field",
    "receptive_field_from_recording",
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
"""Module types whose output the explorer offers (subclasses included, e.g. FCN's BilinearUpsample)."""


@dataclass(frozen=True)
class ExplorableLayer:
    """One place in a model whose feature map can be recorded.

    Attributes:
        name: The module's qualified name from ``model.named_modules()`` (e.g. ``"decoder.up1"``),
            or for FCN's score fusion the sum as written in ``FCN.forward``
            (``"upscore2 + score_pool4"``).
        kind: The module's class name, or ``"skip fusion"``.
        module_name: The module that is hooked.
        hook_input: True when the feature map is that module's *input* (FCN's fused scores
            are the input of the next upsampler), False for its output.
    """

    name: str
    kind: str
    module_name: str
    hook_input: bool = False


def _fusion_layers(model: nn.Module) -> list[ExplorableLayer]:
    """The skip-fusion points of segedu's FCN, U-Net and SegNet models inside ``model``."""
    from segedu.models.fcn import FCN
    from segedu.models.segnet import DecoderStage
    from segedu.models.unet import Up

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
    """A hook sees a tensor, or a tuple whose first item is the feature map (pooling with indices)."""
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    return value if isinstance(value, Tensor) and value.dim() == 4 else None


def record_activations(model: nn.Module, image: Tensor, *, keep_graph: bool = False) -> ActivationRecording:
    """Run ``model`` once on ``image`` (in eval mode) and keep the feature map of every explorable layer.

    Hooks are attached only for this call, and the model's train/eval mode is restored afterwards.

    Args:
        model: A segmentation model mapping ``(B, C_in, H, W)`` to logits ``(B, K, H, W)``.
        image: One image.
        keep_graph: Keep the autograd graph from the input to the logits, so that receptive
            fields can be measured later (:func:`receptive_field_from_recording`) without another
            forward pass.

    Returns:
        The recording.

    Shape:
        image ``(C_in, H, W)`` -> activations ``(C, h, w)`` each, logits ``(1, K, H, W)``.
    """
    layers = explorable_layers(model)
    if not isinstance(image, Tensor) or image.dim() != 3:
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"image must be a (C, H, W) tensor; got {shape}")
    modules = dict(model.named_modules())
    activations: dict[str, Tensor] = {}
    order: list[str] = []

    def keep(name: str, value: Any) -> None:
        tensor = _first_tensor(value)
        if tensor is not None and name not in activations:  # a module run twice keeps its first map
            activations[name] = tensor[0].detach().cpu()
            order.append(name)

    handles = []
    for layer in layers:
        module = modules[layer.module_name]
        if layer.hook_input:
            handles.append(module.register_forward_pre_hook(lambda _m, args, name=layer.name: keep(name, args)))
        else:
            handles.append(module.register_forward_hook(lambda _m, _a, out, name=layer.name: keep(name, out)))
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    batch = image.detach().float().to(device).clone()[None]  # (1, C_in, H, W), the caller's tensor untouched
    if keep_graph:
        batch.requires_grad_(True)
    was_training = model.training
    model.eval()
    try:
        with torch.set_grad_enabled(keep_graph):
            logits = model(batch)  # (1, K, H, W)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    kinds = {layer.name: layer.kind for layer in layers}
    return ActivationRecording(activations, order, kinds, logits, batch)


@dataclass(frozen=True)
class ReceptiveField:
    """The input pixels one output pixel depends on, measured with a gradient.

    Attributes:
        gradient: ``|d logit / d input|`` summed over input channels.
        region: Where the gradient is nonzero.
        box: ``(top, left, bottom, right)`` of the smallest rectangle holding the region (bottom
            and right exclusive, as in slicing), or None if the gradient is zero everywhere.
        class_index: The class whose logit was differentiated.

    Shape:
        gradient and region: ``(H, W)``.
    """

    gradient: Tensor
    region: Tensor
    box: tuple[int, int, int, int] | None
    class_index: int

    @property
    def height(self) -> int:
        """Rows of the bounding box (0 if the region is empty)."""
        return 0 if self.box is None else self.box[2] - self.box[0]

    @property
    def width(self) -> int:
        """Columns of the bounding box (0 if the region is empty)."""
        return 0 if self.box is None else self.box[3] - self.box[1]


def receptive_field_from_recording(
    recording: ActivationRecording, row: int, column: int, *, class_index: int | None = None
) -> ReceptiveField:
    """Measure the receptive field of output pixel ``(row, column)`` from a recording's kept graph.

    Args:
        recording: Made by :func:`record_activations` with ``keep_graph=True``; reusable for
            any number of pixels.
        row: Output row.
        column: Output column.
        class_index: Whose logit to differentiate; default: the class predicted at that pixel.

    Returns:
        The receptive field.
    """
    logits = recording.logits  # (1, K, H, W)
    if not recording.input.requires_grad or logits.grad_fn is None:
        raise ValueError("this recording has no autograd graph; record it with keep_graph=True")
    height, width = logits.shape[-2:]
    if not (0 <= row < height and 0 <= column < width):
        raise ValueError(f"(row, column) must lie in the {height}x{width} output; got ({row}, {column})")
    if class_index is None:
        class_index = int(logits[0, :, row, column].argmax())
    (gradient,) = torch.autograd.grad(logits[0, class_index, row, column], recording.input, retain_graph=True)
    magnitude = gradient[0].abs().sum(dim=0).cpu()  # (H, W)
    region = magnitude > 0  # (H, W)
    rows = region.any(dim=1).nonzero().flatten()
    columns = region.any(dim=0).nonzero().flatten()
    box = None
    if len(rows):
        box = (int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1)
    return ReceptiveField(magnitude, region, box, class_index)


def receptive_field(
    model: nn.Module, image: Tensor, row: int, column: int, *, class_index: int | None = None
) -> ReceptiveField:
    """Measure which input pixels output pixel ``(row, column)`` of ``model`` depends on.

    Example:
        >>> from segedu.models import FullResolutionNet
        >>> field = receptive_field(FullResolutionNet(1, 2, depth=3), torch.rand(1, 32, 32), 16, 16)
        >>> field.height, field.width  # 3 stacked 3x3 convs see 7 x 7 pixels
        (7, 7)

    Shape:
        image ``(C_in, H, W)``.
    """
    recording = record_activations(model, image, keep_graph=True)
    return receptive_field_from_recording(recording, row, column, class_index=class_index)
