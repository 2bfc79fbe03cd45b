"""Each lesson-01 check accepts right answers and prints a specific hint for wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from segedu.datasets import ShapesScenes
from segedu.training.metrics import confusion_matrix, mean_iou
from segedu.course.exercises.lesson01 import (
    answers_recovered_from_masks,
    background_everywhere_accuracy,
    background_everywhere_mean_iou,
    check_rarest_digit,
    check_recoverable_prediction,
    check_lazy_model_reasons,
    check_semantic_from_instances,
    compare_lazy_predictions,
    digit_pixel_census,
    merged_background_everywhere_mean_iou,
)


def _run(check: Callable, answer: Callable, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    result = check(answer)
    return result, capsys.readouterr().out


def _stub(*arguments: object) -> object:
    raise NotImplementedError


def _placeholder(*arguments: object) -> object:
    return ...


# --- exercise 3: the scores of "background everywhere" -----------------------------------------


def _scenes_with_ignored_pixels() -> list[tuple[torch.Tensor, torch.Tensor]]:
    scenes = ShapesScenes("val", length=5, size=32, seed=3)
    items = [scenes[index] for index in range(len(scenes))]
    image, mask = items[0]
    mask = mask.clone()
    mask[:4] = 255  # unlabelled rows are not counted
    items[0] = (image, mask)
    return items


def test_background_accuracy_is_the_background_share_of_labelled_pixels() -> None:
    items = _scenes_with_ignored_pixels()
    masks = torch.stack([mask for _, mask in items])
    expected = 100 * int((masks == 0).sum()) / int((masks != 255).sum())
    assert background_everywhere_accuracy(items) == pytest.approx(expected)


# --- exercise 4: the rarest digit class, and why --------------------------------------------


@pytest.fixture(scope="module")
def digit_scenes() -> object:
    from segedu.training.recipes import offline_dataset

    return offline_dataset("digits", "train", length=200)  # the lesson's scenes


def test_digit_census_adds_up(digit_scenes: object) -> None:
    census = digit_pixel_census(digit_scenes)
    masks = torch.stack([digit_scenes[index][1] for index in range(len(digit_scenes))])  # (N, H, W)
    assert sum(census["share"]) == pytest.approx(100 * float((masks > 0).float().mean()))
    assert census["sources"] == [400.0] * 10  # the train split's balanced source pool
    for digit in range(10):
        pixels = int((masks == digit + 1).sum())
        assert census["pixels_per_object"][digit] * census["objects"][digit] == pytest.approx(pixels)


def test_rarest_digit_accepts_the_measured_answer(digit_scenes: object, capsys: pytest.CaptureFixture[str]) -> None:
    census = digit_pixel_census(digit_scenes)
    rarest = min(range(10), key=lambda digit: census["share"][digit])
    assert check_rarest_digit(rarest, "b", digit_scenes) is True
    out = capsys.readouterr().out
    assert "<- rarest" in out and "Correct!" in out


@pytest.mark.parametrize(
    ("digit", "reason", "hint"),
    [
        (..., "b", "replace the `...` with a digit"),
        (1, ..., "record your prediction first"),
        (12, "b", "one digit from 0 to 9"),
        (1, "a", "a does not hold"),
        (1, "c", "c does not hold"),
        (8, "b", "the rarest digit class is 1"),
    ],
)
def test_rarest_digit_explains_a_miss(
    digit: object, reason: object, hint: str, digit_scenes: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_rarest_digit(digit, reason, digit_scenes) is False
    out = capsys.readouterr().out
    assert "Not yet:" in out and hint in out


# --- exercise 1: semantic mask from instances -----------------------------------------------------------


def _right_semantic(instances: torch.Tensor, classes: dict[int, int]) -> torch.Tensor:
    mask = torch.zeros_like(instances)
    for instance_id, class_index in classes.items():
        mask[instances == instance_id] = class_index
    return mask


def _lookup_semantic(instances: torch.Tensor, classes: dict[int, int]) -> torch.Tensor:
    table = torch.zeros(int(instances.max()) + 1, dtype=torch.int64)
    for instance_id, class_index in classes.items():
        table[instance_id] = class_index
    return table[instances]


@pytest.mark.parametrize("answer", [_right_semantic, _lookup_semantic])
def test_semantic_accepts_right_answers(answer: Callable, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_semantic_from_instances, answer, capsys)
    assert correct and printed.startswith("Correct!")


def _first_class_everywhere(instances: torch.Tensor, classes: dict[int, int]) -> torch.Tensor:
    return torch.where(instances > 0, next(iter(classes.values())), 0)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_stub, "NotImplementedError"),
        (_placeholder, "replace the `...`"),
        (lambda ids, classes: ids, "got the wrong class"),
        (lambda ids, classes: _right_semantic(ids, classes) + 1, "background pixels"),
        (lambda ids, classes: _right_semantic(ids, classes).float(), "dtype int64"),
        (lambda ids, classes: _right_semantic(ids, classes)[:-1], "shape of the instance map"),
        (lambda ids, classes: _right_semantic(ids, classes).tolist(), "return a tensor"),
        (_first_class_everywhere, "got the wrong class"),
    ],
)
def test_semantic_hints(answer: Callable, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    correct, printed = _run(check_semantic_from_instances, answer, capsys)
    assert not correct and printed.startswith("Not yet:") and hint in printed


# --- the mean IoU of "background everywhere" --------------------------------------------------


def test_background_mean_iou_matches_the_course_metric() -> None:
    items = _scenes_with_ignored_pixels()
    masks = torch.stack([mask for _, mask in items])  # (N, H, W)
    matrix = confusion_matrix(torch.zeros_like(masks), masks, 4, ignore_index=255)
    assert background_everywhere_mean_iou(items) == pytest.approx(100 * mean_iou(matrix))


# --- exercise 2: what the semantic mask alone still tells ------------------------------


def _scene(instances: list[list[int]], classes: dict[int, int]) -> dict:
    """A hand-made scene: its instance map, the mask its classes give, and its object list."""
    instance_map = torch.tensor(instances)
    mask = torch.zeros_like(instance_map)
    for instance_id, class_index in classes.items():
        mask[instance_map == instance_id] = class_index
    objects = [{"instance_id": instance_id, "class_index": class_index} for instance_id, class_index in classes.items()]
    return {"mask": mask, "instances": instance_map, "objects": objects}


def test_mask_only_answers_fail_exactly_where_objects_merge_or_split() -> None:
    apart = _scene([[1, 1, 0, 2], [1, 1, 0, 2], [0, 0, 0, 0]], {1: 1, 2: 1})  # two circles, apart
    touching = _scene([[1, 1, 2, 2], [1, 1, 2, 2]], {1: 1, 2: 1})  # two circles sharing an edge: one region
    split = _scene([[1, 2, 1], [1, 2, 1]], {1: 1, 2: 3})  # a circle cut in two by a triangle: two regions
    assert answers_recovered_from_masks([apart], 4) == {"a": 1, "b": 1, "c": 1, "d": 1}
    assert answers_recovered_from_masks([touching], 4) == {"a": 1, "b": 0, "c": 0, "d": 1}
    assert answers_recovered_from_masks([split], 4) == {"a": 1, "b": 0, "c": 0, "d": 1}


@pytest.mark.parametrize("prediction", [{"a", "d"}, ["d", "a"], "a, d", {"A", "D"}])
def test_recoverable_prediction_accepts_the_class_level_answers(
    prediction: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_recoverable_prediction(prediction, count=5) is True
    out = capsys.readouterr().out
    assert "right in how many of 5 scenes" in out and "Correct!" in out


@pytest.mark.parametrize(
    ("prediction", "hint"),
    [
        (..., "record your prediction first"),
        (42, "record a set of letters"),
        ({"a", "z"}, "not among the answers"),
        ({"a", "b", "d"}, "b is not always right"),
        ({"a"}, "d is always right"),
        (set(), "a is always right"),
    ],
)
def test_recoverable_prediction_explains_a_miss(
    prediction: object, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_recoverable_prediction(prediction, count=5) is False
    out = capsys.readouterr().out
    assert "Not yet:" in out and hint in out


# --- exercise 3: guesses compared, reasons graded ----------------------------------------------


def test_lazy_predictions_are_compared_not_graded(capsys: pytest.CaptureFixture[str]) -> None:
    items = _scenes_with_ignored_pixels()
    assert compare_lazy_predictions(50, 3, items) is True  # far off, still recorded
    out = capsys.readouterr().out
    measured = background_everywhere_accuracy(items)
    assert f"measured {measured:5.1f}%" in out and "your guess  50.0%" in out and "Correct!" in out


@pytest.mark.parametrize(("accuracy", "iou"), [(..., 3), (50, ...), ("most", 3)])
def test_lazy_predictions_must_be_recorded(accuracy: object, iou: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert compare_lazy_predictions(accuracy, iou, _scenes_with_ignored_pixels()) is False
    assert "Not yet:" in capsys.readouterr().out


def test_lazy_reasons_accept_the_right_answers(capsys: pytest.CaptureFixture[str]) -> None:
    items = _scenes_with_ignored_pixels()
    merged = background_everywhere_accuracy(items) / 2  # half the background share
    assert check_lazy_model_reasons("a", merged, "b", items) is True
    assert check_lazy_model_reasons("a", round(merged) + 0.4, "b", items) is True  # from rounded printed scores
    assert "Correct!" in capsys.readouterr().out


def test_merged_classes_halve_the_background_share_as_question_2_says() -> None:
    """Question 2's answer, measured: with the digit classes merged, the lazy mean IoU is half the background share."""
    items = _scenes_with_ignored_pixels()
    masks = torch.stack([mask for _, mask in items])  # (N, H, W), classes 0-3 and 255
    merged = torch.where((masks > 0) & (masks != 255), 1, masks)  # every object class becomes class 1
    matrix = confusion_matrix(torch.zeros_like(merged), merged, 2, ignore_index=255)
    share = background_everywhere_accuracy(items) / 100
    assert 100 * mean_iou(matrix) == pytest.approx(100 * share / 2)
    assert merged_background_everywhere_mean_iou(items) == pytest.approx(100 * share / 2)


