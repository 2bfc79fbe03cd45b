"""What the skips give a U-Net, measured two ways: train without them, or replace them in a trained one.

- :func:`train_skip_pair` trains the same small U twice, with and without "copy and crop", with
  the same seed, data, steps and batch, on *object or background?* scenes; :func:`band_scores`
  scores a model on all pixels and on the pixels near boundaries. Run over several seeds (the
  script ``experiments/unet_skip_ablation.py``), the pair says whether the skips help and
  by how much more than the seed-to-seed spread.
- :func:`replace_skips` hands chosen decoder blocks of a *trained* U-Net a replacement instead of
  the encoder's map. Zeros are the usual choice, but a network with batch norm never saw an
  all-zero skip: the drop then also measures a shift of the input distribution. The control is
  the **mean** skip (:func:`mean_skips`), per channel over a set of images: it keeps each
  channel's average and removes only what varies from image to image, the detail.
- :func:`encode_map` and :func:`decode_map` store a map (a probability or feature map) compactly
  in a JSON record, 256 levels between its minimum and maximum, so that a lesson can draw what a
  script's models produced without retraining them.

Example:
    >>> import torch
    >>> from segedu.models import UNet
    >>> model = UNet(3, 4, base_channels=4).eval()
    >>> means = mean_skips(model, torch.rand(2, 3, 16, 16))
    >>> tuple(means["up4"].shape)
    (4, 1, 1)
    >>> with replace_skips(model, {"up4": means["up4"]}):
    ...     logits = model(torch.rand(1, 3, 16, 16))
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from segedu.analysis.unet_anatomy import skip_sources, trace_unet
from segedu.models.unet import UNet
from segedu.training.evaluation import evaluate
from segedu.training.loop import fit
from segedu.training.metrics import boundary_band

__all__ = [
    "BAND_WIDTH",
    "SCORE_NAMES",
    "band_scores",
    "decode_map",
    "encode_map",
    "mean_skips",
    "object_or_background",
    "object_scenes",
    "replace_skips",
    "train_skip_pair",
]

BAND_WIDTH = 2
"""Half-width in pixels of the boundary band scored by :func:`band_scores`."""

SCORE_NAMES = ("pixel acc.", "mean IoU", "object IoU", "band acc.", "band mIoU", "band obj.")
"""The six numbers of :func:`band_scores`: all pixels, then the boundary band only."""


def object_or_background(image: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Paired transform: keep the image, turn the mask into 0 = background, 1 = any object."""
    return image, (mask > 0).long()


def object_scenes(split: str, length: int, *, size: int = 64, seed: int = 0) -> list[tuple[Tensor, Tensor]]:
    """``length`` shapes scenes of ``split`` with object/background masks, rendered once into a list.

    Shape:
        each item: image ``(3, size, size)`` float, mask ``(size, size)`` int64 in {0, 1}.
    """
    from segedu.datasets import ShapesScenes

    scenes = ShapesScenes(split, length, size=size, seed=seed, transform=object_or_background)
    return [scenes[index] for index in range(length)]


def train_skip_pair(
    train_scenes: Dataset | Sequence[tuple[Tensor, Tensor]],
    seed: int,
    *,
    base_channels: int = 4,
    steps: int = 200,
    batch_size: int = 8,
    lr: float = 1e-2,
) -> dict[str, UNet]:
    """Train a 2-class U-Net without and with skips on the same budget; both returned in eval mode.

    Both start from ``torch.manual_seed(seed)`` and are trained by
    :func:`segedu.training.loop.fit` with ``seed=seed`` (the same order of batches), the same
    steps, batch size and learning rate. Only ``skip_connections`` differs (and with it the
    decoder convs' input channels, so the version with skips has more parameters).

    Returns:
        ``{"without skips": model, "with skips": model}``.
    """
    models = {}
    for skips in (False, True):
        torch.manual_seed(seed)
        model = UNet(3, 2, base_channels=base_channels, skip_connections=skips)
        fit(model, train_scenes, max_steps=steps, batch_size=batch_size, lr=lr, num_classes=2, seed=seed,
            progress=False)
        models["with skips" if skips else "without skips"] = model.eval()
    return models


def _near_boundaries(masks: Tensor) -> Tensor:
    return boundary_band(masks, BAND_WIDTH)  # (B, H, W) bool


def band_scores(model: torch.nn.Module, scenes: Dataset | Sequence[tuple[Tensor, Tensor]]) -> list[float]:
    """Pixel accuracy, mean IoU and object IoU on all pixels, then on the boundary band only.

    The band holds the pixels within :data:`BAND_WIDTH` pixels of an object/background boundary
    (:func:`segedu.training.metrics.boundary_band`); the names are :data:`SCORE_NAMES`.
    """
    scores = []
    for valid_mask_fn in (None, _near_boundaries):
        metrics = evaluate(model, scenes, num_classes=2, valid_mask_fn=valid_mask_fn)
        scores += [float(metrics["pixel_accuracy"]), float(metrics["mean_iou"]), float(metrics["iou_per_class"][1])]
    return scores


