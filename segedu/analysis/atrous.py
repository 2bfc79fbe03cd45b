"""Which pixels an atrous (dilated) convolution reads: footprints of stacks, gridding, taps inside a map.

A 3x3 convolution with rate (dilation) ``r`` reads the 9 pixels ``r`` apart around each position,
so it spans ``2r + 1`` pixels at the cost of an ordinary 3x3 convolution. Two consequences that
DeepLab has to live with are measured here:

- :func:`dilated_stack_footprint`: in a stack of such convolutions the centre output depends on
  input pixels along every path through the stack; when all rates share a factor (2, 2, 2 or
  2, 4, 8) only a lattice of pixels is reached and the others are never read ("gridding"),
  :func:`footprint_coverage` gives the share that is reached;
- :func:`valid_tap_fraction`: on a small feature map, a tap ``r`` pixels from the centre falls
  outside the map (into zero padding) near the edges; as ``r`` nears the map's side only the centre
  tap is left and the 3x3 conv acts like a 1x1 conv (DeepLabv3's argument for image pooling).

:func:`with_previous_rate` builds the other way to turn a stride into a rate: segedu's DeepLabv3 gives every conv
of an atrous block the block's rate, while torchvision's ``replace_stride_with_dilation`` (and the paper's code)
keeps the previous rate in the conv that used to stride.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.models.deeplab import DeepLabV3

__all__ = ["dilated_stack_footprint", "footprint_coverage", "reads_whole_window", "valid_tap_fraction",
           "with_previous_rate"]


def _check_rates(rates: Sequence[int]) -> tuple[int, ...]:
    rates = tuple(rates)
    if not rates or any(isinstance(rate, bool) or not isinstance(rate, int) or rate < 1 for rate in rates):
        raise ValueError(f"rates must be a non-empty sequence of ints >= 1, e.g. (1, 2, 4); got {rates!r}")
    return rates


def dilated_stack_footprint(rates: Sequence[int]) -> Tensor:
    """For a stack of 3x3 convs with these rates: how many paths join each input pixel to the centre output.

    Exact integer counts, from a single bright pixel spread by an all-ones 3x3 kernel at every
    rate (which is the gradient of the centre output of that stack, without nonlinearities, with
    respect to its input). A pixel with count 0 cannot influence the centre output, whatever the
    weights; the nonzero pattern is the same for any weights with no zero tap.

    Args:
        rates: The dilation of each 3x3 conv, first layer first (the order does not change the result).

    Returns:
        The counts on the whole receptive field: a square of side ``1 + 2 * sum(rates)``.

    Example:
        >>> dilated_stack_footprint([2]).int()
        tensor([[1, 0, 1, 0, 1],
                [0, 0, 0, 0, 0],
                [1, 0, 1, 0, 1],
                [0, 0, 0, 0, 0],
                [1, 0, 1, 0, 1]], dtype=torch.int32)
    """
    rates = _check_rates(rates)
    side = 1 + 2 * sum(rates)
    counts = torch.zeros(1, 1, side, side, dtype=torch.float64)
    counts[0, 0, side // 2, side // 2] = 1.0
    ones = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    for rate in rates:
        counts = F.conv2d(counts, ones, padding=rate, dilation=rate)  # (1, 1, side, side)
    return counts[0, 0]


def footprint_coverage(rates: Sequence[int]) -> float:
    """Share of the receptive-field square (side ``1 + 2 * sum(rates)``) that the centre output reads.

    With every rate even only pixels at even offsets are read: (15 / 29)**2 of a 29 x 29 square.

    Example:
        >>> footprint_coverage([1, 2, 4]), round(footprint_coverage([2, 4, 8]), 3)
        (1.0, 0.268)
    """
    footprint = dilated_stack_footprint(rates)
    return float((footprint > 0).double().mean())


def reads_whole_window(rates: Sequence[int]) -> bool:
    """Whether a stack of 3x3 convs with these rates reads every pixel of its window, by a rule, not a count.

    Sorted from small to large, the first rate must be 1 and each rate at most the window the
    smaller ones build, ``1 + 2 * sum(smaller rates)``: an order-free reformulation of the
    maximum-distance condition of hybrid dilated convolution (Wang et al., 2018), which is stated
    in layer order (``M_2 <= K``); applied to sorted rates the two agree on every set of up to three
    rates from 1 to 7 (``tests/analysis/test_atrous.py`` checks it). A gap-free window of that side,
    shifted by ``-r, 0, r``, stays gap-free exactly when ``r`` is no larger than its side. The order
    of the layers does not matter: the offsets add up. Agrees with ``footprint_coverage(rates) == 1.0``.

    Example:
        >>> reads_whole_window([1, 2, 3]), reads_whole_window([1, 4]), reads_whole_window([2, 2, 2])
        (True, False, False)
    """
    window = 1
    for rate in sorted(_check_rates(rates)):
        if rate > window:
            return False
        window += 2 * rate
    return True


def valid_tap_fraction(map_side: int, rate: int, kernel_size: int = 3) -> float:
    """Mean share of a square atrous kernel's taps that land inside an ``map_side x map_side`` map.

    Averaged over every output position of a "same"-padded conv; taps outside the map read zero
    padding. The 2-D share is the product of two 1-D shares (rows and columns are independent), and
    the mean over the grid of positions is the square of the 1-D mean.

    Args:
        map_side: Side of the feature map (e.g. 8 for a 64-pixel scene at output stride 8).
        rate: The atrous rate.
        kernel_size: Odd kernel side (3 in DeepLab).

    Example:
        >>> round(valid_tap_fraction(33, 6), 2), valid_tap_fraction(8, 12)
        (0.77, 0.1111111111111111)
    """
    for name, value in (("map_side", map_side), ("rate", rate), ("kernel_size", kernel_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (a centre tap); got {kernel_size}")
    offsets = [rate * (tap - kernel_size // 2) for tap in range(kernel_size)]
    inside = sum(0 <= position + offset < map_side for position in range(map_side) for offset in offsets)
    one_dimension = inside / (map_side * kernel_size)
    return one_dimension**2


def with_previous_rate(model: DeepLabV3) -> DeepLabV3:
    """A copy of a DeepLabv3 whose atrous blocks keep the previous rate in the conv that used to stride.

    A block that stopped striding (stride 1, a rate above the block before it) has its first unit's first 3x3 conv
    set to the block before's rate, as torchvision's ``replace_stride_with_dilation`` does; every other conv keeps
    the block's rate. Only dilation and padding change (no weights), so a trained model's weights load into the copy,
    and at output stride 8 or 16 the copy's backbone reproduces output stride 32's at every 4th or 2nd position.

    Args:
        model: A :class:`~segedu.models.DeepLabV3` (trained or not); left unchanged.

    Returns:
        The copy. At output stride 8 block3's first conv has rate 1 and block4's rate 2; at 16 block4's has rate 1;
        at 32 nothing changes.
    """
    if not isinstance(model, DeepLabV3):
        raise ValueError(f"with_previous_rate needs a segedu DeepLabV3 (get_model('deeplabv3', ...)); "
                         f"got {type(model).__name__}")
    copied = copy.deepcopy(model)
    blocks = [copied.block1, copied.block2, copied.block3, copied.block4]
    for before, block in zip(blocks, blocks[1:]):
        if block.stride == 1 and block.dilation > before.dilation:
            conv = block.unit1.conv1.conv  # the 3x3 conv that strides in a plain ResNet
            conv.dilation = conv.padding = (before.dilation, before.dilation)
    return copied
