"""Tests for TinyClassifier and for turning it into a coarse segmenter (convolutionalize)."""

import pytest
import torch
import torch.nn.functional as F

from segedu.models import ConvolutionalizedClassifier, TinyClassifier, convolutionalize


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def test_logits_shape_and_stage_outputs(generator) -> None:
    model = TinyClassifier(1, 3, base_channels=4, image_size=32)
    x = torch.rand(5, 1, 32, 32, generator=generator)
    assert model(x).shape == (5, 3)
    shapes = [tuple(feature.shape) for feature in model.stage_outputs(x)]
    assert shapes == [(5, 4, 16, 16), (5, 8, 8, 8), (5, 16, 4, 4)]
    assert model.fc1.in_features == 16 * 4 * 4


def test_stage_outputs_are_what_forward_computes(generator) -> None:
    model = TinyClassifier(3, 4, base_channels=4, image_size=32).eval()
    x = torch.rand(2, 3, 32, 32, generator=generator)
    last = model.stage_outputs(x)[-1]
    hidden = F.relu(model.fc2(F.relu(model.fc1(last.flatten(1)))))
    torch.testing.assert_close(model.classifier(hidden), model(x))


def test_other_image_sizes_are_refused_with_the_rule() -> None:
    model = TinyClassifier(3, 4, base_channels=4, image_size=64)
    message = r"image_size=64: fc1 takes 16 x 8 x 8 = 1024 features.*got 80x80.*convolutionalize"
    with pytest.raises(ValueError, match=message):
        model(torch.rand(1, 3, 80, 80))
    with pytest.raises(ValueError, match=r"in_channels=3 — got \(1, 1, 64, 64\)"):
        model(torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match="image_size must be a positive multiple of 8"):
        TinyClassifier(image_size=60)


def test_multi_label_training_step_with_bce(generator) -> None:
    model = TinyClassifier(3, 4, base_channels=4, image_size=32).train()
    x = torch.rand(4, 3, 32, 32, generator=generator)
    present = torch.randint(0, 2, (4, 4), generator=generator).float()  # which shapes are in each image
    loss = F.binary_cross_entropy_with_logits(model(x), present)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_convolutionalized_classifier_gives_identical_scores_at_the_training_size(generator) -> None:
    classifier = TinyClassifier(3, 5, base_channels=4, image_size=32, hidden_features=16).eval()
    coarse = convolutionalize(classifier).eval()
    x = torch.rand(3, 3, 32, 32, generator=generator)
    with torch.no_grad():
        scores = coarse(x)
        assert scores.shape == (3, 5, 1, 1)
        torch.testing.assert_close(scores.flatten(1), classifier(x), atol=1e-5, rtol=1e-5)


def test_convolutionalized_classifier_slides_over_larger_images(generator) -> None:
    classifier = TinyClassifier(1, 4, base_channels=4, image_size=32).eval()
    coarse = convolutionalize(classifier).eval()
    # fc1's kernel spans the 4x4 map of one 32x32 window; windows are 8 pixels apart.
    assert coarse.fc1.kernel_size == (4, 4)
    assert coarse.fc2.kernel_size == (1, 1) and coarse.classifier.kernel_size == (1, 1)
    with torch.no_grad():
        scores = coarse(torch.rand(2, 1, 96, 64, generator=generator))
    assert scores.shape == (2, 4, 96 // 8 - 4 + 1, 64 // 8 - 4 + 1)
    with pytest.raises(ValueError, match="H and W >= 32"):
        coarse(torch.rand(2, 1, 24, 64))


def test_fc_weights_are_reshaped_not_retrained() -> None:
    classifier = TinyClassifier(3, 4, base_channels=4, image_size=32, hidden_features=8)
    coarse = convolutionalize(classifier)
    # Linear weight (8, 16*4*4) read in flatten's (channel, row, column) order is the conv filter bank.
    assert torch.equal(coarse.fc1.weight.flatten(1), classifier.fc1.weight)
    assert torch.equal(coarse.fc1.bias, classifier.fc1.bias)
    assert torch.equal(coarse.classifier.weight[:, :, 0, 0], classifier.classifier.weight)


def test_convolutionalized_copy_is_independent() -> None:
    classifier = TinyClassifier(3, 4, base_channels=4, image_size=32)
    coarse = convolutionalize(classifier)
    assert isinstance(coarse, ConvolutionalizedClassifier)
    with torch.no_grad():
        coarse.stage1.conv1.conv.weight.zero_()
        coarse.fc1.weight.zero_()
    assert classifier.stage1.conv1.conv.weight.abs().sum() > 0
    assert classifier.fc1.weight.abs().sum() > 0
    with pytest.raises(TypeError, match="expects a TinyClassifier"):
        convolutionalize(torch.nn.Linear(2, 2))