def mean_skips(model: UNet, images: Tensor, *, per: str = "channel", batch_size: int = 50) -> dict[str, Tensor]:
    """The average skip tensor each decoder block receives over ``images``.

    Args:
        model: A :class:`~segedu.models.UNet` with skips.
        images: ``(N, C, H, W)``, all the same size.
        per: ``"channel"``: one number per channel (averaged over images and positions), shape
            ``(C, 1, 1)``; ``"pixel"``: the mean map over the images, shape ``(C, h, w)``.
        batch_size: Images per forward pass.

    Returns:
        Decoder block name (``"up1"`` ... ``"up4"``) -> mean skip, ready for :func:`replace_skips`.
    """
    if per not in ("channel", "pixel"):
        raise ValueError(f"per must be 'channel' or 'pixel'; got {per!r}")
    if images.dim() != 4:
        raise ValueError(f"images must be (N, C, H, W); got shape {tuple(images.shape)}")
    sums: dict[str, Tensor] = {}
    for start in range(0, len(images), batch_size):
        trace = trace_unet(model, images[start : start + batch_size])
        for block, skip in trace.skips.items():  # (B, C, h, w)
            total = skip.sum(dim=0)  # (C, h, w)
            sums[block] = sums[block] + total if block in sums else total
    means = {block: total / len(images) for block, total in sums.items()}  # (C, h, w)
    if per == "channel":
        means = {block: mean.mean(dim=(1, 2), keepdim=True) for block, mean in means.items()}  # (C, 1, 1)
    return means


@contextmanager
def replace_skips(model: UNet, replacements: Mapping[str, Tensor | float]) -> Iterator[None]:
    """Inside the ``with`` block, the named decoder blocks receive ``replacements[block]`` as their skip.

    A replacement is broadcast to the skip's shape: ``0.0`` gives zeros (as
    :func:`segedu.analysis.unet_anatomy.zero_skips`), a ``(C, 1, 1)`` tensor one constant per
    channel, a ``(C, h, w)`` tensor a fixed map. The weights are unchanged; only what reaches
    the decoder through those skips is.

    Args:
        model: A U-Net built with ``skip_connections=True``.
        replacements: Decoder block (``"up1"`` ... ``"up4"``) -> value or tensor.
    """
    known = skip_sources(model)  # also checks that model is a UNet
    unknown = [name for name in replacements if name not in known]
    if unknown:
        raise ValueError(f"unknown decoder blocks {unknown}; choose from {list(known)}")

    def hook_for(value: Tensor | float) -> Any:
        def replace(module: Any, inputs: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
            x, skip = inputs
            return x, torch.as_tensor(value, dtype=skip.dtype, device=skip.device).expand_as(skip)

        return replace

    handles = [getattr(model, name).register_forward_pre_hook(hook_for(value)) for name, value in replacements.items()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def encode_map(values: Tensor, *, low: float | None = None, high: float | None = None) -> dict[str, Any]:
    """A map as JSON-ready data: 256 evenly spaced levels from ``low`` to ``high``.

    The error is at most ``(high - low) / 510``. A probability map encoded with ``low=0.0`` and
    ``high=1.0`` keeps the side of 0.5 of every value (level 127 is below 0.5, 128 above).

    Args:
        values: Any shape, e.g. ``(H, W)`` or ``(C, H, W)``; float.
        low: The value of level 0; the map's minimum by default.
        high: The value of level 255; the map's maximum by default.

    Returns:
        ``{"shape": [...], "low": float, "high": float, "levels": base64 string of uint8}``.
    """
    values = values.detach().float().cpu()
    low = float(values.min()) if low is None else float(low)
    high = float(values.max()) if high is None else float(high)
    scale = high - low if high > low else 1.0
    levels = ((values - low) / scale * 255).round().clamp(0, 255).to(torch.uint8)  # same shape
    return {"shape": list(values.shape), "low": low, "high": high,
            "levels": base64.b64encode(levels.numpy().tobytes()).decode("ascii")}


def decode_map(stored: Mapping[str, Any]) -> Tensor:
    """The map :func:`encode_map` stored, as float32 of the stored shape (within one level)."""
    raw = bytearray(base64.b64decode(stored["levels"]))
    levels = torch.frombuffer(raw, dtype=torch.uint8).float()  # (N,)
    low, high = float(stored["low"]), float(stored["high"])
    scale = high - low if high > low else 1.0
    return (low + levels / 255 * scale).reshape(stored["shape"])
