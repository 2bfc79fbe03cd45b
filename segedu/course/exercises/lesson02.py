"""Checks for lesson 02 (scores, argmax and the per-pixel loss).

Each check calls the learner's function on small inputs, compares the result with segedu's or
torch's own version (autograd for the gradient) and prints ``Correct! ...`` or ``Not yet: <hint>``,
naming the most likely mistake (class axis last, a flipped sign, ignored pixels counted, a sum
instead of a mean). Four checks are predict-then-run: what a ``scatter_`` encoder does with a 255,
which edits of the scores change the predicted mask, what the loss formula computed as written
returns for huge scores, and (optional part) whether the training loss averages per image or per
batch; each check measures the answer and explains every miss. Where a check judges a function
and a prediction together, it measures and reveals the answer only once the function is right.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.core.encoding import IGNORE_INDEX, one_hot, to_labels
from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    check_cases,
    choice_hint,
    read_letters,
    returns_nothing,
    right,
    wrong,
)
from segedu.training.losses import pixel_cross_entropy

__all__ = [
    "SCATTER_255_CHOICES",
    "OVERFLOW_SCORES",
    "BATCH_MEAN_CHOICES",
    "SCORE_EDITS",
    "check_argmax_prediction",
    "check_batch_mean_prediction",
    "check_logit_gradient",
    "check_one_hot",
    "check_pixel_cross_entropy",
]


_PREDICTION_CLASSES = 4  # K of the lesson's scenes

SCATTER_255_CHOICES = {
    "a": "the pixel gets an all-zero vector, as in the loop",
    "b": "the pixel gets a 1 in channel 3 (255 mod 4)",
    "c": "the pixel gets a 1 in channel 0 (background)",
    "d": "scatter_ stops with an error",
}
"""Exercise 1's question: what does ``torch.zeros(4, H, W).scatter_(0, labels[None], 1.0)`` do with a 255?"""
_SCATTER_255_ANSWER = "d"


def _scatter_255_outcome() -> str:
    """Run the scatter encoder on a 4-class mask with a 255 and report what happens, as a choice letter."""
    labels = torch.tensor([[0, 1], [2, IGNORE_INDEX]])  # (H, W)
    try:
        encoded = torch.zeros(_PREDICTION_CLASSES, 2, 2).scatter_(0, labels[None], 1.0)  # (K, H, W)
    except (RuntimeError, IndexError):
        return "d"
    vector = encoded[:, 1, 1].tolist()
    return {0: "c", 3: "b"}.get(vector.index(1.0), "?") if 1.0 in vector else "a"


def check_one_hot(function: Callable[[Tensor, int], Tensor], prediction: Any = None) -> bool:
    """Check ``function(labels, num_classes)`` against :func:`segedu.core.encoding.one_hot`.

    Args:
        function: Maps an ``(H, W)`` int64 mask to a ``(K, H, W)`` 0/1 tensor; pixels equal to
            ``IGNORE_INDEX`` (255) must become all-zero vectors.
        prediction: Optional: the learner's prediction, made before running, of what a loop-free
            encoder, ``torch.zeros(4, H, W).scatter_(0, labels[None], 1.0)``, does with a pixel
            labelled 255: a letter of :data:`SCATTER_255_CHOICES`; ``...`` means not recorded yet.
            When given, it is checked first for its form and, once the function is right, compared
            with what the scatter encoder really does.

    Returns:
        Whether every test mask (one with ignored pixels) was encoded correctly and, when a
        prediction is given, whether it was right.
    """
    borrowed = borrowed_names(function, ("one_hot",))
    if borrowed:
        return wrong("your function calls a one_hot, which does the encoding for you: build the channels yourself "
                     "(a loop over the classes, or scatter).")
    if prediction is not None:
        hint = choice_hint(prediction if isinstance(prediction, str) or prediction is ... else repr(prediction),
                           SCATTER_255_CHOICES)
        if hint is not None:
            return wrong(hint)
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
    if prediction is None:
        return right("Your one-hot encoding matches segedu.core.encoding.one_hot, ignored pixels included.")
    outcome = _scatter_255_outcome()
    print(f"the scatter encoder on a mask with a 255: {SCATTER_255_CHOICES[outcome]}; you predicted {prediction!r}")
    if prediction == outcome:
        return right(
            "your one-hot encoding matches segedu.core.encoding.one_hot, and your prediction was right: "
            "scatter_ writes into the channel each label names, and a 4-channel tensor has no channel 255, so "
            "it refuses (torch.nn.functional.one_hot refuses for the same reason). Your loop only compares "
            "labels with 0..K-1, so a 255 quietly gets no 1. A scatter encoder must first give ignored pixels a "
            "valid channel and zero them afterwards."
        )
    return wrong(
        "your one-hot encoding is right, but your prediction was not. scatter_ does not compare labels with "
        "classes, as your loop does: it uses each label as the index of the channel to write into. Does a "
        "4-channel tensor have a channel 255?"
    )


