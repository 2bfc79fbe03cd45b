"""Presence targets, placed shapes, classifier activations and linear probes."""

from __future__ import annotations

import pytest
import torch

from segedu.datasets import ShapesScenes
from segedu.models import FCN, TinyClassifier
from segedu.models.gap_classifier import GAPClassifier
from segedu.analysis.probes import (
    chance_error,
    classifier_activations,
    classifier_from_fcn,
    classifier_head,
    grid_means,
    linear_probe,
    place_shape,
    position_probe_errors,
    presence_scenes,
    presence_targets,
    ridge_regression,
    single_shape_images,
)


def test_presence_targets_match_a_loop() -> None:
    scenes = ShapesScenes("val", length=6, size=32, seed=3)
    masks = torch.stack([scenes[i][1] for i in range(len(scenes))])
    masks[0, 0, 0] = 255  # an ignored pixel is no class
    targets = presence_targets(masks, scenes.num_classes)
    assert targets.shape == (6, scenes.num_classes - 1) and targets.dtype == torch.float32
    for b in range(len(scenes)):
        present = {int(v) for v in masks[b].unique()}
        assert targets[b].tolist() == [float(k in present) for k in range(1, scenes.num_classes)]


def test_presence_targets_refuse_float_masks() -> None:
    with pytest.raises(ValueError, match="integer tensor"):
        presence_targets(torch.zeros(1, 4, 4), 4)


@pytest.mark.parametrize("class_index", [1, 2, 3])
def test_place_shape_moves_only_the_shape(class_index: int) -> None:
    image_a, mask_a = place_shape(class_index, (20.0, 20.0), size=64, seed=5)
    image_b, mask_b = place_shape(class_index, (20.0, 44.0), size=64, seed=5)
    assert image_a.shape == (3, 64, 64) and mask_a.dtype == torch.int64
    assert set(mask_a.unique().tolist()) == {0, class_index}
    # The mask is the same shape, moved 24 pixels to the right.
    assert torch.equal(mask_a[:, :40], mask_b[:, 24:])
    rows, columns = torch.nonzero(mask_a, as_tuple=True)
    assert abs(rows.float().mean().item() + 0.5 - 20.0) < 1.5 and abs(columns.float().mean().item() + 0.5 - 20.0) < 1.5
    # Pixels outside both shapes are identical: only the position changed.
    outside = (mask_a == 0) & (mask_b == 0)
    assert torch.equal(image_a[:, outside], image_b[:, outside])
    assert not torch.equal(image_a, image_b)


def test_place_shape_grey_and_errors() -> None:
    image, _ = place_shape(1, (10.0, 10.0), size=32, channels=1)
    assert image.shape == (1, 32, 32)
    with pytest.raises(ValueError, match="class_index"):
        place_shape(0, (10.0, 10.0))


def test_classifier_activations_end_in_the_model_output() -> None:
    torch.manual_seed(0)
    model = TinyClassifier(3, 3, base_channels=4, image_size=32, hidden_features=16).eval()
    images = torch.rand(2, 3, 32, 32)
    activations = classifier_activations(model, images)
    assert list(activations) == ["input", "stage1", "stage2", "stage3", "fc1", "fc2", "scores"]
    assert activations["stage3"].shape == (2, 16, 4, 4) and activations["fc2"].shape == (2, 16)
    with torch.no_grad():
        torch.testing.assert_close(activations["scores"], model(images))
        # Every intermediate result, recomputed layer by layer as TinyClassifier.forward writes it.
        pool1, pool2, pool3 = model.stage_outputs(images)
        fc1 = torch.relu(model.fc1(model.flatten(pool3)))
        fc2 = torch.relu(model.fc2(fc1))
    for name, expected in {"stage1": pool1, "stage2": pool2, "stage3": pool3, "fc1": fc1, "fc2": fc2}.items():
        torch.testing.assert_close(activations[name], expected)
    assert (activations["fc1"] >= 0).all()  # after the ReLU


