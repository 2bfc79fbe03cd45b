"""segedu.training.metrics against brute-force Python loops and the FCN paper's formulas."""

from __future__ import annotations

import math

import pytest
import torch

from segedu.core.encoding import IGNORE_INDEX
from segedu.training.metrics import (
    ConfusionMeter,
    accuracy_per_class,
    boundary_band,
    confusion_matrix,
    frequency_weighted_iou,
    iou_per_class,
    mean_accuracy,
    mean_iou,
    pixel_accuracy,
)

NUM_CLASSES = 5


def _random_pair(seed: int, shape=(3, 6, 7), ignore: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Random (pred, target); class 3 only ever predicted, class 4 absent from both."""
    generator = torch.Generator().manual_seed(seed)
    target = torch.randint(0, 3, shape, generator=generator)
    pred = torch.randint(0, 4, shape, generator=generator)
    if ignore:
        target = target.masked_fill(torch.rand(shape, generator=generator) < 0.2, IGNORE_INDEX)
    return pred, target


def _loop_confusion(pred, target, num_classes, ignore_index=None, valid_mask=None) -> list[list[int]]:
    counts = [[0] * num_classes for _ in range(num_classes)]
    for index in range(target.numel()):
        true, predicted = int(target.view(-1)[index]), int(pred.view(-1)[index])
        if true == ignore_index or (valid_mask is not None and not bool(valid_mask.view(-1)[index])):
            continue
        counts[true][predicted] += 1
    return counts


def _loop_measures(counts: list[list[int]]) -> dict[str, object]:
    """The four FCN measures (Long et al. 2015, section 5) written out with plain floats."""
    size = len(counts)
    correct = [counts[i][i] for i in range(size)]  # n_ii
    truth = [sum(counts[i]) for i in range(size)]  # t_i
    predicted = [sum(counts[j][i] for j in range(size)) for i in range(size)]  # sum_j n_ji
    total = sum(truth)
    accuracy = [correct[i] / truth[i] if truth[i] else math.nan for i in range(size)]
    union = [truth[i] + predicted[i] - correct[i] for i in range(size)]
    iou = [correct[i] / union[i] if union[i] else math.nan for i in range(size)]
    defined_accuracy = [value for value in accuracy if not math.isnan(value)]
    defined_iou = [value for value in iou if not math.isnan(value)]
    return {
        "pixel_accuracy": sum(correct) / total if total else math.nan,
        "mean_accuracy": sum(defined_accuracy) / len(defined_accuracy) if defined_accuracy else math.nan,
        "mean_iou": sum(defined_iou) / len(defined_iou) if defined_iou else math.nan,
        "frequency_weighted_iou": (
            sum(truth[i] * iou[i] for i in range(size) if truth[i]) / total if total else math.nan
        ),
        "iou_per_class": iou,
        "accuracy_per_class": accuracy,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ignore_index", [None, IGNORE_INDEX])
def test_confusion_matrix_matches_loop(seed, ignore_index):
    pred, target = _random_pair(seed, ignore=ignore_index is not None)
    matrix = confusion_matrix(pred, target, NUM_CLASSES, ignore_index=ignore_index)
    assert matrix.dtype == torch.int64 and matrix.shape == (NUM_CLASSES, NUM_CLASSES)
    assert matrix.tolist() == _loop_confusion(pred, target, NUM_CLASSES, ignore_index)


def test_confusion_matrix_with_valid_mask_matches_loop():
    pred, target = _random_pair(3)
    valid_mask = torch.rand(target.shape, generator=torch.Generator().manual_seed(4)) < 0.5
    matrix = confusion_matrix(pred, target, NUM_CLASSES, IGNORE_INDEX, valid_mask=valid_mask)
    assert matrix.tolist() == _loop_confusion(pred, target, NUM_CLASSES, IGNORE_INDEX, valid_mask)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_measures_match_fcn_formulas(seed):
    pred, target = _random_pair(seed)
    matrix = confusion_matrix(pred, target, NUM_CLASSES, ignore_index=IGNORE_INDEX)
    expected = _loop_measures(matrix.tolist())
    assert pixel_accuracy(matrix) == pytest.approx(expected["pixel_accuracy"])
    assert mean_accuracy(matrix) == pytest.approx(expected["mean_accuracy"])
    assert mean_iou(matrix) == pytest.approx(expected["mean_iou"])
    assert frequency_weighted_iou(matrix) == pytest.approx(expected["frequency_weighted_iou"])
    expected_iou = torch.tensor(expected["iou_per_class"], dtype=torch.float64)
    torch.testing.assert_close(iou_per_class(matrix), expected_iou, equal_nan=True)
    expected_accuracy = torch.tensor(expected["accuracy_per_class"], dtype=torch.float64)
    torch.testing.assert_close(accuracy_per_class(matrix), expected_accuracy, equal_nan=True)


def test_absent_classes():
    pred, target = _random_pair(5)
    iou = iou_per_class(confusion_matrix(pred, target, NUM_CLASSES, ignore_index=IGNORE_INDEX))
    accuracy = accuracy_per_class(confusion_matrix(pred, target, NUM_CLASSES, ignore_index=IGNORE_INDEX))
    assert iou[3] == 0.0  # predicted but never true: a real mistake
    assert math.isnan(iou[4])  # seen by nobody: undefined, skipped by the mean
    assert math.isnan(accuracy[3]) and math.isnan(accuracy[4])  # no true pixels
    assert not iou[:3].isnan().any()


def test_pixel_accuracy_matches_direct_count():
    pred, target = _random_pair(6)
    labelled = target != IGNORE_INDEX
    direct = (pred == target)[labelled].double().mean().item()
    matrix = confusion_matrix(pred, target, NUM_CLASSES, ignore_index=IGNORE_INDEX)
    assert pixel_accuracy(matrix) == pytest.approx(direct)


def test_empty_matrix_gives_nan():
    matrix = torch.zeros(3, 3, dtype=torch.long)
    for measure in (pixel_accuracy, mean_accuracy, mean_iou, frequency_weighted_iou):
        assert math.isnan(measure(matrix))


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7])
def test_meter_accumulation_equals_one_shot(batch_size):
    pred, target = _random_pair(7, shape=(7, 5, 6))
    meter = ConfusionMeter(NUM_CLASSES, ignore_index=IGNORE_INDEX)
    for start in range(0, len(target), batch_size):
        meter.update(pred[start : start + batch_size], target[start : start + batch_size])
    one_shot = confusion_matrix(pred, target, NUM_CLASSES, ignore_index=IGNORE_INDEX)
    assert torch.equal(meter.matrix, one_shot)
    result = meter.compute()
    assert result["mean_iou"] == pytest.approx(mean_iou(one_shot))
    assert result["frequency_weighted_iou"] == pytest.approx(frequency_weighted_iou(one_shot))
    accumulated_iou = torch.tensor(result["iou_per_class"], dtype=torch.float64)
    torch.testing.assert_close(accumulated_iou, iou_per_class(one_shot), equal_nan=True)


def test_meter_reset_and_matrix_is_a_copy():
    pred, target = _random_pair(8)
    meter = ConfusionMeter(NUM_CLASSES, ignore_index=IGNORE_INDEX)
    meter.update(pred, target)
    meter.matrix.zero_()  # must not touch the meter's own counts
    assert meter.matrix.sum() == (target != IGNORE_INDEX).sum()
    meter.reset()
    assert meter.matrix.sum() == 0


def test_confusion_matrix_rejects_scores_and_bad_inputs():
    pred, target = _random_pair(9)
    scores = torch.randn(*target.shape[:1], NUM_CLASSES, *target.shape[1:])
    with pytest.raises(ValueError, match="to_labels"):
        confusion_matrix(scores, target, NUM_CLASSES, IGNORE_INDEX)
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(pred[:1], target, NUM_CLASSES, IGNORE_INDEX)
    with pytest.raises(ValueError, match="pass ignore_index=255"):
        confusion_matrix(pred, target, NUM_CLASSES)  # 255 present but not declared
    with pytest.raises(ValueError, match=r"target must be in \[0, 2\) or ignore_index=255"):
        confusion_matrix(pred, target.clamp(max=2), 2, IGNORE_INDEX)
    with pytest.raises(ValueError, match=r"pred must be in \[0, 3\); found 3"):
        confusion_matrix(pred, target, 3, IGNORE_INDEX)


def _loop_band(target: torch.Tensor, width: int) -> torch.Tensor:
    batch, height, width_pixels = target.shape
    band = torch.zeros(target.shape, dtype=torch.bool)
    for b in range(batch):
        for i in range(height):
            for j in range(width_pixels):
                for di in range(-width, width + 1):
                    for dj in range(-width, width + 1):
                        y, x = i + di, j + dj
                        if 0 <= y < height and 0 <= x < width_pixels and target[b, y, x] != target[b, i, j]:
                            band[b, i, j] = True
    return band


@pytest.mark.parametrize("width", [1, 2, 3])
def test_boundary_band_matches_loop(width):
    generator = torch.Generator().manual_seed(width)
    coarse = torch.randint(0, 3, (2, 3, 3), generator=generator)
    target = coarse.repeat_interleave(4, dim=1).repeat_interleave(4, dim=2)[:, :11, :10]  # blocky regions
    band = boundary_band(target, width)
    assert band.dtype == torch.bool and band.shape == target.shape
    assert torch.equal(band, _loop_band(target, width))
    assert torch.equal(boundary_band(target[0], width), band[0])


def test_boundary_band_restricts_confusion_matrix():
    _, target = _random_pair(10, ignore=False)
    pred, _ = _random_pair(11, ignore=False)
    band = boundary_band(target, 1)
    near = confusion_matrix(pred, target, NUM_CLASSES, valid_mask=band)
    far = confusion_matrix(pred, target, NUM_CLASSES, valid_mask=~band)
    assert torch.equal(near + far, confusion_matrix(pred, target, NUM_CLASSES))
    assert near.sum() == band.sum()


def test_boundary_band_rejects_bad_width():
    with pytest.raises(ValueError, match="width"):
        boundary_band(torch.zeros(2, 4, 4, dtype=torch.long), 0)


def test_predictions_at_ignored_pixels_are_not_checked_or_counted():
    generator = torch.Generator().manual_seed(3)
    target = torch.randint(0, 3, (2, 5, 5), generator=generator)
    target[:, 0, :] = IGNORE_INDEX
    pred = torch.randint(0, 3, (2, 5, 5), generator=generator)
    pred[:, 0, :] = IGNORE_INDEX  # e.g. a prediction copied from the target's void pixels
    matrix = confusion_matrix(pred, target, 3, IGNORE_INDEX)
    expected = torch.zeros(3, 3, dtype=torch.long)
    for true_class, predicted in zip(target.flatten().tolist(), pred.flatten().tolist()):
        if true_class != IGNORE_INDEX:
            expected[true_class, predicted] += 1
    assert torch.equal(matrix, expected)
    pred[1, 2, 2] = 7  # a bad prediction at a labelled pixel is still refused
    with pytest.raises(ValueError, match=r"pred must be in \[0, 3\); found 7"):
        confusion_matrix(pred, target, 3, IGNORE_INDEX)