def _raise_circle(scores: Tensor) -> Tensor:
    """Add 5 to the circle channel (class 1) of ``(K, H, W)`` scores, leave the others alone."""
    raised = scores.clone()
    raised[1] += 5.0
    return raised


# letter -> (what the edit does to the (K, H, W) scores, the edit, why argmax does or does not move)
_EDITS: dict[str, tuple[str, Callable[[Tensor], Tensor], str]] = {
    "a": (
        "cube every score, z ** 3",
        lambda scores: scores**3,
        "cubing is monotone (a larger score has a larger cube, negative scores included): order kept",
    ),
    "b": (
        "add 5 to every score of every class",
        lambda scores: scores + 5.0,
        "adding the same number to every class of a pixel keeps their order (softmax does not even see it)",
    ),
    "c": (
        "add 5 to the circle scores only",
        _raise_circle,
        "raising one class only overtakes the winner wherever that class was less than 5 behind",
    ),
    "d": (
        "replace the scores by their log-softmax, log softmax(z)",
        lambda scores: scores.log_softmax(dim=0),
        "log softmax(z)_k = log(e^z_k / sum_j e^z_j) = z_k - log sum_j e^z_j: one number, the same for every "
        "class of the pixel, is subtracted from all its scores, so their order is kept",
    ),
    "e": (
        "multiply every score by -1",
        lambda scores: -scores,
        "multiplying by -1 reverses the order: the old argmax becomes the argmin",
    ),
    "f": (
        "square every score",
        lambda scores: scores**2,
        "squaring is not monotone once scores can be negative, as raw scores (logits) can: a score of -3 "
        "becomes 9 and overtakes a 2 (were all scores positive, squaring would keep their order)",
    ),
}

SCORE_EDITS: dict[str, str] = {letter: description for letter, (description, _, _) in _EDITS.items()}
"""The edits of exercise 2, by letter: which of them change the predicted mask?"""


def _made_up_scores() -> Tensor:
    """``(4, 32, 32)`` made-up logits like the lesson's: 3 x one-hot target plus noise (fixed seed)."""
    generator = torch.Generator().manual_seed(5)
    labels = torch.randint(0, 4, (32, 32), generator=generator)
    return 3.0 * one_hot(labels, 4) + 1.25 * torch.randn(4, 32, 32, generator=generator)  # (K, H, W)


