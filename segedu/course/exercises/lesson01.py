"""Checks for the exercises of lesson 01 (what semantic segmentation is).

Each check calls the learner's function on a few scenes and edge cases, compares with a
reference (the dataset's own labels or measurements), prints a verdict and returns a bool.
Exercise 1 is a warm-up: the learner writes the step from an instance map to a semantic mask. The
other three are predict-then-run: the learner records a guess before the answer is measured. In
exercise 2 the check measures, for every letter, whether the answer computed from the semantic mask
alone is right, and explains each letter the learner got wrong; in exercise 3 the guesses are
printed beside the measurement, not graded; then the learner picks why the pixel accuracy is what it
is, works out what the mean IoU would become with the ten digit classes merged into one (a number,
graded) and picks why; exercise 4 (in the lesson's optional part) measures the digit classes and grades the predicted rarest digit and the reason for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from segedu.analysis.connected_regions import label_connected_regions
from segedu.core.encoding import IGNORE_INDEX
from segedu.course.exercises._verdict import check_cases, choice_hint, read_letters, right, wrong
from segedu.datasets.tasks import bounding_boxes, image_labels

__all__ = [
    "LAZY_ACCURACY_REASONS",
    "LAZY_MERGED_REASONS",
    "RAREST_DIGIT_REASONS",
    "RECOVERABLE_ANSWERS",
    "answers_recovered_from_masks",
    "background_everywhere_accuracy",
    "background_everywhere_mean_iou",
    "merged_background_everywhere_mean_iou",
    "digit_pixel_census",
    "check_lazy_model_reasons",
    "check_rarest_digit",
    "check_recoverable_prediction",
    "check_semantic_from_instances",
    "compare_lazy_predictions",
]


def _scenes(count: int = 4) -> list[dict]:
    """A few small shapes scenes (fixed, so every learner sees the same cases)."""
    from segedu.datasets import ShapesScenes

    dataset = ShapesScenes("val", length=count, size=32, seed=11)
    return [dataset.sample(index) for index in range(count)]


def background_everywhere_accuracy(dataset: Any) -> float:
    """Pixel accuracy, in percent, of answering background (class 0) at every pixel of ``dataset``.

    Args:
        dataset: Any segedu dataset returning ``(image (C, H, W), mask (H, W))``; pixels labelled
            ``IGNORE_INDEX`` are not counted.

    Returns:
        The percentage of labelled pixels whose true class is background.
    """
    masks = torch.stack([dataset[index][1] for index in range(len(dataset))])  # (N, H, W)
    labelled = masks != IGNORE_INDEX  # (N, H, W) bool
    return 100.0 * float((masks[labelled] == 0).float().mean())


def _recorded_percentage(guess: Any) -> float | None:
    """The learner's guess as a number, or ``None`` after saying what is wrong with it."""
    if guess is ... or guess is None:
        wrong("record your prediction first: replace the `...` with a percentage, e.g. 50.")
        return None
    try:
        return float(guess)
    except (TypeError, ValueError):
        wrong(f"record one number, a percentage from 0 to 100; got {guess!r}.")
        return None


def background_everywhere_mean_iou(dataset: Any) -> float:
    """Mean IoU, in percent, of answering background (class 0) at every pixel of ``dataset``.

    Background's IoU is its share of the labelled pixels; every class present in the masks but
    never predicted has IoU 0; classes absent from the masks are left out of the mean.

    Args:
        dataset: Any segedu dataset returning ``(image (C, H, W), mask (H, W))``; pixels
            labelled ``IGNORE_INDEX`` are not counted.

    Returns:
        The mean over the classes present of each class's IoU, as a percentage.
    """
    masks = torch.stack([dataset[index][1] for index in range(len(dataset))])  # (N, H, W)
    labels = masks[masks != IGNORE_INDEX]  # (P,) labelled pixels only
    present = int(torch.unique(labels).numel())  # classes found in the masks
    background_iou = float((labels == 0).sum()) / labels.numel()  # intersection: background pixels; union: all
    return 100.0 * background_iou / present


