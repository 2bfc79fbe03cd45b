"""Probing what a classifier keeps: presence targets, shapes placed at will, linear probes.

Lesson 03 trains :class:`~segedu.models.TinyClassifier` to say *which shapes are present* and then
asks where, inside the network, the *position* of a shape is lost. The tools:

- :func:`presence_targets`: multi-label targets ("is there a circle? a square? a triangle?")
  read off segmentation masks;
- :func:`presence_scenes`: small scenes with one or two shapes anywhere, to train such a
  classifier end to end in a few hundred steps;
- :func:`place_shape`: one shape drawn exactly where you want it on a fixed background, so that
  moving it changes nothing but its position;
- :func:`classifier_from_fcn`: a TinyClassifier whose convolution stages come from a trained FCN,
  so that only its fully connected layers need training (seconds instead of minutes), and
  :func:`classifier_head`, those layers on their own;
- :func:`classifier_activations`: every intermediate result of a TinyClassifier (or of a
  :class:`~segedu.models.gap_classifier.GAPClassifier`), by name;
- :func:`single_shape_images`: images with one random shape at a random place, and its centre,
  the data the position probes are fitted on;
- :func:`ridge_regression` and :func:`linear_probe`: a closed-form linear regression from
  features to a target (here the shape's centre), with the regularisation picked on held-out
  data, so that a small error means "the position can be read linearly from these features";
- :func:`position_probe_errors`: one linear probe per layer, on the whole feature maps or on
  their means over the grid, and :func:`chance_error`, what always guessing the mean scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from segedu.analysis.hooks import recording
from segedu.datasets._common import contrasting_color, luminance, to_tensors
from segedu.datasets.shapes import SHAPE_CLASS_NAMES, _draw_background, _shape_pixels
from segedu.models import FCN, TinyClassifier
from segedu.models.gap_classifier import GAPClassifier

__all__ = [
    "ProbeResult",
    "chance_error",
    "classifier_activations",
    "classifier_from_fcn",
    "classifier_head",
    "grid_means",
    "linear_probe",
    "place_shape",
    "position_probe_errors",
    "presence_scenes",
    "presence_targets",
    "ridge_regression",
    "single_shape_images",
]


def presence_targets(masks: Tensor, num_classes: int) -> Tensor:
    """Which foreground classes appear in each mask: the targets of a multi-label classifier.

    Class 0 (background) is left out, since every scene has some.

    Args:
        masks: Integer masks with values in ``[0, num_classes)`` (other values, e.g. the ignore
            index 255, are not counted).
        num_classes: Number of classes including the background.

    Returns:
        Float tensor, 1.0 where class ``k`` (``k = 1 .. num_classes - 1``) has at least one pixel.

    Shape:
        ``(B, H, W)`` -> ``(B, num_classes - 1)``

    Example:
        >>> presence_targets(torch.tensor([[[0, 2], [2, 0]]]), 4)
        tensor([[0., 1., 0.]])
    """
    if masks.dim() != 3 or masks.is_floating_point():
        raise ValueError(f"masks must be an integer tensor (B, H, W); got {masks.dtype} of shape {tuple(masks.shape)}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2 (background and at least one class); got {num_classes}")
    classes = torch.arange(1, num_classes, device=masks.device)  # (K-1,)
    hits = masks.flatten(1).unsqueeze(1) == classes[None, :, None]  # (B, K-1, H*W)
    return hits.any(dim=2).float()  # (B, K-1)


def place_shape(
    class_index: int,
    center: tuple[float, float],
    *,
    size: int = 64,
    radius: float | None = None,
    angle: float = 0.0,
    seed: int = 0,
    channels: int = 3,
    clutter: bool = True,
) -> tuple[Tensor, Tensor]:
    """Draw one shape of the :class:`~segedu.datasets.ShapesScenes` kind exactly at ``center``.

    The background (gradient, lines, noise) and the shape's colour depend only on ``seed``, so two
    calls that differ only in ``center`` give two images that differ only in where the shape is.

    Args:
        class_index: 1 circle, 2 square, 3 triangle.
        center: ``(row, column)`` of the shape's centre in pixels (may lie outside the image).
        size: Height and width of the image.
        radius: Radius of the circle with the shape's area; default ``0.13 * size``, the middle of
            the range ShapesScenes draws from.
        angle: Rotation in radians (squares and triangles).
        seed: Chooses the background, the colour and the noise.
        channels: 3 for RGB, 1 for grey.
        clutter: ShapesScenes' background (gradient and thin lines); ``False`` draws the smooth
            gradient alone, like :func:`presence_scenes` with ``clutter=False``.

    Returns:
        ``image`` (C, H, W) float32 in [0, 1] and ``mask`` (H, W) int64 with ``class_index`` on
        the shape and 0 elsewhere.
    """
    if not 1 <= class_index < len(SHAPE_CLASS_NAMES):
        raise ValueError(f"class_index must be 1 (circle), 2 (square) or 3 (triangle); got {class_index}")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB); got {channels}")
    radius = 0.13 * size if radius is None else radius
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5  # pixel centres, (H, W) each
    canvas = _draw_background(rng, ys, xs) if clutter else _gradient(rng, ys, xs)  # (H, W, 3)
    color = contrasting_color(rng, canvas.mean(axis=(0, 1)))  # chosen before the position is known
    noise = rng.normal(0.0, 0.03, size=canvas.shape).astype(np.float32)  # (H, W, 3)
    inside = _shape_pixels(class_index, xs - center[1], ys - center[0], radius, angle)  # (H, W) bool
    canvas[inside] = color
    canvas = np.clip(canvas + noise, 0.0, 1.0)
    mask = np.where(inside, class_index, 0).astype(np.int64)  # (H, W)
    pixels = canvas if channels == 3 else luminance(canvas)
    return to_tensors(pixels, mask)


def classifier_head(model: TinyClassifier, features: Tensor) -> Tensor:
    """The fully connected part of a TinyClassifier: flatten -> fc1 -> ReLU -> fc2 -> ReLU -> classifier.

    ``classifier_head(model, model.stage_outputs(x)[-1])`` equals ``model(x)``; training only the
    head on stored stage-3 features is much cheaper than running the convolutions every step.

    Shape:
        ``(B, 4c, S/8, S/8)`` -> ``(B, num_classes)``
    """
    flat = model.flatten(features)  # (B, 4c * S/8 * S/8): the grid becomes one long list
    hidden = F.relu(model.fc1(flat))  # (B, hidden)
    hidden = F.relu(model.fc2(hidden))  # (B, hidden)
    return model.classifier(hidden)  # (B, num_classes)


def classifier_from_fcn(
    fcn: FCN, num_classes: int, *, image_size: int = 64, hidden_features: int = 128
) -> TinyClassifier:
    """A TinyClassifier whose convolution stages are copied from a trained FCN, and frozen.

    TinyClassifier's stages 1 and 2 have the same layers as FCN's (two 3x3 convs, BatchNorm,
    ReLU, 2x2 max-pool); its stage 3 has two convs where FCN's (like VGG16's) has three, so it
    gets the first two. The fully connected layers are new and are the only trainable part.

    Args:
        fcn: An :class:`~segedu.models.FCN` with BatchNorm, e.g. ``pretrained("fcn8s", "shapes")``.
        num_classes: Outputs of the new classifier.
        image_size: The one input size the classifier accepts.
        hidden_features: Width of fc1 and fc2.

    Returns:
        The classifier in evaluation mode (BatchNorm uses the FCN's running statistics).
    """
    base_channels = fcn.stage1.conv1.conv.out_channels
    model = TinyClassifier(
        fcn.in_channels,
        num_classes,
        base_channels=base_channels,
        image_size=image_size,
        hidden_features=hidden_features,
    )
    model.stage1.load_state_dict(fcn.stage1.state_dict())
    model.stage2.load_state_dict(fcn.stage2.state_dict())
    first_two = {key: value for key, value in fcn.stage3.state_dict().items() if not key.startswith("conv3.")}
    model.stage3.load_state_dict(first_two)
    for stage in (model.stage1, model.stage2, model.stage3):
        stage.requires_grad_(False)
    return model.eval()


@torch.no_grad()
def classifier_activations(model: TinyClassifier | GAPClassifier, images: Tensor) -> dict[str, Tensor]:
    """Every intermediate result of a TinyClassifier or GAPClassifier, recorded in one forward pass.

    The layers' outputs are kept with :func:`~segedu.analysis.hooks.recording`, in the order the
    forward pass makes them. The model is used as it is (call ``model.eval()`` first for
    BatchNorm's running statistics).

    Returns:
        ``input``, ``stage1``, ``stage2``, ``stage3`` (feature maps), then for a TinyClassifier
        ``fc1``, ``fc2`` (after their ReLU), for a GAPClassifier ``gap`` (the channel means), and
        ``scores`` (the logits, equal to ``model(images)``).

    Shape:
        ``(B, C, S, S)`` -> ``{"input": (B, C, S, S), "stage1": (B, c, S/2, S/2), ...,
        "fc1": (B, hidden), "fc2": (B, hidden), "scores": (B, num_classes)}``; ``"gap": (B, 4c)``
        in place of fc1 and fc2 for a GAPClassifier.
    """
    stages = ("stage1", "stage2", "stage3")
    if isinstance(model, GAPClassifier):
        with recording(model, [*stages, "flatten"]) as outputs:
            scores = model(images)  # (B, num_classes)
        head = {"gap": outputs["flatten"]}  # (B, 4c): the mean of each channel over the grid
    else:
        with recording(model, [*stages, "fc1", "fc2"]) as outputs:
            scores = model(images)  # (B, num_classes)
        head = {
            "fc1": F.relu(outputs["fc1"]),  # (B, hidden): the forward pass applies F.relu to fc1's output
            "fc2": F.relu(outputs["fc2"]),  # (B, hidden)
        }
    return {
        "input": images,
        **{name: outputs[name] for name in stages},  # (B, c, S/2, S/2) ... (B, 4c, S/8, S/8)
        **head,
        "scores": scores,
    }


def _gradient(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """A smooth colour gradient: ShapesScenes' background without its lines. (H, W) -> (H, W, 3)"""
    size = ys.shape[0]
    base = rng.uniform(0.2, 0.8, size=3).astype(np.float32)
    direction = rng.uniform(0.0, 2 * np.pi)
    ramp = (np.cos(direction) * xs + np.sin(direction) * ys) / size - 0.5  # (H, W)
    slope = rng.uniform(-0.4, 0.4, size=3).astype(np.float32)
    return (base + ramp[:, :, None] * slope).astype(np.float32)  # (H, W, 3)


def presence_scenes(
    count: int,
    *,
    size: int = 32,
    min_shapes: int = 0,
    max_shapes: int = 2,
    radius_range: tuple[float, float] = (0.2, 0.28),
    clutter: bool = True,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    """Small scenes with ``min_shapes`` to ``max_shapes`` shapes anywhere, for a "which shapes are present?" classifier.

    Drawn like :class:`~segedu.datasets.ShapesScenes` (gradient and lines in the background, a
    contrasting colour per shape, noise), but with larger shapes relative to the image, so that a
    small classifier learns them in a few hundred steps. Shapes may overlap; a later shape covers
    an earlier one, and a class counts as present only if some of its pixels are visible.

    Args:
        count: Number of scenes.
        size: Height and width.
        min_shapes: Fewest shapes per scene (0 allows empty scenes).
        max_shapes: Most shapes per scene (the number is uniform in ``min_shapes .. max_shapes``).
        radius_range: Radii as fractions of ``size`` (radius of the circle with the shape's area).
        clutter: Draw ShapesScenes' thin lines in the background; without them it is a smooth
            colour gradient.
        seed: Seeds everything drawn here.

    Returns:
        ``images`` (count, 3, size, size) in [0, 1] and ``masks`` (count, size, size) int64 with
        0 background, 1 circle, 2 square, 3 triangle (use :func:`presence_targets` on them).
    """
    if not 0 <= min_shapes <= max_shapes or max_shapes < 1:
        raise ValueError(f"need 0 <= min_shapes <= max_shapes and max_shapes >= 1; got {min_shapes} and {max_shapes}")
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5  # pixel centres, (H, W) each
    images, masks = [], []
    for _ in range(count):
        canvas = _draw_background(rng, ys, xs) if clutter else _gradient(rng, ys, xs)  # (H, W, 3)
        mask = np.zeros((size, size), dtype=np.int64)
        for _ in range(int(rng.integers(min_shapes, max_shapes + 1))):
            class_index = int(rng.integers(1, len(SHAPE_CLASS_NAMES)))
            radius = float(rng.uniform(*radius_range) * size)
            centre_y, centre_x = rng.uniform(0.1, 0.9, size=2) * size
            inside = _shape_pixels(class_index, xs - centre_x, ys - centre_y, radius, float(rng.uniform(0, 2 * np.pi)))
            canvas[inside] = contrasting_color(rng, canvas.mean(axis=(0, 1)))
            mask[inside] = class_index
        canvas = np.clip(canvas + rng.normal(0.0, 0.03, size=canvas.shape).astype(np.float32), 0.0, 1.0)
        image, mask_tensor = to_tensors(canvas, mask)
        images.append(image)
        masks.append(mask_tensor)
    return torch.stack(images), torch.stack(masks)


def single_shape_images(
    count: int,
    *,
    size: int = 64,
    radius_range: tuple[float, float] = (0.1, 0.16),
    clutter: bool = True,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    """``count`` images, each with one shape of random class, size and rotation at a random place.

    Drawn like :func:`presence_scenes` (each image its own background and colour). Centres are
    uniform in ``[size / 8, 7 size / 8]`` along both axes.

    Args:
        count: Number of images.
        size: Height and width.
        radius_range: Radii as fractions of ``size``.
        clutter: Thin lines in the background (as in ShapesScenes) or a smooth gradient only.
        seed: Seeds everything drawn here.

    Returns:
        ``images`` (count, 3, size, size) and ``centres`` (count, 2), the (row, column) of each
        shape's centre in pixels.
    """
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5  # pixel centres, (H, W) each
    images, centres = [], []
    for _ in range(count):
        centre = rng.uniform(size / 8, 7 * size / 8, size=2)  # (row, column)
        canvas = _draw_background(rng, ys, xs) if clutter else _gradient(rng, ys, xs)  # (H, W, 3)
        class_index = int(rng.integers(1, len(SHAPE_CLASS_NAMES)))
        radius = float(rng.uniform(*radius_range) * size)
        inside = _shape_pixels(class_index, xs - centre[1], ys - centre[0], radius, float(rng.uniform(0, 2 * np.pi)))
        canvas[inside] = contrasting_color(rng, canvas.mean(axis=(0, 1)))
        canvas = np.clip(canvas + rng.normal(0.0, 0.03, size=canvas.shape).astype(np.float32), 0.0, 1.0)
        images.append(to_tensors(canvas, inside.astype(np.int64))[0])
        centres.append(centre)
    return torch.stack(images), torch.tensor(np.array(centres), dtype=torch.float32)


def ridge_regression(features: Tensor, targets: Tensor, ridge: float) -> tuple[Tensor, Tensor]:
    """Least squares with an L2 penalty, in closed form: ``min |X w + b - y|^2 + ridge |w|^2``.

    The bias is not penalised (features and targets are centred first). With more features than
    samples the equivalent "dual" form ``w = X^T (X X^T + ridge I)^-1 y`` is solved, an
    ``N x N`` system instead of ``D x D``.

    Args:
        features: ``X``, one row per sample.
        targets: ``y``, one row per sample.
        ridge: The penalty (> 0; use a tiny value for plain least squares).

    Returns:
        ``weight`` (D, T) and ``bias`` (T,), so that predictions are ``features @ weight + bias``.

    Shape:
        features ``(N, D)``, targets ``(N, T)`` -> weight ``(D, T)``, bias ``(T,)``
    """
    if features.dim() != 2 or targets.dim() != 2 or features.shape[0] != targets.shape[0]:
        raise ValueError(
            f"need features (N, D) and targets (N, T) with the same N; got {tuple(features.shape)} "
            f"and {tuple(targets.shape)}"
        )
    if ridge <= 0:
        raise ValueError(f"ridge must be > 0; got {ridge}")
    x = features.double()
    y = targets.double()
    x_mean, y_mean = x.mean(dim=0), y.mean(dim=0)
    x, y = x - x_mean, y - y_mean  # centred: the bias is then the mean
    samples, dimensions = x.shape
    if dimensions <= samples:
        gram = x.T @ x + ridge * torch.eye(dimensions, dtype=x.dtype)  # (D, D)
        weight = torch.linalg.solve(gram, x.T @ y)  # (D, T)
    else:
        gram = x @ x.T + ridge * torch.eye(samples, dtype=x.dtype)  # (N, N)
        weight = x.T @ torch.linalg.solve(gram, y)  # (D, T)
    bias = y_mean - x_mean @ weight  # (T,)
    return weight.to(features.dtype), bias.to(features.dtype)


@dataclass(frozen=True)
class ProbeResult:
    """What :func:`linear_probe` found.

    Attributes:
        ridge: The penalty chosen on the validation data.
        validation_error: Mean distance between prediction and target there.
        test_error: Mean distance on the test data (never used for any choice).
        test_predictions: ``(N_test, T)`` predictions.
    """

    ridge: float
    validation_error: float
    test_error: float
    test_predictions: Tensor


def _mean_distance(predictions: Tensor, targets: Tensor) -> float:
    return float((predictions - targets).norm(dim=1).mean())


def linear_probe(
    train: tuple[Tensor, Tensor],
    validation: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    *,
    relative_ridges: Sequence[float] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0),
) -> ProbeResult:
    """How well a linear function of the features predicts the targets, on data it never saw.

    Features are flattened and standardised (each column to mean 0, standard deviation 1 on the
    training data), so the same penalties suit layers of any size. For each ridge
    ``relative_ridge * N_train`` a :func:`ridge_regression` is fitted on ``train`` and scored on
    ``validation``; the best one is scored once on ``test``. A very large ridge predicts the mean
    target, so the error never gets much worse than guessing the average. Errors are mean
    Euclidean distances between predicted and true target rows (pixels, for positions).

    All penalties share one ``N x N`` matrix of feature dot products (the dual form of
    :func:`ridge_regression`), so trying several costs little more than trying one.

    Args:
        train: ``(features, targets)`` to fit on; features of any shape ``(N, ...)``.
        validation: ``(features, targets)`` to choose the ridge on.
        test: ``(features, targets)`` to report.
        relative_ridges: Penalties to try, as multiples of the number of training samples.

    Returns:
        A :class:`ProbeResult`.
    """
    if not relative_ridges:
        raise ValueError("relative_ridges is empty; give at least one penalty to try")
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = train, validation, test
    x_train, x_val, x_test = (x.flatten(1).float() for x in (x_train, x_val, x_test))  # (N, D) each
    mean, std = x_train.mean(dim=0), x_train.std(dim=0).clamp_min(1e-6)
    x_train, x_val, x_test = ((x - mean) / std for x in (x_train, x_val, x_test))  # centred on train
    y_train, y_val, y_test = (y.double() for y in (y_train, y_val, y_test))
    y_mean = y_train.mean(dim=0)
    gram = (x_train @ x_train.T).double()  # (N, N) dot products between training samples
    gram_val = (x_val @ x_train.T).double()  # (N_val, N)
    gram_test = (x_test @ x_train.T).double()  # (N_test, N)
    identity = torch.eye(gram.shape[0], dtype=gram.dtype)
    best: tuple[float, float, Tensor] | None = None
    for relative in relative_ridges:
        ridge = relative * x_train.shape[0]
        dual = torch.linalg.solve(gram + ridge * identity, y_train - y_mean)  # (N, T); weight = X^T dual
        error = _mean_distance(gram_val @ dual + y_mean, y_val)
        if best is None or error < best[1]:
            best = (ridge, error, dual)
    ridge, validation_error, dual = best
    predictions = gram_test @ dual + y_mean  # (N_test, T)
    return ProbeResult(ridge, validation_error, _mean_distance(predictions, y_test), predictions.float())


def grid_means(features: Tensor) -> Tensor:
    """Each channel's mean over the grid: the same numbers with their arrangement thrown away.

    Feature maps lose their grid; vectors are returned as they are.

    Shape:
        ``(N, C, h, w)`` -> ``(N, C)``; ``(N, D)`` -> ``(N, D)``
    """
    return features.mean(dim=(2, 3)) if features.dim() == 4 else features


def chance_error(train_targets: Tensor, test_targets: Tensor) -> float:
    """Mean distance of the test targets from the mean training target: the error of always guessing it.

    Shape:
        ``(N_train, T)``, ``(N_test, T)`` -> float
    """
    return _mean_distance(train_targets.double().mean(dim=0), test_targets.double())


def position_probe_errors(
    activations: dict[str, dict[str, Tensor]],
    targets: dict[str, Tensor],
    *,
    layers: Sequence[str] | None = None,
    average_grid: bool = False,
) -> dict[str, float]:
    """Test error of one :func:`linear_probe` per layer.

    Args:
        activations: For each split ``"train"``, ``"validation"``, ``"test"``, a dict of layer
            name -> activations ``(N, ...)`` (e.g. from :func:`classifier_activations`).
        targets: For each split, the targets ``(N, T)`` (e.g. the shapes' centres).
        layers: Layers to probe (default: all of the training split's, in order).
        average_grid: Probe each channel's mean over the grid (:func:`grid_means`) instead of
            the whole map. Vectors (fc1, scores, ...) are probed as they are either way.

    Returns:
        Layer name -> mean test distance between predicted and true target.
    """
    splits = ("train", "validation", "test")
    missing = [split for split in splits if split not in activations or split not in targets]
    if missing:
        raise ValueError(f"activations and targets need the splits {splits}; missing {missing}")
    layers = list(activations["train"]) if layers is None else list(layers)
    transform = grid_means if average_grid else (lambda features: features)
    errors = {}
    for layer in layers:
        data = [(transform(activations[split][layer]), targets[split]) for split in splits]
        errors[layer] = linear_probe(*data).test_error
    return errors
