"""Each lesson-18 check accepts the right answer and says why a wrong one is wrong."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segedu.course.exercises.lesson18 import (
    CONTACT_SCENE,
    COST_OUTCOMES,
    COST_TOLERANCE,
    GAP_OUTCOMES,
    MISSED_OUTCOMES,
    check_contact_weights,
    check_study_prediction,
    check_weight_map,
    contact_weights,
    study_outcomes,
    weight_map_cases,
    weight_map_study_scores,
)
from segedu.analysis.weight_map import unet_weight_map
from segedu.course.experiments import load_experiment

# --- exercise 1: write the weight map --------------------------------------------------------------------


def _distance_loop(instances: torch.Tensor) -> list[torch.Tensor]:
    """Each object's distance map by brute force: every pixel against every pixel of the object."""
    height, width = instances.shape
    maps = []
    for object_id in [value for value in instances.unique().tolist() if value != 0]:
        members = (instances == object_id).nonzero().double()  # (M, 2)
        grid = torch.stack(torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij"), -1).double()
        maps.append(((grid[:, :, None, :] - members) ** 2).sum(-1).sqrt().amin(-1))  # (H, W)
    return maps


def _weight_map(instances, w0, sigma, *, background_only=True, plus_one=True, spread=2.0, first_two=False):
    """A learner's map from brute-force distances, with the slips the checker names switched on."""
    maps = _distance_loop(instances)
    if len(maps) < 2:
        return torch.ones(instances.shape)
    d1, d2 = maps[:2] if first_two else torch.stack(maps).sort(dim=0).values[:2]
    border = w0 * torch.exp(-((d1 + d2) ** 2) / (spread * sigma**2))
    if background_only:
        border = border * (instances == 0)
    return border + (1.0 if plus_one else 0.0)


def test_weight_map_right(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_weight_map(_weight_map) is True
    assert capsys.readouterr().out.startswith("Correct! your map equals segedu's unet_weight_map")


def test_weight_map_cases_need_the_nearest_two_of_more_than_two_objects() -> None:
    counts = [len(instances.unique()) - 1 for _, instances, _, _ in weight_map_cases()]
    assert max(counts) > 2 and 1 in counts and 0 in counts


def _fixed_constants(instances, w0, sigma):
    return _weight_map(instances, 10.0, 5.0)


def _ones_fail(instances, w0, sigma):
    if len(instances.unique()) < 3:
        return torch.zeros(instances.shape)
    return _weight_map(instances, w0, sigma)


def _crashes_on_one_object(instances, w0, sigma):
    d1, d2 = torch.stack(_distance_loop(instances)).sort(dim=0).values[:2]
    return 1 + w0 * torch.exp(-((d1 + d2) ** 2) / (2 * sigma**2)) * (instances == 0)


@pytest.mark.parametrize(("function", "hint"), [
    (lambda instances, w0, sigma: _weight_map(instances, w0, sigma, plus_one=False), "border term alone"),
    (lambda instances, w0, sigma: _weight_map(instances, w0, sigma, background_only=False), "background pixels only"),
    (lambda instances, w0, sigma: _weight_map(instances, w0, sigma, spread=1.0), "not sigma^2"),
    (lambda instances, w0, sigma: _weight_map(instances, w0, sigma, first_two=True), "two smallest"),
    (_fixed_constants, "w0 = 4, sigma = 2"),
    (_ones_fail, "w(x) = w_c = 1"),
    (_crashes_on_one_object, "no second distance"),
    (lambda instances, w0, sigma: unet_weight_map(instances, w0=w0, sigma=sigma), "calls segedu's unet_weight_map"),
    (lambda instances, w0, sigma: ..., "returns nothing"),
    (lambda instances, w0, sigma: torch.ones(3), "shape (H, W)"),
])
def test_weight_map_names_the_slip(function, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_weight_map(function) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out, out


# --- exercise 2: the weight of a pixel where scene 5's two triangles touch -------------------------------


def test_contact_weights_follow_from_the_formula() -> None:
    import math

    found = contact_weights()
    assert CONTACT_SCENE == 5 and found["pixels"] > 0
    assert found["background"] == (1.0, 1.0)  # an object pixel keeps w_c = 1
    expected = 1 + 10 * math.exp(-1 / 50)  # d1 = 0, d2 = 1
    assert all(abs(value - expected) < 1e-4 for value in found["all"])


@pytest.mark.parametrize(("background", "every"), [(1.0, 10.8), (1, 10.85), (0.95, 10.75)])
def test_contact_weights_right(background, every, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_contact_weights(background, every)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "10.80 = 1 + 10 exp(-1/50)" in out and "separation border" in out


@pytest.mark.parametrize(("background", "every", "hints"), [
    (10.2, 10.8, ["where=\"background\" you said 10.2", "background pixels only"]),
    (1.0, 11, ["where=\"all\" you said 11", "d2 is not 0"]),
    (1.0, 1.0, ["where=\"all\" you said 1.0", "every pixel now gets the border term"]),
    (11.0, 1.0, ["you said 11.0", "you said 1.0"]),
])
def test_contact_weights_wrong_say_why(background, every, hints, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_contact_weights(background, every)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and all(hint in out for hint in hints)
    assert "10.80" not in out and "separation border" not in out  # the answer is not given away


@pytest.mark.parametrize(("background", "every"), [(..., 10.8), (1.0, None), (True, 10.8), ("1", 10.8),
                                                   (1.0, float("nan"))])
def test_contact_weights_unreadable_answers(background, every, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_contact_weights(background, every)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "number" in out and "10.80" not in out


# --- exercise 3: predict what the stored study measured ------------------------------------------------


def _measured_by_hand() -> tuple[str, str]:
    """The two outcomes, recomputed from the record with plain loops."""
    runs = load_experiment("weight_map_study")["results"]["runs"]
    seeds = sorted(runs["cross_entropy"], key=int)

    def recall(arm: str, seed: str) -> float:
        gap = runs[arm][seed]["gap_confusion"]
        return gap[0][0] / sum(sum(row) for row in gap)

    def mean_iou(arm: str, seed: str) -> float:
        matrix = runs[arm][seed]["confusion"]
        ious = []
        for k in range(len(matrix)):
            union = sum(matrix[k]) + sum(row[k] for row in matrix) - matrix[k][k]
            if union > 0:
                ious.append(matrix[k][k] / union)
        return sum(ious) / len(ious)

    higher = sum(recall("weight_map", seed) > recall("cross_entropy", seed) for seed in seeds)
    gap = "higher in every seed" if higher == len(seeds) else "higher in no seed" if higher == 0 else \
        "higher in some seeds"
    cost = np.mean([mean_iou("weight_map", seed) - mean_iou("cross_entropy", seed) for seed in seeds])
    cost_outcome = "lower by more than 0.02" if cost < -COST_TOLERANCE else \
        "higher by more than 0.02" if cost > COST_TOLERANCE else "within 0.02"
    more = sum(runs["weight_map"][seed]["outcome_counts"]["missed"] > runs["cross_entropy"][seed]["outcome_counts"]["missed"]
               for seed in seeds)
    missed = "more in every seed" if more == len(seeds) else "more in no seed" if more == 0 else "more in some seeds"
    return gap, cost_outcome, missed


def test_study_outcomes_follow_from_the_record() -> None:
    assert study_outcomes() == _measured_by_hand()
    scores = weight_map_study_scores()
    assert scores["seeds"] == ["0", "1", "2", "3", "4"]
    for arm in ("cross_entropy", "weight_map"):
        assert all(len(values) == 5 for key, values in scores[arm].items())
        assert ((scores[arm]["gap recall"] >= 0) & (scores[arm]["gap recall"] <= 1)).all()


def test_study_prediction_right(capsys: pytest.CaptureFixture[str]) -> None:
    gap, cost, missed = _measured_by_hand()
    assert check_study_prediction(gap, cost, missed)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "per seed 0, 1, 2, 3, 4" in out and "about 10.2 times" in out
    assert "missed pairs changed by" in out and "not tested" in out


def test_study_prediction_miss_passes_and_says_which_part(capsys: pytest.CaptureFixture[str]) -> None:
    gap, cost, missed = _measured_by_hand()
    wrong_gap = next(outcome for outcome in GAP_OUTCOMES if outcome != gap)
    wrong_cost = next(outcome for outcome in COST_OUTCOMES if outcome != cost)
    wrong_missed = next(outcome for outcome in MISSED_OUTCOMES if outcome != missed)
    assert check_study_prediction(wrong_gap, cost, missed)  # recorded: it passes, and says what differs
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and f"it was {gap!r}" in out and "mean IoU" in out
    assert "you predicted mean IoU" not in out
    assert check_study_prediction(gap, wrong_cost, missed)
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and f"it came out {cost!r}" in out
    assert "you predicted the gap" not in out
    assert check_study_prediction(gap, cost, wrong_missed)
    out = capsys.readouterr().out
    assert out.startswith("Recorded; the result differs:") and f"they came out {missed!r}" in out
    assert "you predicted mean IoU" not in out


@pytest.mark.parametrize(("gap", "cost", "missed"), [
    (..., "within 0.02", "more in every seed"), ("higher in every seed", ..., "more in every seed"),
    ("higher in every seed", "within 0.02", ...), ("higher", "within 0.02", "more in every seed"),
    ("higher in every seed", "within 0.02", "more"), (None, None, None)])
def test_study_prediction_must_be_recorded_first(gap, cost, missed, capsys: pytest.CaptureFixture[str]) -> None:
    assert not check_study_prediction(gap, cost, missed)
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and "per seed" not in out  # no numbers before both predictions