def merged_background_everywhere_mean_iou(dataset: Any) -> float:
    """Mean IoU, in percent, of answering background everywhere once every object class is merged into one.

    The masks of ``dataset`` are relabelled to two classes (0 background, 1 any other labelled
    class) and scored with the course's confusion matrix and :func:`~segedu.training.metrics.mean_iou`.

    Args:
        dataset: Any segedu dataset returning ``(image (C, H, W), mask (H, W))``; pixels labelled
            ``IGNORE_INDEX`` are not counted.

    Returns:
        The two-class mean IoU of the all-background prediction, as a percentage.
    """
    from segedu.training.metrics import confusion_matrix, mean_iou

    masks = torch.stack([dataset[index][1] for index in range(len(dataset))])  # (N, H, W)
    merged = torch.where((masks > 0) & (masks != IGNORE_INDEX), 1, masks)  # (N, H, W): 0, 1 or IGNORE_INDEX
    matrix = confusion_matrix(torch.zeros_like(merged), merged, 2, ignore_index=IGNORE_INDEX)  # (2, 2)
    return 100.0 * float(mean_iou(matrix))


def compare_lazy_predictions(accuracy_guess: Any, iou_guess: Any, dataset: Any) -> bool:
    """Print the learner's two guesses for "background everywhere" beside the measured scores.

    The guesses are not graded (a guess from a few pictures can be far off and still be well
    reasoned); exercise 3 grades the reasoning with :func:`check_lazy_model_reasons`.

    Args:
        accuracy_guess: The predicted pixel accuracy, a percentage.
        iou_guess: The predicted mean IoU, a percentage.
        dataset: The scenes to measure on, returning ``(image, mask)`` pairs.

    Returns:
        Whether both guesses were recorded as numbers.
    """
    guesses = []
    for guess in (accuracy_guess, iou_guess):
        value = _recorded_percentage(guess)
        if value is None:
            return False
        guesses.append(value)
    measured = [background_everywhere_accuracy(dataset), background_everywhere_mean_iou(dataset)]
    print(f"'background everywhere' on these {len(dataset)} scenes (it finds no object):")
    for name, guess, value in zip(["pixel accuracy", "mean IoU"], guesses, measured):
        print(f"  {name:<15} your guess {guess:5.1f}%   measured {value:5.1f}%   off by {guess - value:+.1f} points")
    return right("both guesses recorded. Before reading on, answer the two questions below: why these numbers?")


LAZY_ACCURACY_REASONS: dict[str, str] = {
    "a": "it is right on exactly the background pixels and wrong on all others, so it scores the background's share",
    "b": "pixel accuracy averages a score per class, and background is one class of 11",
    "c": "it scores the share of scenes in which it finds every object, and it finds none in a scene with digits",
    "d": "it gets part of every digit right, because digits have background inside them",
}
"""Exercise 3, question 1: why is the pixel accuracy of "background everywhere" what it is?"""

LAZY_MERGED_REASONS: dict[str, str] = {
    "a": "the mean IoU counts the wrong pixels, and the same pixels are wrong as with 11 classes",
    "b": "one class in two is now never predicted, instead of ten in eleven",
    "c": "with two classes, every wrong pixel is a digit pixel called background, so the mean IoU counts "
    "what pixel accuracy counts",
    "d": "every background pixel is found, so background's IoU is 100%, and digit's is 0",
}
"""Exercise 3, question 2: with the ten digit classes merged into one, why does the mean IoU of
"background everywhere" become what it does?"""

_MERGED_TOLERANCE = 1.5  # percentage points: a number worked out from the rounded printed scores passes

_LAZY_WHY = {
    ("accuracy", "b"): "that describes a mean over classes, like mean IoU; pixel accuracy counts every pixel once, "
    "whatever its class",
    ("accuracy", "c"): "pixel accuracy is counted per pixel, not per scene: every pixel, of every scene, counts "
    "once, and each background pixel is right",
    ("accuracy", "d"): "it answers background everywhere, so no pixel of a digit (whose pixels are the stroke) is "
    "ever right",
    ("iou", "a"): "the mean IoU does not count wrong pixels over the whole image: it averages one IoU per class. "
    "The wrong pixels stay the same, but with two classes the average holds one zero (digit) instead of ten, "
    "beside background's IoU",
    ("iou", "c"): "the mean IoU still averages one IoU per class, each with the same weight: background's IoU "
    "is its share of the pixels and the digit class, never predicted, scores 0, so the mean is half the share. "
    "Only pixel accuracy stays at the background's share",
    ("iou", "d"): "background's IoU is not 100%: its union also holds every digit pixel wrongly called "
    "background, so it is the background's share of all pixels, and the mean IoU is half that share (100% is "
    "the share of background's own pixels that the model finds, not background's IoU)",
}


