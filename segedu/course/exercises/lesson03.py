"""Checks for lesson 03 (pooling coarsens location; the classifier head gives up the grid).

Each check compares the learner's answer with a measurement on real PyTorch layers: linear probes on
shuffled features (:func:`segedu.analysis.probes.linear_probe`), the input sizes a real
TinyClassifier's fc1 accepts, and the nearest redrawing of a pooled mask.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from segedu.analysis.grid_ceiling import best_mask_from_grid
from segedu.analysis.probes import chance_error, linear_probe
from segedu.course.exercises._verdict import choice_hint, recorded_miss, right, wrong
from segedu.models import TinyClassifier

__all__ = [
    "SHUFFLE_REASON_QUESTION",
    "check_accepted_size",
    "check_shuffle_reason",
    "check_shuffled_probe",
    "check_vanishing_pools",
]


_SPLITS = ("train", "validation", "test")
_WORDS = ("smaller", "same", "larger")


def _compare(error: float, reference: float, tolerance: float = 0.01) -> str:
    """'smaller', 'same' or 'larger': ``error`` against ``reference``, in pixels."""
    if abs(error - reference) <= tolerance:
        return "same"
    return "smaller" if error < reference else "larger"


def _shuffled_probe_errors(features: dict[str, Tensor], centres: dict[str, Tensor]) -> tuple[float, float, float]:
    """Probe errors (px): the features as they are, under one fixed permutation, under one per image.

    Shape:
        features ``{split: (N, ...)}``, centres ``{split: (N, 2)}`` -> three floats
    """
    generator = torch.Generator().manual_seed(0)
    flat = {split: features[split].flatten(1) for split in _SPLITS}  # (N, D) each
    width = flat["train"].shape[1]
    fixed = torch.randperm(width, generator=generator)  # (D,): the same for every image
    one_shuffle = {split: values[:, fixed] for split, values in flat.items()}
    own_shuffle = {
        split: torch.stack([row[torch.randperm(width, generator=generator)] for row in values])  # (N, D)
        for split, values in flat.items()
    }

    def probe(data: dict[str, Tensor]) -> float:
        return linear_probe(*[(data[split], centres[split]) for split in _SPLITS]).test_error

    return probe(flat), probe(one_shuffle), probe(own_shuffle)


def check_shuffled_probe(
    answer: tuple[str, str],
    activations: dict[str, dict[str, Tensor]],
    centres: dict[str, Tensor],
    layer: str = "stage3",
) -> bool:
    """``answer = (one fixed shuffle, a new shuffle per image)``, each "smaller", "same" or "larger".

    The prediction is how a linear probe's error on ``layer`` changes when the flattened numbers are
    shuffled. The check measures both with :func:`~segedu.analysis.probes.linear_probe` and reports
    only the measured errors and whether the prediction matched them. A readable prediction passes,
    right or not (a guess about a measurement is not graded on being right): a miss says
    ``Recorded; the result differs:``. Once a prediction has been
    recorded it prints :data:`SHUFFLE_REASON_QUESTION`, the question on why, whose answer
    :func:`check_shuffle_reason` checks: asked any earlier, its statements would hint at the prediction.

    Args:
        answer: The learner's pair of words.
        activations: ``{split: {layer: (N, ...)}}`` for the splits train, validation, test.
        centres: ``{split: (N, 2)}``, the shapes' centres.
        layer: The layer whose numbers are shuffled.
    """
    if (
        not isinstance(answer, tuple)
        or len(answer) != 2
        or not all(isinstance(word, str) and word.strip().lower() in _WORDS for word in answer)
    ):
        return wrong(
            'give a pair of words, each "smaller", "same" or "larger": '
            "(one fixed shuffle for all images, a new shuffle for every image)."
        )
    fixed_word, own_word = (word.strip().lower() for word in answer)
    plain, one_shuffle, own_shuffle = _shuffled_probe_errors({split: activations[split][layer] for split in _SPLITS},
                                                             centres)
    measured = (_compare(one_shuffle, plain), _compare(own_shuffle, plain))
    chance = chance_error(centres["train"], centres["test"])
    errors = (
        f"measured on {layer}: {plain:.2f} px as it is, {one_shuffle:.2f} px with one fixed shuffle, "
        f"{own_shuffle:.2f} px with a new shuffle per image (chance {chance:.2f} px)"
    )
    if (fixed_word, own_word) == measured:
        result = right(f"{errors}. Your prediction matches both measurements.")
    else:
        # Only the measurement here: the explanation is the answer to the question printed next.
        mismatches = [
            f'with {name} you predicted "{word}", and the error came out {"the same" if outcome == "same" else outcome}'
            for name, word, outcome in (("one fixed shuffle", fixed_word, measured[0]),
                                        ("a new shuffle per image", own_word, measured[1]))
            if word != outcome
        ]
        result = recorded_miss(f"{errors}: {'; '.join(mismatches)}.")
    print(SHUFFLE_REASON_QUESTION)  # asked only now, so that its statements cannot hint at the prediction
    return result


SHUFFLE_REASON_QUESTION = """
Why? Which statement explains both measurements? Record its letter in answer_reason and run check_shuffle_reason.
  a - The probe relies on the grid's geometry: which numbers come from neighbouring cells.
  b - The probe has one weight per number, so number k must mean the same thing in every image.
  c - The position is carried by each image's set of values, whatever order they come in.
  d - The ridge penalty shrinks the weights more when the numbers come in a shuffled order."""


_SHUFFLE_REASONS = {
    "a": "a linear probe has no notion of neighbours: it multiplies number k by weight k and adds the products up. "
         "And one fixed order gave exactly the same error, not a slightly larger one, which no story about "
         "neighbours kept together explains",
    "b": None,  # the right explanation
    "c": "both shuffles keep each image's set of values, so the set cannot be what the probe used with one fixed "
         "order and lost with a new order per image. What differs between the two shuffles?",
    "d": "the ridge penalty is the sum of the squared weights, which is the same whatever order the weights are "
         "listed in: with one fixed order the same fit is possible, with the same penalty, hence exactly the same "
         "error. Ask instead what the fitted weights can still mean when the order changes from image to image",
}


def check_shuffle_reason(answer: str) -> bool:
    """``answer``: the letter of the statement that explains both shuffle measurements of exercise 1.

    a: the probe relies on the grid's geometry; b: one weight per number, so a fixed order only relabels the
    numbers and their weights, while a new order per image breaks "number k is the same cell and channel";
    c: the set of values carries the position; d: the ridge penalty shrinks shuffled weights more (it is
    the sum of squared weights, which no reordering changes).
    """
    letter = answer.strip().lower() if isinstance(answer, str) else answer
    hint = choice_hint(letter, tuple(_SHUFFLE_REASONS))
    if hint is not None:
        return wrong(hint)
    if _SHUFFLE_REASONS[letter] is None:
        return right(
            "a linear probe computes weight 1 x number 1 + weight 2 x number 2 + ...; list the numbers in another "
            "fixed order and the fitted weights are listed in that order too, so every prediction is unchanged. "
            "A new order per image breaks the one thing the probe relies on: that number k comes from the same "
            "cell and channel in every image. fc1 is in the same situation: it also reads the flattened map with "
            "one weight per number, and nothing in it says that cell (0, 0) is next to cell (0, 1)."
        )
    reason = _SHUFFLE_REASONS[letter]
    return wrong(f"not {letter}: {reason}" + ("" if reason.endswith("?") else "."))


def _stage3_side(model: TinyClassifier, size: int) -> tuple[int, ...]:
    """Shape (C, h, w) of stage 3's map for a ``size x size`` input; the conv stages accept any size."""
    with torch.no_grad():
        x = torch.zeros(1, model.in_channels, size, size)
        return tuple(model.stage3(model.stage2(model.stage1(x))).shape[1:])