def check_argmax_prediction(prediction: Any) -> bool:
    """Check a prediction of which score edits change the predicted mask, by running the edits.

    Args:
        prediction: The letters (keys of :data:`SCORE_EDITS`) of the edits the learner expects
            to change the argmax of at least one pixel, as a set, list or string; an empty set
            means "none of them".

    Returns:
        Whether the predicted letters are exactly the edits that change at least one pixel of
        the argmax of made-up ``(4, 32, 32)`` scores. The measured counts are printed first.
    """
    if prediction is ... or prediction is None:
        return wrong(
            "record your prediction first: replace the `...` with the set of letters whose edit "
            "changes the predicted mask, e.g. {'a', 'b'} (or set() for none)."
        )
    letters, hint = read_letters(prediction, _EDITS, "are not edits")
    if hint is not None:
        return wrong(hint)
    scores = _made_up_scores()  # (K, H, W)
    before = to_labels(scores)  # (H, W)
    changed = {letter: int((to_labels(edit(scores)) != before).sum()) for letter, (_, edit, _) in _EDITS.items()}
    print(f"{'edit':<56} pixels whose class changes (of {before.numel()})")
    for letter, (description, _, _) in _EDITS.items():
        print(f"{letter}) {description:<53} {changed[letter]}")
    actual = {letter for letter, count in changed.items() if count > 0}
    if letters == actual:
        return right(
            "argmax only cares about the order of a pixel's scores: the edits that keep it (a, cubing, which "
            "is monotone; b, a shift shared by all classes; d, log-softmax, which is such a shift too) leave "
            "the mask alone; c, e and f move it."
        )
    misses = [
        f"{letter} {'does' if letter in actual else 'does not'} change it: {_EDITS[letter][2]}"
        for letter in sorted(letters ^ actual)
    ]
    return wrong("; ".join(misses) + ".")


OVERFLOW_SCORES = (1000.0, 0.0, -1000.0)
"""Exercise 3's scores z of one pixel (true class 1)."""


def check_pixel_cross_entropy(function: Callable[[Tensor, int], Any], prediction: Any = None) -> bool:
    """Check ``function(scores, true_class)``: the cross-entropy of one pixel, ``-log softmax(scores)[y]``.

    Args:
        function: Maps ``(K,)`` float scores and an int class to a number (float or 0-d tensor).
        prediction: Optional: the learner's prediction, made before writing the function, of
            (the right loss, what the formula computed as written returns) for
            :data:`OVERFLOW_SCORES` and true class 1; the formula as written is
            ``-torch.log(z.exp()[y] / z.exp().sum())`` in float32, and ``math.inf`` / ``math.nan``
            stand for infinity and not-a-number; ``...`` means not recorded yet. When given, it is
            checked first for its form and, once the function is right (only then are the two
            numbers measured and shown), compared with them.

    Returns:
        Whether the function matched ``torch.nn.functional.cross_entropy``, including for scores so
        large that a naive ``exp`` overflows, and, when a prediction is given, whether it was right.
    """
    borrowed = borrowed_names(function, ("cross_entropy", "pixel_cross_entropy", "nll_loss", "CrossEntropyLoss"))
    if borrowed:
        return wrong(f"your function calls {' and '.join(borrowed)}, which computes the loss for you: write "
                     "-log softmax(z)[y] yourself, safe for huge scores.")
    guess = None
    if prediction is not None:
        guess, hint = _read_overflow_prediction(prediction)
        if hint is not None:
            return wrong(hint)
    cases = [
        (torch.tensor([2.0, 0.5, -1.0]), 0),
        (torch.tensor([0.1, 3.0, 0.2, -2.0]), 3),
        (torch.tensor(OVERFLOW_SCORES), 1),
    ]
    success = "-log softmax(scores)[true class] matches F.cross_entropy, even for huge scores."
    if guess is None:
        return check_cases(function, cases, _pixel_cross_entropy_mistake, success=success, returns="one number")
    for scores, true_class in cases:
        found, hint = call_answer(function, scores.clone(), true_class)
        hint = hint or (returns_nothing("one number") if found is None or found is Ellipsis else None)
        hint = hint or _pixel_cross_entropy_mistake(found, scores, true_class)
        if hint is not None:
            return wrong(hint)
    return _judge_overflow_prediction(*guess)


def _read_overflow_prediction(prediction: Any) -> tuple[tuple[float, float] | None, str | None]:
    """Read (right loss, naive result) into two floats, or explain why not."""
    if prediction is ... or (isinstance(prediction, tuple) and ... in prediction):
        return None, "record your prediction first: replace the `...` with two numbers, (right loss, naive result)."
    try:
        right_guess, naive_guess = (float(value) for value in prediction)
    except (TypeError, ValueError):
        return None, f"record two numbers, (right loss, naive result), e.g. (1.5, 2.0); got {prediction!r}."
    return (right_guess, naive_guess), None


