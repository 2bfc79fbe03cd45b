"""Tests for segedu.plots.masks.prediction_grid: one row per scene, image, truth and one column per model."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from segedu.plots.predictions import prediction_grid  # noqa: E402


def _scenes(count=3, size=8, channels=3):
    generator = torch.Generator().manual_seed(0)
    images = [torch.rand(channels, size, size, generator=generator) for _ in range(count)]
    masks = [torch.randint(0, 4, (size, size), generator=generator) for _ in range(count)]
    return images, masks


def test_grid_has_one_row_per_scene_and_one_column_per_model():
    images, masks = _scenes()
    predictions = {"fcn8s": masks, "unet": [mask.flip(0) for mask in masks]}
    figure = prediction_grid(images, masks, predictions, row_labels=["a", "b", "c"], title="grid")
    try:
        assert len(figure.axes) == 3 * 4
        assert [axis.get_title() for axis in figure.axes[:4]] == ["image", "truth", "fcn8s", "unet"]
        assert [figure.axes[4 * row].get_ylabel() for row in range(3)] == ["a", "b", "c"]
        assert figure.legends == []
    finally:
        plt.close(figure)


def test_grey_images_and_class_legend():
    images, masks = _scenes(count=2, channels=1)
    figure = prediction_grid(images, masks, {"model": masks}, class_names=["background", "a", "b", "c"])
    try:
        assert len(figure.axes) == 2 * 3
        assert len(figure.legends) == 1
        assert [text.get_text() for text in figure.legends[0].get_texts()] == ["background", "a", "b", "c"]
    finally:
        plt.close(figure)


def test_mismatched_lengths_name_the_bad_value():
    images, masks = _scenes()
    with pytest.raises(ValueError, match="masks must hold one mask per image"):
        prediction_grid(images, masks[:2], {})
    with pytest.raises(ValueError, match=r"predictions\['unet'\]"):
        prediction_grid(images, masks, {"unet": masks[:1]})
    with pytest.raises(ValueError, match="row_labels"):
        prediction_grid(images, masks, {}, row_labels=["only one"])
    with pytest.raises(ValueError, match="at least one image"):
        prediction_grid([], [], {})


def test_mismatched_shapes_name_the_bad_value():
    images, masks = _scenes()
    with pytest.raises(ValueError, match=r"images\[0\] has size"):
        prediction_grid([torch.rand(3, 5, 5), *images[1:]], masks, {})
    with pytest.raises(ValueError, match=r"predictions\['unet'\]\[1\] has shape"):
        prediction_grid(images, masks, {"unet": [masks[0], torch.zeros(4, 8, 8), masks[2]]})
    with pytest.raises(ValueError, match=r"masks\[2\] must be an \(H, W\)"):
        prediction_grid(images, [masks[0], masks[1], masks[2][None]], {})
