"""Plan the sizes of a valid-padding U-Net (the paper's): which inputs fit, and what comes out.

With unpadded ("valid") 3x3 convolutions every DoubleConv trims 4 pixels, and every 2x2 max-pool
needs an even size. For a U-Net with ``depth`` Down blocks the inputs that fit are exactly
``2**depth * (b + 8) - 4`` for a bottleneck side ``b >= 4`` (``b >= 3`` for depth 1), and the output is
``2**depth * (b - 4) + 4``: the paper's 572 -> 388 (depth 4, b = 28). The border lost,
``12 * 2**depth - 8`` pixels (184 for depth 4), does not depend on the input, which is what the
overlap-tile strategy (:mod:`segedu.analysis.overlap_tile`) relies on.

:class:`segedu.models.UNet` has depth 4; ``depth`` is an argument here so a lesson can tabulate
shallower U's as well.

Example:
    >>> valid_output_size(572), valid_input_size(388)
    (388, 572)
"""

from __future__ import annotations

__all__ = ["valid_border", "valid_input_size", "valid_output_size"]


def _check_depth(depth: int) -> None:
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1 (the number of Down blocks; 4 in the paper); got {depth!r}")


def _smallest_bottleneck(depth: int) -> int:
    """Smallest bottleneck side whose way up stays positive: 3 -> 2 for depth 1; 4 -> 4 -> 4 ... otherwise."""
    return 3 if depth == 1 else 4


def _input_for_bottleneck(bottleneck: int, depth: int) -> int:
    """Input side giving a ``bottleneck x bottleneck`` map after the last Down."""
    return 2**depth * (max(bottleneck, _smallest_bottleneck(depth)) + 8) - 4


def valid_output_size(input_size: int, depth: int = 4) -> int:
    """Output side of a valid-padding U-Net for an input side.

    Args:
        input_size: Height or width of the input.
        depth: Number of Down (and Up) blocks.

    Raises:
        ValueError: If a max-pool would see an odd size or the output would be empty; the message
            names the nearest sizes that fit.

    Example:
        >>> valid_output_size(572), valid_output_size(140, depth=2)
        (388, 100)
    """
    _check_depth(depth)
    size = input_size - 4  # inc: two 3x3 valid convs
    for _ in range(depth):
        if size <= 0 or size % 2:
            break
        size = size // 2 - 4  # Down: pool, then two 3x3 valid convs
    else:
        for _ in range(depth):
            size = 2 * size - 4  # Up: the up-conv doubles, two 3x3 valid convs trim 4
        if size > 0:
            return size
    scale = 2**depth
    bottlenecks = ((input_size + 4) // scale - 8, (input_size + 4) // scale - 7)
    nearest = sorted({_input_for_bottleneck(bottleneck, depth) for bottleneck in bottlenecks})
    raise ValueError(
        f"a valid-padding U-Net of depth {depth} needs every max-pool to see an even size and a positive "
        f"output; input {input_size} does not fit. Valid inputs are {scale} * (b + 8) - 4 for b >= "
        f"{_smallest_bottleneck(depth)}; "
        f"nearest: {nearest}. See valid_input_size(output_size, depth)"
    )


def valid_input_size(output_size: int, depth: int = 4) -> int:
    """Smallest input side whose output side is at least ``output_size`` (572 for 388 at depth 4).

    Example:
        >>> valid_input_size(388), valid_input_size(1, depth=2)
        (572, 44)
    """
    _check_depth(depth)
    bottleneck = 4 - (-(output_size - 4) // 2**depth)  # output = 2**depth * (b - 4) + 4, rounded up
    return _input_for_bottleneck(bottleneck, depth)


def valid_border(depth: int = 4) -> int:
    """Pixels a valid-padding U-Net loses in each dimension, ``12 * 2**depth - 8`` (184 at depth 4)."""
    _check_depth(depth)
    return 12 * 2**depth - 8