def _naive_cross_entropy(scores: Tensor, true_class: int) -> float:
    """-log of the softmax probability, computed as written: exp, divide by the sum, log (float32)."""
    exponentials = scores.exp()  # (K,): exp(1000) is inf in float32
    return float(-torch.log(exponentials[true_class] / exponentials.sum()))


def _judge_overflow_prediction(right_guess: float, naive_guess: float) -> bool:
    """Measure both numbers for :data:`OVERFLOW_SCORES`, y = 1, print them and compare with the prediction."""
    scores = torch.tensor(OVERFLOW_SCORES)
    right_loss = float(F.cross_entropy(scores[None], torch.tensor([1])))
    naive = _naive_cross_entropy(scores, 1)
    print(f"for z = {list(OVERFLOW_SCORES)} and y = 1: the right loss is {right_loss:g}, the formula as written "
          f"returns {naive} in float32; you predicted ({right_guess:g}, {naive_guess:g})")
    right_ok = math.isclose(right_guess, right_loss, rel_tol=1e-3)
    naive_ok = (math.isnan(naive) and math.isnan(naive_guess)) or naive_guess == naive
    if right_ok and naive_ok:
        return right(
            "your function matches F.cross_entropy, even for huge scores, and your prediction was right: the loss "
            "is log(e^1000 + e^0 + e^-1000) - 0, which is 1000 to float precision, an ordinary number. But "
            "exp(1000) is inf in float32, so as written p_1 = 1 / inf = 0 and -log 0 = inf. Taking the largest "
            "score out of the sum before the log (what torch.logsumexp does) keeps every exp() at most 1."
        )
    hints = ["your function is right, but your prediction was not."]
    if not right_ok:
        hints.append("Right loss: it is log(sum_j e^z_j) - z_y; the sum is dominated by e^1000, and z_1 = 0.")
    if not naive_ok:
        if math.isnan(naive_guess):
            hints.append("Formula as written: nan is what class 0 would get (inf / inf); class 1 gets e^0 / inf.")
        else:
            hints.append(
                "Formula as written: what is exp(1000) in float32, and then e^0 divided by that sum? (Python can "
                "hold values that are not ordinary numbers: math.inf and math.nan.)"
            )
    return wrong(" ".join(hints))


def _pixel_cross_entropy_mistake(found: Any, scores: Tensor, true_class: int) -> str | None:
    """A hint for a wrong one-pixel cross-entropy, or ``None`` when it matches ``F.cross_entropy``."""
    expected = float(F.cross_entropy(scores[None], torch.tensor([true_class])))
    value, hint = _as_number(found)
    if hint is not None:
        return hint
    huge = float(scores.abs().max()) > 100  # exp() of these overflows in float32
    return _cross_entropy_mistake(value, expected, scores, true_class, huge=huge)


def _gradient_cases() -> list[tuple[Tensor, Tensor]]:
    """(logits, target) pairs: one with about 30% ignored pixels, one with none, one with all ignored."""
    generator = torch.Generator().manual_seed(4)
    logits = 2.0 * torch.randn(2, 3, 5, 6, generator=generator)  # (B, K, H, W)
    target = torch.randint(0, 3, (2, 5, 6), generator=generator)  # (B, H, W)
    with_ignore = target.clone()
    with_ignore[torch.rand(2, 5, 6, generator=generator) < 0.3] = IGNORE_INDEX
    all_ignored = torch.full((1, 2, 3), IGNORE_INDEX)  # (B, H, W): no labelled pixel, loss 0
    return [(logits, with_ignore), (logits[:1, :, :4], target[:1, :4]), (logits[:1, :, :2, :3], all_ignored)]


def _autograd_gradient(logits: Tensor, target: Tensor) -> Tensor:
    """d pixel_cross_entropy(logits, target) / d logits, by autograd; ``(B, K, H, W)``."""
    logits = logits.detach().clone().requires_grad_(True)
    pixel_cross_entropy(logits, target).backward()
    return logits.grad