def test_classifier_head_is_the_rest_of_the_forward_pass() -> None:
    torch.manual_seed(0)
    model = TinyClassifier(3, 3, base_channels=4, image_size=32, hidden_features=16).eval()
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(classifier_head(model, model.stage_outputs(images)[-1]), model(images))


def test_classifier_from_fcn_copies_and_freezes_the_stages() -> None:
    torch.manual_seed(0)
    fcn = FCN(3, 4, base_channels=4, fc_channels=8).eval()
    for module in fcn.modules():  # non-trivial BatchNorm statistics, so copying them matters
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    model = classifier_from_fcn(fcn, 3, image_size=32, hidden_features=16)
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        pool1 = fcn.stage1(images)
        pool2 = fcn.stage2(pool1)
        pool3 = fcn.stage3.pool(fcn.stage3.conv2(fcn.stage3.conv1(pool2)))  # FCN's stage 3 without conv3
        outputs = model.stage_outputs(images)
    for mine, reference in zip(outputs, [pool1, pool2, pool3]):
        torch.testing.assert_close(mine, reference)
    assert not model.training
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"{layer}.{kind}" for layer in ("fc1", "fc2", "classifier") for kind in ("weight", "bias")}


@pytest.mark.parametrize("dimensions", [5, 80])  # primal (D < N) and dual (D > N) forms
def test_ridge_regression_matches_lstsq(dimensions: int) -> None:
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(40, dimensions, generator=generator, dtype=torch.float64)
    targets = torch.randn(40, 2, generator=generator, dtype=torch.float64)
    ridge = 0.7
    weight, bias = ridge_regression(features, targets, ridge)
    # Reference: ordinary least squares on an augmented system [X - mean; sqrt(ridge) I] w = [y - mean; 0].
    x = features - features.mean(dim=0)
    y = targets - targets.mean(dim=0)
    augmented_x = torch.cat([x, ridge**0.5 * torch.eye(dimensions, dtype=x.dtype)])
    augmented_y = torch.cat([y, torch.zeros(dimensions, 2, dtype=y.dtype)])
    expected = torch.linalg.lstsq(augmented_x, augmented_y).solution
    torch.testing.assert_close(weight, expected)
    torch.testing.assert_close(bias, targets.mean(dim=0) - features.mean(dim=0) @ expected)


def test_ridge_regression_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="same N"):
        ridge_regression(torch.zeros(3, 2), torch.zeros(4, 1), 1.0)
    with pytest.raises(ValueError, match="ridge must be > 0"):
        ridge_regression(torch.zeros(3, 2), torch.zeros(3, 1), 0.0)


def test_linear_probe_finds_a_linear_signal_and_not_noise() -> None:
    generator = torch.Generator().manual_seed(1)
    mixing = torch.randn(30, 2, generator=generator)

    def split(n: int) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        features = torch.randn(n, 30, generator=generator)
        return (features, features @ mixing), (features, torch.randn(n, 2, generator=generator))

    (signal_train, noise_train), (signal_val, noise_val), (signal_test, noise_test) = split(200), split(100), split(100)
    found = linear_probe(signal_train, signal_val, signal_test)
    assert found.test_error < 0.05 * signal_test[1].norm(dim=1).mean()
    assert found.test_predictions.shape == (100, 2)
    chance = noise_test[1].norm(dim=1).mean()
    assert linear_probe(noise_train, noise_val, noise_test).test_error > 0.9 * chance


def test_linear_probe_predictions_equal_ridge_regression() -> None:
    generator = torch.Generator().manual_seed(2)
    data = [(torch.randn(n, 4, 3, generator=generator), torch.randn(n, 2, generator=generator)) for n in (30, 10, 12)]
    found = linear_probe(*data, relative_ridges=(0.5,))
    (x_train, y_train), _, (x_test, _) = data
    mean, std = x_train.flatten(1).mean(dim=0), x_train.flatten(1).std(dim=0)
    weight, bias = ridge_regression((x_train.flatten(1) - mean) / std, y_train, 0.5 * 30)
    expected = (x_test.flatten(1) - mean) / std @ weight + bias
    assert found.ridge == 0.5 * 30
    torch.testing.assert_close(found.test_predictions, expected, atol=1e-4, rtol=1e-4)


