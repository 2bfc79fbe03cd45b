"""What SegNet's max-pooling indices remember, what they cost, and what unpooling makes of them.

A 2x2 max-pool with ``return_indices=True`` returns, next to every maximum, the flat position
``row * W + column`` it came from in the ``(H, W)`` map before pooling. SegNet's decoder puts each
value back there (``nn.MaxUnpool2d``), zeros elsewhere, and convolutions fill the holes in.

- :func:`window_position` turns flat indices into the "switch" of each 2x2 window (which corner);
- :func:`trace_segnet` records, stage by stage, the encoder maps before pooling, the indices, the
  sparse unpooled maps and the dense maps after the decoder convolutions
  (:func:`segedu.analysis.hooks.recording`);
- :func:`index_memory` measures, from that trace, the bytes of the indices PyTorch keeps for
  every encoder stage, next to the bytes a U-Net-style skip (the whole float32 map before
  pooling) would keep and the 2 bits per window the SegNet paper says suffice;
  :func:`index_memory_formula` gives the same numbers without running the model;
- :func:`zero_fraction` measures how sparse a map is;
- :func:`with_unpooling` copies a SegNet and swaps its max-unpooling for a rule that ignores the
  indices (``"top_left"``: the same sparse map, every value at its window's top-left corner;
  ``"nearest"``: every value copied into its whole window; ``"random_corner"``: every value at a
  random corner of its window, the same corner for a given seed), to measure what the positions
  are worth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import copy

import torch
from torch import Tensor, nn

from segedu.analysis.hooks import recording
from segedu.analysis.upsampling import bed_of_nails, nearest_upsample
from segedu.models.segnet import SegNet

__all__ = [
    "INDEX_BITS_PER_WINDOW",
    "UNPOOLING_RULES",
    "IndexFreeUnpool",
    "SegNetTrace",
    "StageMemory",
    "index_memory",
    "index_memory_formula",
    "random_corner_unpool",
    "trace_segnet",
    "window_position",
    "with_unpooling",
    "zero_fraction",
]

# A 2x2 window has 4 pixels, so "which one held the maximum" fits in 2 bits (the paper's figure).
INDEX_BITS_PER_WINDOW = 2


def window_position(indices: Tensor, width: int) -> Tensor:
    """Which corner of its 2x2 window each maximum came from (the pooling "switch").

    Codes: 0 = top-left, 1 = top-right, 2 = bottom-left, 3 = bottom-right.

    Args:
        indices: Flat positions ``row * width + column`` returned by a 2x2, stride-2
            ``F.max_pool2d(..., return_indices=True)``.
        width: Width ``W`` of the map before pooling.

    Returns:
        int64 corner codes ``2 * (row % 2) + column % 2``.

    Shape:
        Any shape; returns the shape of ``indices``.
    """
    if not isinstance(indices, Tensor) or indices.is_floating_point():
        raise ValueError(f"indices must be an integer tensor; got {getattr(indices, 'dtype', type(indices))}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer (the width before pooling); got {width!r}")
    rows, columns = indices // width, indices % width  # where in the (H, W) map
    return (2 * (rows % 2) + columns % 2).long()


def zero_fraction(x: Tensor) -> float:
    """Fraction of the entries of ``x`` that are exactly zero (0.0 for an empty tensor)."""
    if not isinstance(x, Tensor):
        raise ValueError(f"x must be a tensor; got {type(x).__name__}")
    return float((x == 0).sum()) / x.numel() if x.numel() else 0.0


@dataclass
class SegNetTrace:
    """What one forward pass of a :class:`~segedu.models.SegNet` computed, stage by stage.

    Every dictionary is keyed by stage name (``"stage1"`` ... ``"stageD"``, stage 1 = full
    resolution). Decoder stage ``i`` unpools with encoder stage ``i``'s indices.

    Attributes:
        pre_pool: Encoder map just before pooling (what a U-Net skip would copy),
            ``(B, C_i, H_i, W_i)``.
        indices: Flat argmax positions in ``H_i x W_i``, ``(B, C_i, H_i / 2, W_i / 2)``, int64.
        unpooled: Output of the decoder's ``MaxUnpool2d``, sparse, ``(B, C_i, H_i, W_i)``.
        decoded: Output of the decoder stage's convolutions, dense, ``(B, C_(i-1), H_i, W_i)``.
        logits: The model's output, ``(B, K, H, W)``.
    """

    pre_pool: dict[str, Tensor] = field(default_factory=dict)
    indices: dict[str, Tensor] = field(default_factory=dict)
    unpooled: dict[str, Tensor] = field(default_factory=dict)
    decoded: dict[str, Tensor] = field(default_factory=dict)
    logits: Tensor | None = None


def _check_segnet(model: nn.Module) -> None:
    if not isinstance(model, SegNet):
        raise ValueError(f"model must be a segedu.models.SegNet; got {type(model).__name__}")


@torch.no_grad()
def trace_segnet(model: nn.Module, images: Tensor) -> SegNetTrace:
    """Run ``model`` once in eval mode and record every stage's maps with the hook recorder.

    Args:
        model: A :class:`~segedu.models.SegNet`; its train/eval mode is restored afterwards.
        images: A batch, or one image.

    Returns:
        The recorded maps (detached, on the model's device).

    Shape:
        images: ``(B, C_in, H, W)`` or ``(C_in, H, W)`` (then ``B = 1``); see :class:`SegNetTrace`.
    """
    _check_segnet(model)
    if isinstance(images, Tensor) and images.dim() == 3:
        images = images.unsqueeze(0)  # (1, C_in, H, W)
    pools = {f"encoder.{name}.pool": name for name in model.encoder}
    unpools = {f"decoder.{name}.unpool": name for name in model.decoder}
    decoded = {f"decoder.{name}.convs": name for name in model.decoder}
    was_training = model.training
    model.eval()
    try:
        with recording(model, list(pools), inputs=True) as received, \
                recording(model, [*pools, *unpools, *decoded]) as produced:
            logits = model(images)  # (B, K, H, W)
    finally:
        model.train(was_training)
    return SegNetTrace(
        pre_pool={stage: received[layer] for layer, stage in pools.items()},  # (B, C_i, H_i, W_i)
        indices={stage: produced[layer][1] for layer, stage in pools.items()},  # (B, C_i, H_i/2, W_i/2)
        unpooled={stage: produced[layer] for layer, stage in unpools.items()},  # (B, C_i, H_i, W_i)
        decoded={stage: produced[layer] for layer, stage in decoded.items()},  # (B, C_(i-1), H_i, W_i)
        logits=logits,
    )


@dataclass(frozen=True)
class StageMemory:
    """Bytes one encoder stage hands to the decoder, three ways.

    Attributes:
        stage: Stage name, ``"stage1"`` = full resolution.
        feature_shape: ``(B, C, H, W)`` of the map before pooling.
        index_bytes: int64 indices as PyTorch stores them: ``B * C * H/2 * W/2 * 8``.
        feature_bytes: A U-Net-style skip, the whole float32 map: ``B * C * H * W * 4``.
        two_bit_bytes: 2 bits per 2x2 window (the paper's figure): ``B * C * H/2 * W/2 / 4``.
    """

    stage: str
    feature_shape: tuple[int, int, int, int]
    index_bytes: int
    feature_bytes: int
    two_bit_bytes: int


def _two_bit_bytes(windows: int) -> int:
    return -(-windows * INDEX_BITS_PER_WINDOW // 8)  # whole bytes, rounded up


def index_memory(model: nn.Module, input_shape: Sequence[int]) -> list[StageMemory]:
    """Measure, from :func:`trace_segnet` (the encoder's pools), what each SegNet stage keeps.

    One forward pass on zeros of ``input_shape`` (no gradients); the bytes are those of the
    recorded tensors (``numel() * element_size()``).

    Args:
        model: A :class:`~segedu.models.SegNet`; it is left unchanged.
        input_shape: ``(B, C_in, H, W)``. SegNet pads H and W up to a multiple of ``2**depth``
            first, so the stages see the padded size.

    Returns:
        One :class:`StageMemory` per encoder stage, stage 1 first.
    """
    _check_segnet(model)
    parameter = next(model.parameters())
    images = torch.zeros(tuple(input_shape), dtype=parameter.dtype, device=parameter.device)
    trace = trace_segnet(model, images)
    rows = []
    for name, features in trace.pre_pool.items():
        indices = trace.indices[name]
        rows.append(StageMemory(
            stage=name,
            feature_shape=tuple(features.shape),
            index_bytes=indices.numel() * indices.element_size(),
            feature_bytes=features.numel() * features.element_size(),
            two_bit_bytes=_two_bit_bytes(indices.numel()),
        ))
    return rows


def index_memory_formula(
    channels: Sequence[int], input_shape: Sequence[int], *, ceil_mode: bool = False
) -> list[StageMemory]:
    """The numbers of :func:`index_memory`, computed from the shapes alone (no forward pass).

    Two ways to pool a side that is not a multiple of 2 at every stage:

    - ``ceil_mode=False`` (segedu's :class:`~segedu.models.SegNet`): H and W are first padded up
      to a multiple of ``2**len(channels)``, so every pool halves an even side;
    - ``ceil_mode=True`` (the paper's Caffe model): no padding; a pool of an odd side keeps a
      last, partial window (``nn.MaxPool2d(2, ceil_mode=True)``: 45 rows pool to 23).

    Args:
        channels: Width of every encoder stage, stage 1 first, e.g. ``[64, 128, 256, 512, 512]``
            for the paper's SegNet (see :func:`segedu.models.blocks.vgg16_stages`).
        input_shape: ``(B, C_in, H, W)``.
        ceil_mode: Pool with partial windows instead of padding first (see above).

    Returns:
        One :class:`StageMemory` per stage; int64 indices (8 bytes), float32 maps (4 bytes).
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (B, C_in, H, W); got {tuple(input_shape)}")
    if not channels:
        raise ValueError("channels must list at least one stage width")
    batch, _, height, width = (int(value) for value in input_shape)
    if not ceil_mode:
        multiple = 2 ** len(channels)
        height, width = -(-height // multiple) * multiple, -(-width // multiple) * multiple  # padded
    rows = []
    for number, stage_channels in enumerate(channels, start=1):
        pooled_height, pooled_width = -(-height // 2), -(-width // 2)  # exact halves once padded
        windows = batch * stage_channels * pooled_height * pooled_width  # one index per pooled value
        rows.append(StageMemory(
            stage=f"stage{number}",
            feature_shape=(batch, stage_channels, height, width),
            index_bytes=windows * 8,
            feature_bytes=batch * stage_channels * height * width * 4,
            two_bit_bytes=_two_bit_bytes(windows),
        ))
        height, width = pooled_height, pooled_width
    return rows


# ----------------------------------------------------------------------------------------------
# Unpooling without the indices: how much does a trained decoder rely on its switches?
# ----------------------------------------------------------------------------------------------

UNPOOLING_RULES = ("indices", "top_left", "nearest", "random_corner", "spread")


class IndexFreeUnpool(nn.Module):
    """A drop-in for ``nn.MaxUnpool2d(2)`` that receives the indices and ignores them.

    ``"top_left"`` puts every value at the top-left corner of its 2x2 window (a bed of nails: as
    sparse as max-unpooling, but at the wrong place wherever the maximum was elsewhere);
    ``"nearest"`` copies every value into its whole window (dense, no position at all, and each
    channel's mean four times max-unpooling's); ``"spread"`` copies a quarter of every value into
    its whole window (no position, the same channel mean as max-unpooling);
    ``"random_corner"`` puts every value at a corner drawn at random, uniformly and independently
    for every window (as sparse as max-unpooling and without top-left's systematic half-pixel
    shift, but at the encoder's position only one time in four). The draw depends only on
    ``seed`` and the map's shape, so repeated calls give the same map.

    Args:
        rule: ``"top_left"``, ``"nearest"``, ``"random_corner"`` or ``"spread"``.
        seed: Seed of the random corners (used by ``"random_corner"`` only).

    Shape:
        (B, C, H, W) values and indices -> (B, C, 2H, 2W)
    """

    def __init__(self, rule: str, seed: int = 0) -> None:
        super().__init__()
        if rule not in UNPOOLING_RULES[1:]:
            raise ValueError(f"rule must be one of {UNPOOLING_RULES[1:]}; got {rule!r}")
        self.rule = rule
        self.seed = int(seed)

    def extra_repr(self) -> str:
        return f"rule={self.rule!r}" + (f", seed={self.seed}" if self.rule == "random_corner" else "")

    def forward(self, x: Tensor, indices: Tensor) -> Tensor:
        if self.rule == "top_left":
            return bed_of_nails(x, 2)  # (B, C, 2H, 2W), one value per window, always top-left
        if self.rule == "nearest":
            return nearest_upsample(x, 2)  # (B, C, 2H, 2W), every value four times
        if self.rule == "spread":
            return nearest_upsample(x / 4, 2)  # (B, C, 2H, 2W), a quarter of every value four times
        return random_corner_unpool(x, seed=self.seed)


def random_corner_unpool(x: Tensor, *, seed: int = 0) -> Tensor:
    """Unpool 2x2 by putting every value at a random corner of its window, zeros elsewhere.

    Args:
        x: Values to unpool.
        seed: Seed of the corner draw; the same seed and shape give the same corners.

    Returns:
        The sparse map, one value per 2x2 window.

    Shape:
        - x: ``(B, C, H, W)``.
        - output: ``(B, C, 2H, 2W)``.
    """
    batch, channels, height, width = x.shape
    generator = torch.Generator().manual_seed(int(seed))
    corners = torch.randint(0, 4, (batch, channels, height, width), generator=generator).to(x.device)
    rows = 2 * torch.arange(height, device=x.device).view(-1, 1) + corners // 2  # (B, C, H, W)
    columns = 2 * torch.arange(width, device=x.device).view(1, -1) + corners % 2  # (B, C, H, W)
    flat = (rows * (2 * width) + columns).flatten(2)  # (B, C, H*W) positions in the 2H x 2W plane
    out = x.new_zeros(batch, channels, 4 * height * width)
    out.scatter_(2, flat, x.flatten(2))
    return out.view(batch, channels, 2 * height, 2 * width)


def with_unpooling(
    model: nn.Module, rule: str, *, stages: Sequence[str] | None = None, seed: int = 0
) -> SegNet:
    """A copy of a SegNet whose decoder unpools by ``rule``; ``model`` itself is left unchanged.

    Args:
        model: A :class:`~segedu.models.SegNet` (trained or not).
        rule: ``"indices"`` (max-unpooling, SegNet itself), ``"top_left"``, ``"nearest"``,
            ``"random_corner"`` or ``"spread"`` (see :class:`IndexFreeUnpool`).
        stages: Decoder stages to change, e.g. ``["stage1"]``; ``None`` changes all of them.
        seed: Seed of the ``"random_corner"`` draw (each changed stage gets ``seed`` plus its
            position in the decoder, so stages do not share corners).

    Returns:
        A deep copy with those decoder stages' ``unpool`` replaced (the same weights, so a trained
        model can be scored with the wrong positions; or train the copy from scratch).
    """
    _check_segnet(model)
    if rule not in UNPOOLING_RULES:
        raise ValueError(f"rule must be one of {UNPOOLING_RULES}; got {rule!r}")
    names = list(model.decoder) if stages is None else list(stages)
    unknown = [name for name in names if name not in model.decoder]
    if unknown:
        raise ValueError(f"stages must be among {sorted(model.decoder)}; got {unknown}")
    copied = copy.deepcopy(model)
    if rule != "indices":
        order = list(model.decoder)
        for name in names:
            copied.decoder[name].unpool = IndexFreeUnpool(rule, seed=seed + order.index(name))
    return copied