def check_logit_gradient(function: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Check ``function(logits, target)``: the gradient of the mean pixel loss with respect to the logits.

    Args:
        function: Maps ``(B, K, H, W)`` logits and a ``(B, H, W)`` target (class indices or
            ``IGNORE_INDEX``) to a ``(B, K, H, W)`` tensor, computed without autograd; compared with
            autograd's gradient of :func:`segedu.training.losses.pixel_cross_entropy`.

    Returns:
        Whether it matched autograd to 1e-6, with some, no and only ignored pixels (when every
        pixel is ignored the loss is 0 and so is its gradient).
    """
    return check_cases(
        function,
        _gradient_cases(),
        _gradient_mistake,
        success="your formula matches autograd: each labelled pixel's logits get (p - onehot(y)) / N, with N "
        "the number of labelled pixels, and ignored pixels get 0.",
        returns="a (B, K, H, W) tensor",
    )


def _gradient_mistake(found: Any, logits: Tensor, target: Tensor) -> str | None:
    """A hint for a wrong gradient of the mean pixel loss, or ``None`` when it matches autograd."""
    expected = _autograd_gradient(logits, target)  # (B, K, H, W)
    hint = _not_a_tensor(found, "a (B, K, H, W) tensor")
    if hint is None and tuple(found.shape) != tuple(expected.shape):
        hint = (
            f"the gradient has the shape of the logits, (B, K, H, W) = {tuple(expected.shape)}; "
            f"got {tuple(found.shape)}"
        )
    if hint is not None:
        return hint
    found = found.detach().double()
    expected = expected.double()

    def matches(candidate: Tensor) -> bool:
        return bool(torch.allclose(found, candidate, rtol=0.0, atol=1e-6))

    if matches(expected):
        return None
    labelled = (target != IGNORE_INDEX)[:, None]  # (B, 1, H, W)
    count = int(labelled.sum())
    if not bool(torch.isfinite(found).all()):
        if count == 0:
            return (
                "when every pixel is ignored there are N = 0 labelled pixels: the loss is 0 and its gradient "
                "must be 0 everywhere, not 0 / 0 (NaN)."
            )
        return "your gradient holds NaN or inf values; check what you divide by."
    if matches(-expected):
        return "check the sign: the loss goes DOWN when the true class's score goes up."
    if not labelled.all() and bool(torch.allclose(found * labelled, expected, rtol=0.0, atol=1e-6)):
        return "right on labelled pixels, but ignored pixels (255) are not in the loss: their gradient must be 0."
    if matches(expected * count):
        return (
            f"this is the gradient of the SUM of the {count} labelled pixels' losses; "
            "pixel_cross_entropy returns their mean."
        )
    if matches(expected * count / target.numel()):
        return (
            f"you divided by all {target.numel()} pixels; the mean of pixel_cross_entropy counts only the "
            f"{count} labelled ones."
        )
    targets = one_hot(target, logits.shape[1]).double()  # (B, K, H, W), zeros at ignored pixels
    if matches((logits.double() - targets) * labelled / count):
        return "the derivative involves the probabilities: take the softmax over the class axis (dim=1) first."
    difference = (found - expected).abs()
    position = tuple(int(index) for index in (difference == difference.max()).nonzero()[0])
    return (
        f"largest difference {float(difference.max()):.3g} at (b, k, i, j) = {position}: expected "
        f"{float(expected[position]):.6f}, got {float(found[position]):.6f}."
    )


BATCH_MEAN_CHOICES = {
    "a": "the same length",
    "b": "8 times longer (64 / 8)",
    "c": "8 times shorter (8 / 64)",
    "d": "zero: only the fully labelled image is trained",
}
"""Exercise 4's question: the gradient of one labelled pixel in the sparsely labelled image of a
two-image batch, compared with the same pixel in the fully labelled image."""

_BATCH_MEAN_REASONS = {
    "a": "pixel_cross_entropy takes ONE mean over all the labelled pixels of the batch, so every labelled pixel "
    "weighs the same, wherever it is",
    "b": "that would be a mean per image (8 labelled pixels in one, 64 in the other), then a mean of the two",
    "c": "a pixel's weight never shrinks because its image has FEWER labelled pixels",
    "d": "the 8 labelled pixels of the sparse image are in the loss like any other labelled pixel",
}


def batch_mean_gradient_ratio() -> tuple[float, int]:
    """Measure exercise 4's answer with autograd.

    A batch of two 8 x 8 images with 3 classes: every pixel of image 0 is labelled; only row 0 of
    image 1 is (the rest is ``IGNORE_INDEX``). Pixel (0, 0) has the same logits and true class in
    both images.

    Returns:
        The gradient length of pixel (0, 0) in image 1 divided by that in image 0, and the number
        of labelled pixels in the batch.
    """
    generator = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 3, 8, 8, generator=generator)  # (B, K, H, W)
    logits[1, :, 0, 0] = logits[0, :, 0, 0]  # the same scores at the compared pixel
    target = torch.randint(0, 3, (2, 8, 8), generator=generator)  # (B, H, W)
    target[1, 0, 0] = target[0, 0, 0]
    target[1, 1:] = IGNORE_INDEX  # image 1: only row 0 labelled
    logits.requires_grad_(True)
    pixel_cross_entropy(logits, target).backward()
    lengths = logits.grad[:, :, 0, 0].norm(dim=1)  # (B,)
    return float(lengths[1] / lengths[0]), int((target != IGNORE_INDEX).sum())


def check_batch_mean_prediction(prediction: Any) -> bool:
    """Check a prediction of how the batch mean weighs a sparsely labelled image, by autograd.

    Args:
        prediction: One letter of :data:`BATCH_MEAN_CHOICES`.

    Returns:
        Whether it names what autograd measures on the batch of :func:`batch_mean_gradient_ratio`
        (the ratio and the labelled-pixel count are printed first).
    """
    hint = choice_hint(prediction, BATCH_MEAN_CHOICES)
    if hint is not None:
        return wrong(hint)
    ratio, count = batch_mean_gradient_ratio()
    print(f"gradient length at (0, 0), sparse image / full image: {ratio:.3f}   labelled pixels in the batch: {count}")
    candidates = {"a": 1.0, "b": 8.0, "c": 1.0 / 8.0, "d": 0.0}
    outcome = min(candidates, key=lambda letter: abs(candidates[letter] - ratio))
    if prediction == outcome:
        return right(
            f"{_BATCH_MEAN_REASONS[outcome]}: each labelled pixel's logits get (p - onehot(y)) / {count}. "
            f"So an image with few labelled pixels carries little of the loss (here 8 of {count} pixels); "
            "a mean per image would weigh both images equally."
        )
    return wrong(
        f"you predicted {prediction!r} ({BATCH_MEAN_CHOICES[prediction]}): {_BATCH_MEAN_REASONS[prediction]}. "
        "Look at the measured ratio above and at how many pixels the mean divides by."
    )


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
        return "your output is all zeros: a labelled pixel's vector needs a 1 somewhere; does your loop write into it?"
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
            f"right for small scores, but for scores {shown} you got {value}. The loss itself is an ordinary "
            "number here. In float32, e^1000 overflows to inf and e^-1000 underflows to 0, so a probability "
            "computed with exp() comes out 0, 1 or nan here, even after subtracting the largest score, and "
            "-log 0 = inf. Take the log before any exp() can fail: write -log(e^z_y / sum_j e^z_j) as a "
            "difference of two logs, then ask what you can take out of the sum before its log."
        )
    probability = float(scores.softmax(0)[true_class])
    if math.isclose(value, -expected, rel_tol=1e-4, abs_tol=1e-5):
        return "check the sign: the loss is MINUS log p(true class), a number >= 0."
    guesses = (probability, -probability, 1 - probability)
    if any(math.isclose(value, guess, rel_tol=1e-4, abs_tol=1e-5) for guess in guesses):
        return "take the logarithm: the loss is -log p(true class), not p itself."
    if math.isclose(value, -float(scores[true_class]), rel_tol=1e-4, abs_tol=1e-5):
        return "turn the scores into probabilities first: -log softmax(scores)[true_class]."
    return (
        f"for scores {shown} and true class {true_class} you returned {value:.4f}, which is not what "
        "F.cross_entropy gives. Compute the softmax probability of the true class, then minus its log."
    )
