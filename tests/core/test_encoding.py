"""segedu.core.encoding against brute-force loops over pixels."""

from __future__ import annotations

import pytest
import torch

from segedu.core.encoding import IGNORE_INDEX, check_labels, one_hot, to_labels


def _random_labels(
    shape: tuple[int, ...], num_classes: int, seed: int, ignore_fraction: float = 0.2
) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, shape, generator=generator)
    ignored = torch.rand(shape, generator=generator) < ignore_fraction
    return labels.masked_fill(ignored, IGNORE_INDEX)


def test_ignore_index_is_voc_convention():
    assert IGNORE_INDEX == 255


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_hot_matches_loop(seed):
    num_classes = 4
    labels = _random_labels((2, 5, 6), num_classes, seed)
    encoded = one_hot(labels, num_classes)
    assert encoded.shape == (2, num_classes, 5, 6)
    assert encoded.dtype == torch.float32
    expected = torch.zeros(2, num_classes, 5, 6)
    for b in range(2):
        for i in range(5):
            for j in range(6):
                label = int(labels[b, i, j])
                if label != IGNORE_INDEX:
                    expected[b, label, i, j] = 1.0
    assert torch.equal(encoded, expected)


def test_one_hot_ignored_pixels_are_zero_vectors():
    labels = _random_labels((3, 7, 7), 5, seed=3, ignore_fraction=0.5)
    encoded = one_hot(labels, 5)
    ignored = labels == IGNORE_INDEX
    assert ignored.any()
    assert torch.equal(encoded.sum(dim=1), (~ignored).float())


def test_one_hot_single_mask_gives_channels_first():
    labels = _random_labels((2, 6, 5), 3, seed=4)
    assert torch.equal(one_hot(labels[1], 3), one_hot(labels, 3)[1])


def test_one_hot_ignore_none_rejects_255():
    labels = torch.tensor([[0, 1], [IGNORE_INDEX, 2]])
    with pytest.raises(ValueError, match="ignore_index=255"):
        one_hot(labels, 3, ignore_index=None)


@pytest.mark.parametrize("shape", [(2, 4, 5, 6), (7, 9)])
def test_round_trip(shape):
    num_classes = shape[1] if len(shape) == 4 else 6
    generator = torch.Generator().manual_seed(5)
    label_shape = shape[:1] + shape[2:] if len(shape) == 4 else shape
    labels = torch.randint(0, num_classes, label_shape, generator=generator)
    assert torch.equal(to_labels(one_hot(labels, num_classes)), labels)


def test_to_labels_matches_loop():
    scores = torch.randn(2, 5, 4, 3, generator=torch.Generator().manual_seed(6))
    labels = to_labels(scores)
    assert labels.dtype == torch.int64 and labels.shape == (2, 4, 3)
    for b in range(2):
        for i in range(4):
            for j in range(3):
                column = scores[b, :, i, j].tolist()
                assert labels[b, i, j] == column.index(max(column))


@pytest.mark.parametrize(
    "bad",
    [
        torch.zeros(2, 3, 4, 5, dtype=torch.long),  # integer: labels, not scores
        torch.zeros(4, 5),  # no class axis
        torch.zeros(1, 1, 2, 3, 4),  # one axis too many
    ],
)
def test_to_labels_rejects_non_scores(bad):
    with pytest.raises(ValueError, match="scores"):
        to_labels(bad)


def test_check_labels_names_bad_values_and_counts():
    labels = torch.zeros(4, 5, dtype=torch.long)
    labels.view(-1)[:3] = 17
    labels.view(-1)[3:5] = -1
    labels.view(-1)[5] = IGNORE_INDEX  # allowed
    with pytest.raises(ValueError) as raised:
        check_labels(labels, 11)
    message = str(raised.value)
    assert "[0, 11) or ignore_index=255" in message
    assert "17 (3 pixels)" in message and "-1 (2 pixels)" in message
    assert "255" not in message.split("found")[1]


def test_check_labels_accepts_valid_and_rejects_floats():
    check_labels(_random_labels((2, 3, 3), 4, seed=7), 4)
    check_labels(torch.arange(4, dtype=torch.uint8), 4, ignore_index=None)
    with pytest.raises(ValueError, match="integer"):
        check_labels(torch.zeros(3, 3), 4)
    with pytest.raises(ValueError, match="num_classes"):
        check_labels(torch.zeros(3, dtype=torch.long), 0)


def test_check_labels_rejects_ignore_index_inside_class_range():
    with pytest.raises(ValueError, match="ignore_index=2"):
        check_labels(torch.zeros(3, dtype=torch.long), 4, ignore_index=2)
