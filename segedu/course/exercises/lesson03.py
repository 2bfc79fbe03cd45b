"""Checks for lesson 03 (pooling and fully connected layers lose location).

Each check compares the learner's answer with a measurement on real PyTorch layers: the output
size of real max-pools, the receptive field of a real layer stack
(:func:`segedu.analysis.receptive_field.receptive_field_table`), the parameters of real models, and the
feature count of a real TinyClassifier's stage 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from segedu.analysis.grid_ceiling import best_mask_from_grid
from segedu.analysis.receptive_field import receptive_field_table
from segedu.course.exercises._verdict import check_cases, right, wrong
from segedu.models import TinyClassifier

__all__ = [
    "check_fc_fraction",
    "check_flattened_features",
    "check_receptive_field",
    "check_size_after_pools",
    "check_vanishing_pools",
]


def _measured_size_after_pools(size: int, pools: int) -> int:
    x = torch.zeros(1, 1, size, size)
    for _ in range(pools):
        x = F.max_pool2d(x, 2)
    return x.shape[-1]


def check_size_after_pools(size_after_pools: Callable[[int, int], int]) -> bool:
    """``size_after_pools(size, pools)``: side of a ``size x size`` map after ``pools`` 2x2 max-pools."""
    return check_cases(
        size_after_pools,
        [(224, 5), (64, 3), (100, 3), (7, 1), (1000, 4), (33, 2)],
        _size_after_pools_mistake,
        success="VGG-16's five pools take 224 down to 7; a 100x100 input ends at 3x3.",
        returns="a whole number",
    )


def _size_after_pools_mistake(answer: Any, size: int, pools: int) -> str | None:
    expected = _measured_size_after_pools(size, pools)
    if answer == expected and isinstance(answer, int):
        return None
    case = f"{size} after {pools} pool(s)"
    if answer == size / 2**pools:
        return f"for {case} you returned {answer!r}: a map has whole rows; use integer division //."
    if answer == math.ceil(size / 2**pools):
        return f"for {case} you rounded up; a 2x2 pool drops an odd last row or column (it rounds down)."
    return f"for {case} you returned {answer!r}; real max-pools give {expected}. Each pool halves the side."


def _stack(layers: Sequence[tuple[int, int]]) -> nn.Sequential:
    return nn.Sequential(*(nn.Conv2d(1, 1, kernel_size, stride=stride) for kernel_size, stride in layers))


_RF_CASES: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("three 3x3 convs", ((3, 1), (3, 1), (3, 1))),
    ("conv, conv, 2x2 pool, conv", ((3, 1), (3, 1), (2, 2), (3, 1))),
    ("TinyClassifier", ((3, 1), (3, 1), (2, 2)) * 3),
    ("AlexNet's features", ((11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2))),
)


def check_receptive_field(receptive_field: Callable[[list[tuple[int, int]]], int]) -> bool:
    """``receptive_field(layers)``: receptive field of ``[(kernel_size, stride), ...]``, input first."""
    names = {layers: name for name, layers in _RF_CASES}
    return check_cases(
        receptive_field,
        [(list(layers),) for _, layers in _RF_CASES],
        lambda answer, layers: _receptive_field_mistake(answer, names[tuple(layers)], layers),
        success="AlexNet's last pool sees 195 x 195 input pixels, almost all of a 224 image.",
        returns="a whole number",
    )


def _receptive_field_mistake(answer: Any, name: str, layers: Sequence[tuple[int, int]]) -> str | None:
    expected = receptive_field_table(_stack(layers))[-1].size
    if answer == expected:
        return None
    no_jump = 1 + sum(kernel_size - 1 for kernel_size, _ in layers)
    late_jump, size_late = 1, 1  # the mistake of updating the jump before using it
    for kernel_size, stride in layers:
        late_jump *= stride
        size_late += (kernel_size - 1) * late_jump
    if answer == no_jump:
        return f"for {name} you added (k - 1) per layer; multiply it by the jump, the product of the EARLIER strides."
    if answer == size_late:
        return (
            f"for {name} you multiplied by the layer's own stride too early: "
            "add (k - 1) * jump, THEN update jump."
        )
    return f"for {name} you returned {answer!r}; the formula r = r + (k - 1) * jump gives {expected}."


def _fc_fraction(model: nn.Module) -> float:
    linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    return linear / sum(p.numel() for p in model.parameters())


def _fraction_models() -> list[tuple[str, nn.Module]]:
    from torchvision.models import alexnet

    with torch.device("meta"):  # shapes only: nothing to allocate or initialise
        alex = alexnet(weights=None)
    small = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    return [("TinyClassifier(3, 3)", TinyClassifier(3, 3)), ("a small conv + linear model", small), ("AlexNet", alex)]


def check_fc_fraction(fc_fraction: Callable[[nn.Module], float]) -> bool:
    """``fc_fraction(model)``: fraction (0..1) of the parameters that sit in ``nn.Linear`` layers."""
    models = _fraction_models()
    names = {id(model): name for name, model in models}
    return check_cases(
        fc_fraction,
        [(model,) for _, model in models],
        lambda answer, model: _fc_fraction_mistake(answer, names[id(model)], model),
        success="AlexNet keeps 96% of its parameters in its three fully connected layers.",
        returns="a fraction between 0 and 1",
    )


def _fc_fraction_mistake(answer: Any, name: str, model: nn.Module) -> str | None:
    expected = _fc_fraction(model)
    is_number = isinstance(answer, (int, float))
    if is_number and math.isclose(answer, expected, rel_tol=1e-9):
        return None
    linear_weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    weights_only = linear_weights / sum(p.numel() for p in model.parameters())
    if is_number and math.isclose(answer, 100 * expected, rel_tol=1e-9):
        return f"for {name} you returned a percentage; return a fraction between 0 and 1."
    if is_number and math.isclose(answer, weights_only, rel_tol=1e-9):
        return f"for {name} you counted the weights of the Linear layers only; count their biases too."
    return (
        f"for {name} you returned {answer!r}, expected {expected:.4f}: sum p.numel() over the "
        "parameters of the nn.Linear modules, divided by the sum over all parameters."
    )


def check_flattened_features(answer: tuple[int, int], model: TinyClassifier, size: int) -> bool:
    """``answer = (flattened, expected)``: what flatten gives for a ``size x size`` input; what fc1 takes."""
    with torch.no_grad():
        x = torch.zeros(1, model.in_channels, size, size)
        features = model.stage3(model.stage2(model.stage1(x)))  # the conv stages accept any size
    flattened, expected = features[0].numel(), model.fc1.in_features
    if not isinstance(answer, tuple) or len(answer) != 2 or answer == (..., ...):
        return wrong("give a pair of numbers: (what flatten produces, what fc1 expects).")
    if answer == (flattened, expected):
        return right(
            f"stage 3 gives {tuple(features.shape[1:])} = {flattened} numbers, but fc1 has exactly "
            f"{expected} inputs: the weights of fc1 fix the input size."
        )
    if answer[1] != expected:
        hint = f"fc1 expects {model.fc1.in_features}: it is model.fc1.in_features (channels x 8 x 8 at 64x64)."
    elif answer[0] == model.feature_channels * size * size:
        hint = "the three pools divide the side by 8 before flatten; use the side of stage 3's map."
    else:
        hint = (
            f"flatten gives channels x side x side of stage 3: the side is {size} // 8 and there are "
            f"{model.feature_channels} channels."
        )
    return wrong(hint)


_SQUARE_STARTS = (8, 13)  # the 6x6 square covers rows and columns start .. start + 5


def _square_mask(start: int, side: int = 6, size: int = 64) -> torch.Tensor:
    mask = torch.zeros(1, size, size, dtype=torch.long)  # (1, H, W)
    mask[0, start:start + side, start:start + side] = 1
    return mask


def _vanishing_pools(start: int) -> int:
    """The first number of 2x2 pools after which the nearest redrawing has no square pixel left."""
    mask = _square_mask(start)
    pools = 1
    while (best_mask_from_grid(mask, 2, factor=2**pools) == 1).any():
        pools += 1
    return pools


def check_vanishing_pools(answer: tuple[int, int]) -> bool:
    """``answer = (pools at 8-13, pools at 13-18)``: when a 6x6 square disappears from the pooled grid."""
    expected = tuple(_vanishing_pools(start) for start in _SQUARE_STARTS)
    if not isinstance(answer, tuple) or len(answer) != 2 or not all(isinstance(a, int) for a in answer):
        return wrong("give a pair of whole numbers: (pools for the square at 8-13, pools for the square at 13-18).")
    if answer == expected:
        first, second = expected
        return right(
            f"at 8-13 the square fills 36 of the 64 pixels of one 8x8 cell and survives {first - 1} pools; "
            f"at 13-18 it is cut across cells, no cell has a majority after {second} pools, and it vanishes "
            "earlier. What a pooled grid keeps depends on where an object sits relative to the cells."
        )
    if answer[0] == answer[1]:
        return wrong(
            "the two positions give different answers. At 13-18 the square straddles the cell boundaries "
            "at 16 (and at 12): count its pixels inside each cell of 4x4 and of 8x8 pixels."
        )
    hints = []
    for start, given, right_value in zip(_SQUARE_STARTS, answer, expected):
        if given != right_value:
            hints.append(
                f"for the square at {start}-{start + 5} you said {given}: a cell keeps the square only while "
                "more than half of its pixels are square; find the first grid where no cell does"
            )
    return wrong("; ".join(hints) + ".")
