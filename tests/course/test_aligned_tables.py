"""Tests of the aligned text table: column order, widths, formats, missing values and errors."""

import numpy as np
import pytest
import torch

from segedu.course.aligned_tables import MISSING, aligned_table


def test_a_small_table_matches_the_layout_written_out_by_hand() -> None:
    text = aligned_table({"a": {"x": 0.5, "name": "one"}, "bb": {"x": 0.25}}, {"x": ".2f"}, label="row", title="T")
    assert text.splitlines() == ["T",
                                 "row     x  name",
                                 "a    0.50   one",
                                 f"bb   0.25     {MISSING}"]


def test_columns_follow_first_appearance_and_every_line_aligns() -> None:
    rows = {"first": {"b": 1, "a": 22}, "second": {"c": 333, "a": 4}}
    lines = aligned_table(rows).splitlines()
    assert lines[0].split() == ["b", "a", "c"]
    for column in ("b", "a", "c"):
        end = lines[0].index(column) + len(column)  # values are right-aligned under their heading's end
        for line, values in zip(lines[1:], rows.values()):
            text = str(values[column]) if column in values else MISSING
            assert line[end - len(text):end] == text


def test_numpy_and_torch_scalars_format_like_floats() -> None:
    text = aligned_table({"r": {"np": np.float64(0.12345), "torch": torch.tensor(0.5), "signed": -0.1}},
                         {"np": ".3f", "torch": ".1%", "signed": "+.2f"})
    assert text.splitlines()[1].split() == ["r", "0.123", "50.0%", "-0.10"]


def test_number_format_covers_the_columns_formats_does_not_name() -> None:
    text = aligned_table({"r": {"x": 1 / 3, "y": 2 / 3}}, {"y": ".1f"}, number_format=".3f")
    assert text.splitlines()[1].split() == ["r", "0.333", "0.7"]


def test_none_prints_as_missing_and_no_line_ends_in_a_space() -> None:
    text = aligned_table({"r": {"x": None, "y": "text"}})
    assert text.splitlines()[1].split() == ["r", MISSING, "text"]
    assert all(line == line.rstrip() for line in text.splitlines())


@pytest.mark.parametrize("rows, gap", [({}, 2), ({"r": {"x": 1}}, 0)])
def test_empty_rows_or_no_gap_raise(rows: dict, gap: int) -> None:
    with pytest.raises(ValueError):
        aligned_table(rows, gap=gap)