def _merged_number_hint(guess: Any, dataset: Any) -> str | None:
    """A hint for a wrong merged mean IoU (question 2's number), or ``None`` when it is right."""
    value = _read_number(guess)
    if value is None:
        return "record your number first: replace the `...` with a percentage, e.g. 50"
    if isinstance(value, str):
        return value
    measured = merged_background_everywhere_mean_iou(dataset)
    if abs(value - measured) <= _MERGED_TOLERANCE:
        return None
    near = {
        "the mean IoU with the digit classes kept apart": background_everywhere_mean_iou(dataset),
        "the pixel accuracy": background_everywhere_accuracy(dataset),
        "what it would be if background's IoU were 100%": 50.0,
    }
    named = [name for name, score in near.items() if abs(value - score) <= _MERGED_TOLERANCE]
    lead = f"{value:.1f}% is {named[0]}, " if named else f"{value:.1f}% is not it, "
    return (
        lead + "not the mean IoU with the digits merged. Work out each of the two classes' IoU from its pixels "
        "in both prediction and truth and its pixels in either"
    )


def _read_number(guess: Any) -> float | str | None:
    """The learner's number, ``None`` when not recorded yet, or a hint (a str) when it is no number."""
    if guess is ... or guess is None:
        return None
    try:
        return float(guess)
    except (TypeError, ValueError):
        return f"record one number, a percentage from 0 to 100; got {guess!r}"


def check_lazy_model_reasons(accuracy_reason: Any, merged_iou: Any, merged_reason: Any, dataset: Any) -> bool:
    """Check exercise 3's answers: why "background everywhere" scores as it does, and the merged mean IoU.

    Question 1 asks why its pixel accuracy is what it is; question 2 asks what its mean IoU would
    become if the ten digit classes were merged into one class (background and digit left), first
    as a number, then why.

    Args:
        accuracy_reason: A letter of :data:`LAZY_ACCURACY_REASONS`.
        merged_iou: The learner's mean IoU with the digit classes merged, a percentage; right within
            1.5 points of :func:`merged_background_everywhere_mean_iou` on ``dataset``.
        merged_reason: A letter of :data:`LAZY_MERGED_REASONS`.
        dataset: The scenes the scores were measured on (the lesson's digit scenes).

    Returns:
        Whether the number and both letters are right; a wrong one is explained.
    """
    hints = []
    number_hint = _merged_number_hint(merged_iou, dataset)
    if number_hint is not None:
        hints.append(f"question 2, the number: {number_hint}")
    for name, reason, choices, answer in [
        ("accuracy", accuracy_reason, LAZY_ACCURACY_REASONS, "a"),
        ("iou", merged_reason, LAZY_MERGED_REASONS, "b"),
    ]:
        hint = choice_hint(reason, choices)
        if hint is not None:
            hints.append(f"question {1 if name == 'accuracy' else 2}: {hint}")
        elif str(reason).strip().lower() != answer:
            letter = str(reason).strip().lower()
            hints.append(f"question {1 if name == 'accuracy' else 2}, {letter}: {_LAZY_WHY[(name, letter)]}")
    if hints:
        return wrong(" ".join(hint.rstrip(".") + "." for hint in hints))
    return right(
        f"{merged_background_everywhere_mean_iou(dataset):.1f}% with the digits merged. The model is right on "
        "exactly the background pixels, so its pixel accuracy is the background's share of the pixels. Background's IoU is that share too (its intersection is the background pixels, its union "
        "every pixel), and each class never predicted scores 0, so the mean IoU is that share divided by the "
        "number of classes: by 11 as measured, by 2 with the digits merged, although not one pixel's answer "
        "changes. Pixel accuracy counts pixels, so the class that covers most of them decides it; mean IoU gives "
        "every class the same weight, so every class the model misses pulls it down. That is why later lessons "
        "judge models by mean IoU."
    )


RAREST_DIGIT_REASONS: dict[str, str] = {
    "a": "the scenes hold fewer objects of that digit than of any other digit",
    "b": "an object of that digit covers fewer pixels, on average, than an object of any other digit",
    "c": "the source images the scenes are drawn from hold fewer of that digit than of any other",
}
"""Exercise 4: why does the rarest digit class cover the fewest pixels?"""


