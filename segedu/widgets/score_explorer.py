"""Edit the class scores inside a square and watch softmax, argmax and cross-entropy respond.

The learner picks a square of pixels (centre row, centre column, side) and adds a boost to each
class's score inside it; a temperature divides every score. The panel shows the scene, the true
mask, the predicted mask (argmax), the per-pixel cross-entropy and one softmax bar per class for
the centre pixel. The given scores are never modified: every view is recomputed from
``scores + boosts inside the square``, so moving the square takes the boosts with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from segedu.plots.pictures import to_picture, to_uint8
from segedu.widgets._toolkit import WidgetPanel, array_to_png

__all__ = ["LOSS_CEILING", "score_explorer"]

LOSS_CEILING = 5.0
"""Per-pixel losses at or above this many nats get the brightest colour in the loss map."""

_BOX_COLOR = np.array([255, 255, 0], dtype=np.uint8)  # yellow: stands out on the class colours
_BOOST_RANGE = 10.0


def score_explorer(
    image: Tensor,
    mask: Tensor,
    scores: Tensor,
    *,
    class_names: Sequence[str],
    row: int | None = None,
    column: int | None = None,
    size: int = 5,
    scale: int = 3,
) -> WidgetPanel:
    """Build the panel for one scene and its per-class scores.

    Args:
        image: The scene, float in [0, 1].
        mask: True labels, class indices or ``IGNORE_INDEX`` (255).
        scores: Raw class scores (logits) for every pixel.
        class_names: One name per class.
        row: Centre row of the square first shown (default: the middle of the image).
        column: Centre column of the square first shown (default: the middle).
        size: Side of the square in pixels (odd numbers keep it centred).
        scale: Display enlargement of each pixel.

    Returns:
        A panel with controls ``"row"``, ``"column"``, ``"size"``, ``"temperature"`` and
        ``"boost:<class name>"`` for each class, plus the read-only softmax bars
        ``"bar:<class name>"``; images ``"scene"``, ``"truth"``, ``"prediction"``, ``"loss"``;
        and ``state`` with ``predicted_class``, ``true_class``, ``probabilities`` (centre
        pixel), ``pixel_loss`` (centre pixel, ``None`` if it is ignored), ``loss`` (mean over
        labelled pixels), ``labelled_accuracy`` (share of the labelled pixels predicted right;
        ignored pixels are not counted), ``prediction`` ((H, W) tensor), ``temperature``,
        ``boosts``.

    Shape:
        - image: ``(C, H, W)`` with C = 1 or 3.
        - mask: ``(H, W)``.
        - scores: ``(K, H, W)``.
    """
    import ipywidgets as widgets

    from segedu.core.encoding import IGNORE_INDEX, check_labels
    from segedu.training.losses import pixel_cross_entropy
    from segedu.plots.masks import PALETTE, colorize

    if not isinstance(scores, Tensor) or scores.ndim != 3 or not scores.is_floating_point():
        shape = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"scores must be a float tensor of shape (K, H, W); got {shape}")
    num_classes, height, width = scores.shape
    if not isinstance(mask, Tensor) or tuple(mask.shape) != (height, width):
        shape = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
        raise ValueError(f"mask must have shape (H, W) = {(height, width)} to match scores; got {shape}")
    if tuple(image.shape[1:]) != (height, width):
        raise ValueError(f"image must have shape (C, {height}, {width}); got {tuple(image.shape)}")
    check_labels(mask, num_classes, IGNORE_INDEX, name="mask")
    if len(class_names) != num_classes:
        raise ValueError(f"class_names must name all {num_classes} classes; got {len(class_names)} names")
    if not 1 <= size <= max(height, width):
        raise ValueError(f"size must be in [1, {max(height, width)}]; got {size}")
    for label, value, limit in (("row", row, height), ("column", column, width)):
        if value is not None and not 0 <= value < limit:
            raise ValueError(f"{label} must be in [0, {limit}); got {value}")

    base = scores.detach().float().cpu()  # (K, H, W), never modified
    truth = mask.detach().cpu().long()  # (H, W)
    labelled = truth != IGNORE_INDEX  # (H, W)
    safe_truth = torch.where(labelled, truth, 0)  # (H, W), ignored -> any valid class
    scene_rgb = to_uint8(to_picture(image.detach().cpu().float(), clip=True))  # (H, W, 3)
    truth_rgb = colorize(truth)  # (H, W, 3)

    controls: dict[str, Any] = {
        "row": widgets.IntSlider(value=height // 2 if row is None else row, min=0, max=height - 1),
        "column": widgets.IntSlider(value=width // 2 if column is None else column, min=0, max=width - 1),
        "size": widgets.IntSlider(value=size, min=1, max=max(height, width), description="square side"),
        "temperature": widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05),
    }
    for index, name in enumerate(class_names):
        controls[f"boost:{name}"] = widgets.FloatSlider(
            value=0.0, min=-_BOOST_RANGE, max=_BOOST_RANGE, step=0.5, description=f"+ {name}"
        )
    for name, control in controls.items():
        control.description = control.description or name
        control.layout = widgets.Layout(width="320px")
        control.style.description_width = "90px"
    sliders = widgets.VBox(list(controls.values()))
    bars = [widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description=name) for name in class_names]
    for index, bar in enumerate(bars):
        bar.style.bar_color = _hex(PALETTE[index])
        controls[f"bar:{class_names[index]}"] = bar  # read-only display, driven by update()
    bar_values = [widgets.Label() for _ in class_names]
    views = {name: widgets.Image(format="png") for name in ("scene", "truth", "prediction", "loss")}
    titles = ["scene", "true mask", "prediction (argmax)", "loss per pixel"]
    caption = widgets.HTML()

    pictures = widgets.HBox(
        [widgets.VBox([widgets.Label(title), views[name]]) for title, name in zip(titles, views)]
    )
    bar_box = widgets.VBox(
        [widgets.Label("softmax at the centre pixel")]
        + [widgets.HBox([bar, value]) for bar, value in zip(bars, bar_values)]
    )
    panel = WidgetPanel(
        widgets.VBox([pictures, widgets.HBox([sliders, bar_box]), caption]), controls, views
    )

    def update(change: Any = None) -> None:
        centre_row, centre_column = controls["row"].value, controls["column"].value
        half = controls["size"].value // 2
        top, left = max(centre_row - half, 0), max(centre_column - half, 0)
        bottom = min(centre_row - half + controls["size"].value, height)
        right = min(centre_column - half + controls["size"].value, width)
        boosts = torch.tensor([controls[f"boost:{name}"].value for name in class_names])  # (K,)
        temperature = float(controls["temperature"].value)

        edited = base.clone()  # (K, H, W)
        edited[:, top:bottom, left:right] += boosts[:, None, None]
        tempered = edited / temperature  # (K, H, W)
        log_probabilities = tempered.log_softmax(dim=0)  # (K, H, W)
        pixel_losses = -log_probabilities.gather(0, safe_truth[None]).squeeze(0)  # (H, W)
        pixel_losses = torch.where(labelled, pixel_losses, 0.0)  # ignored pixels cost nothing
        prediction = tempered.argmax(dim=0)  # (H, W)
        loss = float(pixel_cross_entropy(tempered[None], truth[None]))
        correct = (prediction == truth) & labelled
        labelled_accuracy = float(correct.sum()) / max(int(labelled.sum()), 1)  # ignored pixels not counted

        probabilities = log_probabilities[:, centre_row, centre_column].exp()  # (K,)
        true_class = int(truth[centre_row, centre_column])
        predicted_class = int(prediction[centre_row, centre_column])
        is_labelled = bool(labelled[centre_row, centre_column])
        pixel_loss = float(pixel_losses[centre_row, centre_column]) if is_labelled else None

        box = (top, left, bottom, right)
        views["scene"].value = _boxed_png(scene_rgb, box, scale)
        views["truth"].value = _boxed_png(truth_rgb, box, scale)
        views["prediction"].value = _boxed_png(colorize(prediction), box, scale)
        views["loss"].value = _boxed_png(_loss_colors(pixel_losses, labelled), box, scale)
        for bar, value, probability in zip(bars, bar_values, probabilities.tolist()):
            bar.value = probability
            value.value = f"{probability:.3f}"
        if is_labelled:
            pixel_text = (
                f"true class <b>{class_names[true_class]}</b>, "
                f"predicted <b>{class_names[predicted_class]}</b>, "
                f"loss = &minus;log {probabilities[true_class]:.3f} = {pixel_loss:.3f}"
            )
        else:
            pixel_text = (
                f"ignored (label {IGNORE_INDEX}), predicted <b>{class_names[predicted_class]}</b>, no loss"
            )
        caption.value = (
            f"Centre pixel ({centre_row}, {centre_column}): {pixel_text}<br>"
            f"Whole image: mean loss {loss:.3f}, accuracy on labelled pixels {100 * labelled_accuracy:.1f}%"
        )
        panel.state.update(
            row=centre_row,
            column=centre_column,
            temperature=temperature,
            boosts=boosts.tolist(),
            predicted_class=predicted_class,
            true_class=true_class,
            probabilities=probabilities.tolist(),
            pixel_loss=pixel_loss,
            loss=loss,
            labelled_accuracy=labelled_accuracy,
            prediction=prediction,
        )

    for name, control in controls.items():
        if not name.startswith("bar:"):
            control.observe(update, names="value")
    update()
    return panel


def _hex(color: np.ndarray) -> str:
    red, green, blue = (int(channel) for channel in color)
    return f"#{red:02x}{green:02x}{blue:02x}"


def _loss_colors(pixel_losses: Tensor, labelled: Tensor) -> np.ndarray:
    """Per-pixel loss (H, W) -> (H, W, 3) uint8 with the magma colour map; ignored pixels white."""
    from matplotlib import colormaps

    from segedu.plots.masks import IGNORE_COLOR

    levels = (pixel_losses / LOSS_CEILING).clamp(0.0, 1.0).numpy()  # (H, W)
    colors = (colormaps["magma"](levels)[..., :3] * 255).round().astype(np.uint8)  # (H, W, 3)
    colors[~labelled.numpy()] = IGNORE_COLOR
    return colors


def _boxed_png(rgb: np.ndarray, box: tuple[int, int, int, int], scale: int) -> bytes:
    """Enlarge an (H, W, 3) uint8 picture by ``scale`` and outline ``box`` with thin lines."""
    top, left, bottom, right = (scale * value for value in box)
    big = rgb.repeat(scale, axis=0).repeat(scale, axis=1)  # (scale*H, scale*W, 3), a copy
    big[top:bottom, [left, right - 1]] = _BOX_COLOR
    big[[top, bottom - 1], left:right] = _BOX_COLOR
    return array_to_png(big, scale=1)