def _smallest_accepted_above(model: TinyClassifier) -> int:
    """The smallest input side above ``model.image_size`` whose flattened stage-3 map fits fc1."""
    size = model.image_size + 1
    while math.prod(_stage3_side(model, size)) != model.fc1.in_features:
        size += 1
    return size


def check_accepted_size(answer: int, model: TinyClassifier) -> bool:
    """``answer``: the smallest input side above ``model.image_size`` whose stage-3 map has exactly fc1's
    number of inputs, measured on ``model``'s real convolution stages.
    """
    if not isinstance(answer, int) or isinstance(answer, bool):
        return wrong("give one whole number: the smallest side above the built size that fc1 accepts.")
    expected, built = model.fc1.in_features, model.image_size
    smallest = _smallest_accepted_above(model)
    if answer == smallest:
        grid = _stage3_side(model, smallest)
        return right(
            f"three pools take {smallest} to {grid[1]} x {grid[2]}, as they take {built}, because every pool rounds "
            f"down (it drops an odd last row and column); so flatten gives fc1's {expected} inputs again. fc1's "
            "weights fix the grid size, and the sizes it accepts are a small band, not one number (the model's own "
            f"size check is stricter and asks for exactly {built}x{built})."
        )
    if answer <= built:
        return wrong(f"it must be larger than {built}.")
    grid = _stage3_side(model, answer)  # (C, h, w) for the learner's side
    if math.prod(grid) == expected:  # accepted, but a smaller side above the built one is too
        return wrong(f"fc1 does accept {answer} (three pools, each rounding down, take it to {grid[1]} x {grid[2]}), "
                     f"but so does a smaller side above {built}: which is the smallest?")
    return wrong(f"three pools, each rounding down, take {answer} to {grid[1]} x {grid[2]}, so flatten gives "
                 f"{math.prod(grid)} numbers, not fc1's {expected}. Which sides above {built} still end at the grid "
                 "fc1 was built for?")


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
            "you gave both squares the same number; work each one out on its own. At 13-18 the square "
            "straddles row and column 16, a cell boundary in every grid of cells up to 16x16 pixels (not of "
            "32x32 ones): count its pixels inside each cell of 4x4 and of 8x8 pixels."
        )
    hints = []
    for start, given, right_value in zip(_SQUARE_STARTS, answer, expected):
        if given != right_value:
            hints.append(
                f"for the square at {start}-{start + 5} you said {given}: a cell keeps the square only while "
                "more than half of its pixels are square (here: square against background); find the first grid "
                "where no cell does"
            )
    return wrong("; ".join(hints) + ".")