def digit_pixel_census(dataset: Any) -> dict[str, list[float]]:
    """Per digit 0-9: its share of the pixels, its objects and its pixels per object in ``dataset``.

    Args:
        dataset: Digit scenes (class ``d + 1`` is the digit ``d``) with ``sample(index)`` returning
            ``mask`` and ``instances`` (H, W).

    Returns:
        ``share`` (percent of all pixels), ``objects`` (visible objects) and ``pixels_per_object``,
        each a list of 10 numbers indexed by digit, plus ``sources``: how many images of each digit
        the scenes' source pool holds (``dataset.source_indices``, the split's own source digits;
        all 5,000 source digits for a dataset without that attribute).
    """
    from segedu.datasets.digits import load_source_digits
    from segedu.datasets.tasks import instances_per_class

    pixels, objects, total = [0] * 10, [0] * 10, 0
    for index in range(len(dataset)):
        scene = dataset.sample(index)
        mask = torch.as_tensor(scene["mask"]).long()  # (H, W)
        counts = torch.bincount(mask.flatten(), minlength=11)  # (11,) pixels per class
        total += mask.numel()
        for digit in range(10):
            pixels[digit] += int(counts[digit + 1])
        for class_index, count in instances_per_class(scene["instances"], scene["mask"]).items():
            if class_index > 0:
                objects[class_index - 1] += count
    _, labels = load_source_digits()
    pool = getattr(dataset, "source_indices", None)
    if pool is not None:
        labels = labels[pool]  # only the source digits this split draws from
    return {
        "share": [100.0 * value / total for value in pixels],
        "objects": [float(value) for value in objects],
        "pixels_per_object": [value / count if count else 0.0 for value, count in zip(pixels, objects)],
        "sources": [float(value) for value in torch.bincount(torch.as_tensor(labels), minlength=10).tolist()],
    }


def _read_digit(guess: Any) -> tuple[int | None, str | None]:
    """The learner's digit as an int 0-9, or ``None`` and a hint."""
    if guess is ... or guess is None:
        return None, "record your prediction first: replace the `...` with a digit from 0 to 9"
    try:
        digit = int(str(guess).strip())
    except ValueError:
        return None, f"record one digit from 0 to 9; got {guess!r}"
    if not 0 <= digit <= 9:
        return None, f"record one digit from 0 to 9; got {guess!r}"
    return digit, None


def check_rarest_digit(digit: Any, reason: Any, dataset: Any) -> bool:
    """Check exercise 4's prediction: which digit class covers the fewest pixels, and why.

    The check measures, for every digit, its share of the pixels, its number of objects and its
    pixels per object in ``dataset``; the right letter is the statement of
    :data:`RAREST_DIGIT_REASONS` that these numbers bear out for the rarest digit.

    Args:
        digit: The predicted rarest digit, 0 to 9.
        reason: A letter of :data:`RAREST_DIGIT_REASONS`.
        dataset: The digit scenes to measure on.

    Returns:
        Whether the digit is the rarest one and the reason holds for it; a wrong answer is explained.
    """
    guessed, hint = _read_digit(digit)
    reason_hint = choice_hint(reason, RAREST_DIGIT_REASONS)
    hints = [f"{name}: {text}" for name, text in (("digit", hint), ("reason", reason_hint)) if text is not None]
    if hints:
        return wrong(" ".join(text.rstrip(".") + "." for text in hints))
    census = digit_pixel_census(dataset)
    share, objects, size, sources = (census[key] for key in ("share", "objects", "pixels_per_object", "sources"))
    rarest = min(range(10), key=lambda value: share[value])
    print(f"digit classes in these {len(dataset)} scenes:")
    print(f"  {'digit':<6} {'% of pixels':>11} {'objects':>8} {'pixels per object':>18} {'source images':>14}")
    for value in range(10):
        mark = "  <- rarest" if value == rarest else ""
        print(f"  {value:<6} {share[value]:11.2f} {objects[value]:8.0f} {size[value]:18.1f} {sources[value]:14.0f}{mark}")
    others = [value for value in range(10) if value != rarest]
    fewest_objects = min(others, key=lambda value: objects[value])
    smallest = min(others, key=lambda value: size[value])
    fewest_sources = min(others, key=lambda value: sources[value])
    holds = {
        "a": objects[rarest] < objects[fewest_objects],
        "b": size[rarest] < size[smallest],
        "c": sources[rarest] < sources[fewest_sources],
    }
    why = {
        "a": f"the scenes hold {objects[rarest]:.0f} objects of the digit {rarest}, but only "
        f"{objects[fewest_objects]:.0f} of the digit {fewest_objects}; the digits are drawn at random, equally often",
        "b": f"an object of the digit {rarest} covers {size[rarest]:.1f} pixels on average, but one of the digit "
        f"{smallest} only {size[smallest]:.1f}",
        "c": f"the source set holds {sources[rarest]:.0f} images of the digit {rarest} and "
        f"{sources[fewest_sources]:.0f} of the digit {fewest_sources}: the digit {rarest} is not the scarcest in "
        "the pool the scenes draw from",
    }
    letter = str(reason).strip().lower()
    misses = []
    if guessed != rarest:
        misses.append(f"the rarest digit class is {rarest} ({share[rarest]:.2f}% of the pixels), not {guessed}")
    if not holds[letter]:
        misses.append(f"{letter} does not hold: {why[letter]}")
    if misses:
        return wrong("; ".join(misses) + ".")
    mean_size = sum(size[value] for value in others) / len(others)
    mean_objects = sum(objects[value] for value in others) / len(others)
    stroke = " (a 1 is mostly one thin stroke)" if rarest == 1 else ""
    fewer = "fewer" if objects[rarest] < mean_objects else "no fewer"
    fewest = "not " if objects[rarest] > min(objects[value] for value in others) else ""
    size_alone = ""
    if mean_objects * size[rarest] < min(objects[value] * size[value] for value in others):
        size_alone = (
            f" With {mean_objects:.0f} objects it would still cover fewer pixels than any other digit: its size "
            "alone makes it the rarest."
        )
    return right(
        f"the scenes hold {objects[rarest]:.0f} objects of the digit {rarest}, {fewer} than the other digits' "
        f"mean of {mean_objects:.0f} but {fewest}the fewest ({min(objects[value] for value in others):.0f} to "
        f"{max(objects[value] for value in others):.0f}); each covers only {size[rarest]:.0f} pixels on average, "
        f"against {mean_size:.0f} for the other digits{stroke}.{size_alone} A class can cover few pixels because "
        "its objects are small, not only because it has few objects."
    )


