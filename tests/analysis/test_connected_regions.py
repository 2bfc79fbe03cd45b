"""Tests for segedu.analysis.connected_regions."""

from __future__ import annotations

import pytest
import torch

from segedu.analysis.connected_regions import count_connected_regions, label_connected_regions


def test_counts_separate_and_touching_blocks() -> None:
    region = torch.zeros(8, 8, dtype=torch.bool)
    region[0:3, 0:3] = True
    region[5:8, 5:8] = True
    assert count_connected_regions(region) == 2
    region[3:5, 2] = True  # a bridge down column 2
    region[4, 2:6] = True  # ... and across row 4
    assert count_connected_regions(region) == 1


def test_diagonal_neighbours_do_not_connect_and_empty_is_zero() -> None:
    region = torch.tensor([[1, 0], [0, 1]], dtype=torch.bool)
    assert count_connected_regions(region) == 2
    assert count_connected_regions(torch.zeros(3, 3, dtype=torch.bool)) == 0


def test_labels_are_zero_outside_and_constant_per_region() -> None:
    region = torch.tensor([[1, 1, 0], [0, 0, 0], [0, 1, 1]], dtype=torch.bool)
    labels = label_connected_regions(region)
    assert (labels[~region] == 0).all()
    assert labels[0, 0] == labels[0, 1] and labels[2, 1] == labels[2, 2] and labels[0, 0] != labels[2, 1]


def test_rejects_non_2d() -> None:
    with pytest.raises(ValueError):
        label_connected_regions(torch.ones(1, 2, 2, dtype=torch.bool))
