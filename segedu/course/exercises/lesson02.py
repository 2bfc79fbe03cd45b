"""Checks for lesson 02 (one-hot outputs and argmax).

Each check calls the learner's function on small inputs, compares the result with segedu's or
torch's own version and prints ``Correct! ...`` or ``Not yet: <hint>``, naming the most likely
mistake (class axis last, argmax over the wrong axis, a flipped sign, ignored pixels counted).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.core.encoding import IGNORE_INDEX, one_hot, to_labels
from segedu.course.exercises._verdict import call_answer, check_cases, returns_nothing, right, wrong
from segedu.training.losses import pixel_cross_entropy

__all__ = ["check_one_hot", "check_to_labels", "check_pixel_cross_entropy", "check_mean_loss"]


def check_one_hot(function: Callable[[Tensor, int], Tensor]) -> bool:
    """Check ``function(labels, num_classes)`` against :func:`segedu.core.encoding.one_hot`.

    Args:
        function: Maps an ``(H, W)`` int64 mask to a ``(K, H, W)`` 0/1 tensor; pixels equal to
            ``IGNORE_INDEX`` (255) must become all-zero vectors.

    Returns:
        Whether every test mask (one with ignored pixels) was encoded correctly.
    """
    generator = torch.Generator().manual_seed(2)
    plain = torch.tensor([[0, 0, 1, 2], [0, 1, 1, 2], [2, 2, 0, 0]])
    with_ignore = torch.randint(0, 5, (12, 10), generator=generator)
    with_ignore[torch.rand(12, 10, generator=generator) < 0.2] = IGNORE_INDEX
    cases = [
        ("a mask without ignored pixels", plain, 3),
        ("a mask with ignored pixels (255)", with_ignore, 5),
    ]
    for description, labels, num_classes in cases:
        expected = one_hot(labels, num_classes)  # (K, H, W)
        result, hint = call_answer(function, labels.clone(), num_classes)
        if hint is not None and bool((labels == IGNORE_INDEX).any()):
            hint += " (255 is not a class: those pixels must become all-zero vectors)"
        hint = hint or _not_a_tensor(result, "a (K, H, W) tensor")
        if hint is None:
            hint = _one_hot_mistake(result, expected, labels)
        if hint is not None:
            return wrong(f"on {description}: {hint}")
    return right("Your one-hot encoding matches segedu.core.encoding.one_hot, ignored pixels included.")


def check_to_labels(function: Callable[[Tensor], Tensor]) -> bool:
    """Check ``function(scores)`` against :func:`segedu.core.encoding.to_labels`.

    Args:
        function: Maps ``(K, H, W)`` float scores to ``(H, W)`` int64 class indices (argmax).

    Returns:
        Whether random scores and a one-hot stack both gave the right labels.
    """
    generator = torch.Generator().manual_seed(3)
    scores = torch.randn(4, 6, 5, generator=generator)
    labels = torch.randint(0, 4, (6, 5), generator=generator)
    return check_cases(
        function,
        [(scores,), (one_hot(labels, 4),)],
        _to_labels_mistake,
        success="Argmax over the class axis turns scores back into a label map.",
        returns="an (H, W) tensor of class indices",
    )


def _to_labels_mistake(found: Any, scores: Tensor) -> str | None:
    """A hint for wrong labels from ``(K, H, W)`` scores, or ``None`` when they are the argmax."""
    expected = to_labels(scores)  # (H, W)
    description = "a one-hot stack" if bool(((scores == 0) | (scores == 1)).all()) else "random scores"
    hint = _not_a_tensor(found, "an (H, W) tensor of class indices")
    if hint is None and tuple(found.shape) != tuple(expected.shape):
        hint = f"expected shape (H, W) = {tuple(expected.shape)}, got {tuple(found.shape)}"
        if found.ndim == 2:
            hint += "; take the argmax over the class axis, dim=0"
    if hint is None and found.is_floating_point():
        hint = "your result holds floats: return the index of the largest score (argmax), not its value"
    if hint is None and not torch.equal(found.long(), expected):
        hint = _first_difference(found.long(), expected)
    return None if hint is None else f"on {description}: {hint}"


def check_pixel_cross_entropy(function: Callable[[Tensor, int], Any]) -> bool:
    """Check ``function(scores, true_class)``: the cross-entropy of one pixel, ``-log softmax(scores)[y]``.

    Args:
        function: Maps ``(K,)`` float scores and an int class to a number (float or 0-d tensor).

    Returns:
        Whether it matched ``torch.nn.functional.cross_entropy``, including for scores so large
        that a naive ``exp`` overflows.
    """
    cases = [
        (torch.tensor([2.0, 0.5, -1.0]), 0),
        (torch.tensor([0.1, 3.0, 0.2, -2.0]), 3),
        (torch.tensor([1000.0, 0.0, -1000.0]), 1),
    ]
    return check_cases(
        function,
        cases,
        _pixel_cross_entropy_mistake,
        success="-log softmax(scores)[true class] matches F.cross_entropy, even for huge scores.",
        returns="one number",
    )


def _pixel_cross_entropy_mistake(found: Any, scores: Tensor, true_class: int) -> str | None:
    """A hint for a wrong one-pixel cross-entropy, or ``None`` when it matches ``F.cross_entropy``."""
    expected = float(F.cross_entropy(scores[None], torch.tensor([true_class])))
    value, hint = _as_number(found)
    if hint is not None:
        return hint
    huge = float(scores.abs().max()) > 100  # exp() of these overflows in float32
    return _cross_entropy_mistake(value, expected, scores, true_class, huge=huge)


def check_mean_loss(function: Callable[[Tensor, Tensor], Any]) -> bool:
    """Check ``function(logits, target)``: mean cross-entropy over the labelled pixels only.

    Args:
        function: Maps ``(B, K, H, W)`` logits and a ``(B, H, W)`` target holding class indices
            or ``IGNORE_INDEX`` to a number; compared with :func:`segedu.training.losses.pixel_cross_entropy`.

    Returns:
        Whether the learner's mean loss ignores exactly the ``IGNORE_INDEX`` pixels.
    """
    generator = torch.Generator().manual_seed(4)
    logits = 2.0 * torch.randn(2, 3, 5, 6, generator=generator)
    target = torch.randint(0, 3, (2, 5, 6), generator=generator)
    target[torch.rand(2, 5, 6, generator=generator) < 0.3] = IGNORE_INDEX
    return check_cases(
        function,
        [(logits, target)],
        _mean_loss_mistake,
        success="Your mean skips the 255 pixels exactly like pixel_cross_entropy.",
        returns="one number",
    )


def _mean_loss_mistake(found: Any, logits: Tensor, target: Tensor) -> str | None:
    """A hint for a wrong mean loss over the labelled pixels, or ``None`` when it is right."""
    value, hint = _as_number(found)
    if hint is not None:
        return hint
    expected = float(pixel_cross_entropy(logits, target))
    if math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-5):
        return None
    labelled = target != IGNORE_INDEX  # (B, H, W)
    per_pixel = F.cross_entropy(logits, torch.where(labelled, target, 0), reduction="none")  # (B, H, W)
    if math.isclose(value, float(per_pixel.mean()), rel_tol=1e-4):
        return "the ignored pixels are still in your mean: average per_pixel[labelled] only."
    if math.isclose(value, float((per_pixel * labelled).sum() / per_pixel.numel()), rel_tol=1e-4):
        return (
            "you divided by all B*H*W pixels; ignored pixels must not count in the denominator "
            "either: divide by the number of labelled pixels."
        )
    count = int(labelled.sum())
    return f"expected {expected:.4f} (mean over {count} labelled pixels), got {value:.4f}."


def _not_a_tensor(result: Any, wanted: str) -> str | None:
    """A hint if ``result`` is not a tensor (e.g. the stub's ``...``), else ``None``."""
    if result is Ellipsis or result is None:
        return returns_nothing(wanted)
    if not isinstance(result, Tensor):
        return f"your function returned {type(result).__name__}; return {wanted}."
    return None


def _as_number(result: Any) -> tuple[float | None, str | None]:
    """Turn a float, int or one-element tensor into a float, or explain why not."""
    if isinstance(result, Tensor) and result.numel() == 1:
        return float(result), None
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return float(result), None
    kind = f"a tensor of shape {tuple(result.shape)}" if isinstance(result, Tensor) else type(result).__name__
    return None, f"your function returned {kind}; return one number (a float or a 0-d tensor)."


def _one_hot_mistake(result: Tensor, expected: Tensor, labels: Tensor) -> str | None:
    """The most specific hint for a one-hot result that differs from ``expected``, or ``None``."""
    num_classes, height, width = expected.shape
    if tuple(result.shape) == (height, width, num_classes) != tuple(expected.shape):
        return (
            f"your output has shape (H, W, K) = {tuple(result.shape)}; the class axis must come first, "
            "(K, H, W): try .permute(2, 0, 1)."
        )
    if tuple(result.shape) != tuple(expected.shape):
        return f"expected shape (K, H, W) = {tuple(expected.shape)}, got {tuple(result.shape)}."
    result = result.float()
    if torch.equal(result, expected):
        return None
    if not bool(result.any()):
        return "your output is all zeros: make channel k equal to 1.0 where labels == k."
    ignored = labels == IGNORE_INDEX  # (H, W)
    if bool(ignored.any()) and bool(result[:, ignored].any()):
        return "pixels labelled 255 (ignore) must be all-zero vectors: they belong to no class."
    return _first_difference(result, expected, axis_names=("channel",))


def _first_difference(result: Tensor, expected: Tensor, axis_names: tuple[str, ...] = ()) -> str:
    """Describe the first position where two same-shaped tensors differ."""
    position = tuple(int(index) for index in (result != expected).nonzero()[0])
    leading, pixel = position[: len(axis_names)], position[len(axis_names) :]
    where = "".join(f"{name} {index}, " for name, index in zip(axis_names, leading))
    return (
        f"first difference at {where}pixel {pixel}: expected {expected[position].item():g}, "
        f"got {result[position].item():g}."
    )


def _cross_entropy_mistake(
    value: float, expected: float, scores: Tensor, true_class: int, *, huge: bool
) -> str | None:
    """The most specific hint for a one-pixel cross-entropy ``value``, or ``None`` if right."""
    if math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-5):
        return None
    shown = [round(score, 2) for score in scores.tolist()]
    if huge and not math.isfinite(value):
        return (
            f"right for small scores, but for scores {shown} you got {value}: exp(1000) overflows. "
            "Use torch.logsumexp(scores, 0) - scores[true_class] (it subtracts the maximum first)."
        )
    probability = float(scores.softmax(0)[true_class])
    if math.isclose(value, -expected, rel_tol=1e-4, abs_tol=1e-5):
        return "check the sign: the loss is MINUS log p(true class), a number >= 0."
    guesses = (probability, -probability, 1 - probability)
    if any(math.isclose(value, guess, rel_tol=1e-4, abs_tol=1e-5) for guess in guesses):
        return "take the logarithm: the loss is -log p(true class), not p itself."
    if math.isclose(value, -float(scores[true_class]), rel_tol=1e-4, abs_tol=1e-5):
        return "turn the scores into probabilities first: -log softmax(scores)[true_class]."
    return f"for scores {shown} and true class {true_class} expected {expected:.4f}, got {value:.4f}."