def check_semantic_from_instances(function: Callable[[Tensor, dict[int, int]], Tensor]) -> bool:
    """Check ``function(instances, classes)``: the semantic mask of an instance map.

    ``classes`` maps each object id to its class; the result must equal the dataset's mask.
    """
    cases = []
    for scene in _scenes():
        table = {item["instance_id"]: item["class_index"] for item in scene["objects"] if item["instance_id"]}
        cases.append((scene["instances"], table, scene["mask"]))
    return check_cases(
        lambda instances, classes, _mask: function(instances, classes),  # the mask is for the judge
        cases,
        _semantic_mistake,
        success="your masks equal the datasets' semantic masks, for every scene tried.",
    )


def _semantic_mistake(found: Any, instances: Tensor, classes: dict[int, int], mask: Tensor) -> str | None:
    """A hint for a wrong semantic mask, or ``None`` when it equals the dataset's ``mask``."""
    if not isinstance(found, Tensor):
        return f"return a tensor (H, W); got {type(found).__name__}"
    if found.shape != mask.shape:
        return f"the mask must have the shape of the instance map, {tuple(mask.shape)}; got {tuple(found.shape)}"
    if found.is_floating_point():
        return f"class indices are integers: return dtype int64, not {found.dtype}"
    if not torch.equal(found[instances == 0], mask[instances == 0]):
        return "background pixels (instance id 0) must get class 0."
    if not torch.equal(found.long(), mask):
        wrong_ids = sorted({int(value) for value in instances[found.long() != mask]})
        return (
            f"on one of the check's own scenes ({tuple(instances.shape[-2:])} pixels, object ids "
            f"{sorted(classes)}), the pixels of instance ids {wrong_ids} got the wrong class; "
            "compare what they got with the class that `classes` gives each id."
        )
    return None


RECOVERABLE_ANSWERS: dict[str, str] = {
    "a": "the classes present (the multi-label classification answer)",
    "b": "the number of objects in the scene",
    "c": "one box per object (the detection answer)",
    "d": "the number of pixels of each class",
}
"""The answers of exercise 2's prediction, by letter: which can be computed from the semantic mask alone?"""

_RECOVERABLE_REASONS = {
    "a": "each object class present has pixels carrying its label, so the mask's values name the classes",
    "b": "counting connected regions of each class miscounts whenever objects of one class share an edge or "
    "overlap (one region for two objects); an object cut in two by another could also count twice",
    "c": "a box needs the pixels of one object; where objects of one class merge into one region, the mask "
    "gives one box around them all",
    "d": "every pixel keeps its class in the mask, so counting its values counts the pixels of each class",
}


