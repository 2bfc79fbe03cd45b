"""Tests for the valid-padding size planner, against a brute-force walk down and up the U."""

import pytest

from segedu.analysis.unet_sizes import valid_border, valid_input_size, valid_output_size


def walk(input_size: int, depth: int) -> int | None:
    """Output side by following every layer; None when a pool sees an odd size or a map vanishes."""
    size = input_size - 4
    for _ in range(depth):
        if size <= 0 or size % 2:
            return None
        size = size // 2 - 4
    if size <= 0:
        return None
    for _ in range(depth):
        size = 2 * size - 4
    return size if size > 0 else None


def test_the_paper_numbers() -> None:
    assert valid_output_size(572) == 388
    assert valid_input_size(388) == 572
    assert valid_border() == 184


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_output_size_matches_the_walk_for_every_input(depth: int) -> None:
    for input_size in range(1, 800):
        expected = walk(input_size, depth)
        if expected is None:
            with pytest.raises(ValueError, match=f"input {input_size} does not fit"):
                valid_output_size(input_size, depth)
        else:
            assert valid_output_size(input_size, depth) == expected
            assert input_size - expected == valid_border(depth)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_input_size_is_the_smallest_that_reaches_the_output(depth: int) -> None:
    fits = [size for size in range(1, 1200) if walk(size, depth) is not None]
    for wanted in range(1, 300):
        expected = min(size for size in fits if walk(size, depth) >= wanted)
        assert valid_input_size(wanted, depth) == expected


def test_refusals_name_the_nearest_sizes_and_bad_depths() -> None:
    with pytest.raises(ValueError, match=r"nearest: \[556, 572\]"):
        valid_output_size(570)
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        valid_input_size(388, depth=0)