def test_classifier_activations_of_a_gap_classifier() -> None:
    torch.manual_seed(0)
    model = GAPClassifier(3, 3, base_channels=4).eval()
    images = torch.rand(2, 3, 32, 32)
    activations = classifier_activations(model, images)
    assert list(activations) == ["input", "stage1", "stage2", "stage3", "gap", "scores"]
    torch.testing.assert_close(activations["gap"], activations["stage3"].mean(dim=(2, 3)))
    with torch.no_grad():
        torch.testing.assert_close(activations["scores"], model(images))


def test_presence_scenes_count_shapes_and_repeat() -> None:
    images, masks = presence_scenes(20, size=32, min_shapes=1, max_shapes=2, clutter=False, seed=4)
    assert images.shape == (20, 3, 32, 32) and masks.shape == (20, 32, 32)
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    present = presence_targets(masks, 4).sum(dim=1)
    assert (present >= 1).all() and (present <= 2).all()  # at least one shape; overlaps may hide one
    again, _ = presence_scenes(20, size=32, min_shapes=1, max_shapes=2, clutter=False, seed=4)
    assert torch.equal(images, again)
    with pytest.raises(ValueError, match="min_shapes"):
        presence_scenes(1, min_shapes=3, max_shapes=2)


def test_single_shape_images_put_the_shape_at_its_centre() -> None:
    images, centres = single_shape_images(6, size=32, radius_range=(0.2, 0.28), clutter=False, seed=2)
    assert images.shape == (6, 3, 32, 32) and centres.shape == (6, 2)
    assert ((centres >= 4) & (centres <= 28)).all()
    # The shape (one flat colour plus noise, radius >= 6.4 px) covers every pixel within 2 px of its
    # centre, and its colour stands out from the background.
    for image, (row, column) in zip(images, centres):
        r, c = int(row), int(column)
        patch = image[:, r - 2:r + 3, c - 2:c + 3]  # (3, 5, 5) around the centre
        assert (patch - patch.mean(dim=(1, 2), keepdim=True)).abs().max() < 0.15
        assert (image - patch.mean(dim=(1, 2), keepdim=True)).abs().amax(dim=0).max() > 0.3


def test_position_probes_find_a_grid_position_and_lose_it_when_averaged() -> None:
    # A one-hot "feature map" marking the cell of each target: the whole map holds the position
    # linearly, its mean over the grid (always 1/16) holds nothing.
    generator = torch.Generator().manual_seed(0)

    def split(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        cells = torch.randint(0, 4, (count, 2), generator=generator)
        maps = torch.zeros(count, 1, 4, 4)
        maps[torch.arange(count), 0, cells[:, 0], cells[:, 1]] = 1.0
        return maps, cells.float() * 8 + 4

    data = {name: split(n) for name, n in (("train", 200), ("validation", 60), ("test", 100))}
    activations = {name: {"grid": maps} for name, (maps, _) in data.items()}
    targets = {name: centres for name, (_, centres) in data.items()}
    chance = chance_error(targets["train"], targets["test"])
    assert position_probe_errors(activations, targets)["grid"] < 0.05 * chance
    assert position_probe_errors(activations, targets, average_grid=True)["grid"] > 0.95 * chance
    assert grid_means(torch.ones(2, 3, 4, 4)).shape == (2, 3) and grid_means(torch.ones(2, 5)).shape == (2, 5)
    with pytest.raises(ValueError, match="splits"):
        position_probe_errors({"train": {}}, {"train": torch.zeros(1, 2)})
