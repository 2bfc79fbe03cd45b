import numpy as np
import pytest
import torch

from segedu.course.experiments import confusion_scores, paired_wins, scores_by_seed, seed_table
from segedu.training.metrics import mean_accuracy, mean_iou, pixel_accuracy


def test_confusion_scores_match_the_metrics_and_count_foreground_by_hand():
    confusion = [[80, 5, 5], [2, 6, 2], [4, 1, 5]]  # rows true (background, a, b), columns predicted
    scores = confusion_scores(confusion, foreground="stroke")
    matrix = torch.tensor(confusion, dtype=torch.float64)
    assert scores["mean IoU"] == pytest.approx(mean_iou(matrix))
    assert scores["mean accuracy"] == pytest.approx(mean_accuracy(matrix))
    assert scores["pixel accuracy"] == pytest.approx(pixel_accuracy(matrix))
    assert scores["stroke recall"] == pytest.approx((6 + 2 + 1 + 5) / 20)  # wrong foreground class still counts
    assert scores["stroke precision"] == pytest.approx((6 + 2 + 1 + 5) / (5 + 6 + 1 + 5 + 2 + 5))
    assert "foreground recall" in confusion_scores(confusion)


def test_a_wrong_reading_of_recall_is_not_what_it_returns():
    # Counting only the right foreground class as a hit would give 11/20, not 14/20.
    assert confusion_scores([[80, 5, 5], [2, 6, 2], [4, 1, 5]])["foreground recall"] != pytest.approx(11 / 20)


def test_scores_by_seed_follows_the_seed_order():
    runs = {"0": {"confusion": [[9, 1], [0, 10]]}, "1": {"confusion": [[10, 0], [5, 5]]}}
    table = scores_by_seed(runs, ["1", "0"])
    np.testing.assert_allclose(table["foreground recall"], [0.5, 1.0])
    assert table["pixel accuracy"].shape == (2,)


def test_seed_table_prints_mean_lowest_and_highest():
    text = seed_table({"dice": {"mean IoU": [0.2, 0.4, 0.6]}, "ce": {"mean IoU": [0.1, 0.1, 0.4]}}, ["mean IoU"])
    lines = text.splitlines()
    assert len(lines) == 3 and lines[0].split() == ["loss", "mean", "IoU"]
    assert lines[1].split() == ["dice", "0.40", "[0.20,", "0.60]"]
    assert lines[2].split() == ["ce", "0.20", "[0.10,", "0.40]"]


def test_paired_wins_counts_seed_by_seed_like_a_loop():
    table = {"ce": {"mean IoU": [0.30, 0.50, 0.40], "missed": [0.1, 0.2, 0.3]},
             "dice": {"mean IoU": [0.40, 0.45, 0.403], "missed": [0.2, 0.1, 0.1]}}
    by_hand = sum(dice > ce + 0.005 for dice, ce in zip(table["dice"]["mean IoU"], table["ce"]["mean IoU"]))
    assert paired_wins(table, "ce", "mean IoU", margin=0.005) == {"dice": by_hand} == {"dice": 1}
    assert paired_wins(table, "ce", "mean IoU") == {"dice": 2}  # without a margin the +0.003 counts
    assert paired_wins(table, "ce", "missed", higher_is_better=False) == {"dice": 2}


def test_paired_wins_refuses_an_unknown_baseline_or_unpaired_seeds():
    with pytest.raises(ValueError, match="baseline 'bce'"):
        paired_wins({"ce": {"x": [1.0]}}, "bce", "x")
    with pytest.raises(ValueError, match="pair runs of the same seeds"):
        paired_wins({"ce": {"x": [1.0, 2.0]}, "dice": {"x": [1.0]}}, "ce", "x")