def _region_boxes(mask: Tensor, num_classes: int) -> list[tuple[int, int, int, int, int]]:
    """``(class, top, left, bottom, right)`` of every connected region of each object class in ``mask``."""
    boxes = []
    for class_index in range(1, num_classes):
        regions = label_connected_regions(mask == class_index)  # (H, W), 0 outside the class
        for region_id in torch.unique(regions[regions > 0]).tolist():
            rows, columns = torch.nonzero(regions == region_id, as_tuple=True)
            box = (int(rows.min()), int(columns.min()), int(rows.max()) + 1, int(columns.max()) + 1)  # t, l, b, r
            boxes.append((class_index, *box))
    return sorted(boxes)


def answers_recovered_from_masks(scenes: list[dict], num_classes: int) -> dict[str, int]:
    """In how many ``scenes`` each answer of :data:`RECOVERABLE_ANSWERS`, computed from the mask alone, is right.

    The mask-only answers are: the mask's object classes (a), its connected regions counted (b),
    one box per connected region of a class (c) and the count of each mask value (d). Each is
    compared with the truth from the instance map and the scene's object list.

    Args:
        scenes: Scenes as returned by ``ShapesScenes.sample``: ``mask`` and ``instances`` (H, W),
            ``objects`` (dicts with ``instance_id`` and ``class_index``; id 0 = hidden).
        num_classes: Number of classes, background included.

    Returns:
        Letter -> number of scenes in which the mask-only answer equals the truth.
    """
    right_in = dict.fromkeys(RECOVERABLE_ANSWERS, 0)
    for scene in scenes:
        mask, instances = scene["mask"], scene["instances"]  # (H, W) each
        visible = {item["instance_id"]: item["class_index"] for item in scene["objects"] if item["instance_id"]}
        true_counts = [int((instances == 0).sum())] + [0] * (num_classes - 1)  # pixels per class, from the objects
        for instance_id, class_index in visible.items():
            true_counts[class_index] += int((instances == instance_id).sum())
        true_boxes = sorted(
            (box.class_index, box.top, box.left, box.bottom, box.right) for box in bounding_boxes(instances, mask)
        )
        region_boxes = _region_boxes(mask, num_classes)  # one box per connected region of a class
        right_in["a"] += image_labels(mask) == sorted(set(visible.values()))
        right_in["b"] += len(region_boxes) == len(visible)
        right_in["c"] += region_boxes == true_boxes
        right_in["d"] += torch.bincount(mask.flatten(), minlength=num_classes).tolist() == true_counts
    return right_in


def check_recoverable_prediction(prediction: Any, *, count: int = 40) -> bool:
    """Check a prediction of which answers can be computed from the semantic mask alone, for every scene.

    The check computes each answer from the masks of ``count`` shapes scenes (those of the lesson:
    train split, seed 0, 64 x 64), compares it with the truth, prints in how many scenes it was
    right, and explains every letter the learner got wrong.

    Args:
        prediction: The letters (keys of :data:`RECOVERABLE_ANSWERS`) the learner expects to be right
            in every scene, as a set, list or string; ``...`` means not recorded yet.
        count: How many scenes to try.

    Returns:
        Whether the predicted letters are exactly the answers right in every scene tried.
    """
    from segedu.datasets import ShapesScenes

    if prediction is ... or prediction is None:
        return wrong(
            "record your prediction first: replace the `...` with the set of letters of the answers that the "
            "mask alone gives right for every scene, e.g. {'a', 'b'} (or set() for none)."
        )
    letters, hint = read_letters(prediction, RECOVERABLE_ANSWERS, "are not among the answers")
    if hint is not None:
        return wrong(hint)
    dataset = ShapesScenes("train", length=count, size=64, seed=0)
    right_in = answers_recovered_from_masks([dataset.sample(index) for index in range(count)], dataset.num_classes)
    print(f"computed from the semantic mask alone, right in how many of {count} scenes:")
    for letter, description in RECOVERABLE_ANSWERS.items():
        print(f"  {letter}) {description:<62} {right_in[letter]}")
    actual = {letter for letter, scenes in right_in.items() if scenes == count}
    if letters == actual:
        return right(
            "the semantic mask keeps which class every pixel has, so class-level answers survive; it forgets "
            "which object a pixel belongs to, so object-level answers do not."
        )
    misses = [
        f"{letter} is {'always' if letter in actual else 'not always'} right: {_RECOVERABLE_REASONS[letter]}"
        for letter in sorted(letters ^ actual)
    ]
    return wrong("; ".join(misses) + ".")