def test_lazy_predictions_do_not_give_the_reasons_away(capsys: pytest.CaptureFixture[str]) -> None:
    compare_lazy_predictions(90, 10, _scenes_with_ignored_pixels())
    out = capsys.readouterr().out
    assert "share" not in out and "divided" not in out


@pytest.mark.parametrize(
    ("accuracy", "reason", "hint"),
    [
        (..., "b", "record your prediction first"),
        ("b", "b", "question 1, b: that describes a mean over classes"),
        ("a", "a", "question 2, a: the mean IoU does not count wrong pixels over the whole image"),
        ("a", "d", "question 2, d: background's IoU is not 100%"),
        ("c", "b", "question 1, c: pixel accuracy is counted per pixel, not per scene"),
        ("a", "c", "question 2, c: the mean IoU still averages one IoU per class"),
        ("a", "z", "must be one of"),
    ],
)
def test_lazy_reasons_explain_a_wrong_letter(
    accuracy: object, reason: object, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _scenes_with_ignored_pixels()
    merged = merged_background_everywhere_mean_iou(items)  # the right number: only the letters are wrong
    assert check_lazy_model_reasons(accuracy, merged, reason, items) is False
    out = capsys.readouterr().out
    assert "Not yet:" in out and hint in out and "the number" not in out


@pytest.mark.parametrize(
    ("guess", "hint"),
    [
        ("eleven classes", "is the mean IoU with the digit classes kept apart"),  # where reason a leads
        ("pixel accuracy", "is the pixel accuracy"),  # where reason c leads
        (50.0, "if background's IoU were 100%"),  # where reason d leads
        (5.0, "is not it"),
        (..., "record your number first"),
        ("half", "record one number"),
    ],
)
def test_merged_number_names_the_score_a_wrong_answer_is(
    guess: object, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _scenes_with_ignored_pixels()
    if guess == "eleven classes":
        guess = background_everywhere_mean_iou(items)
    elif guess == "pixel accuracy":
        guess = background_everywhere_accuracy(items)
    assert check_lazy_model_reasons("a", guess, "b", items) is False
    out = capsys.readouterr().out
    assert "Not yet: question 2, the number:" in out and hint in out
