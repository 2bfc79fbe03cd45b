"""Tilt a trained model's answer by class weights, p_c proportional to w_c^s p(c|x), and watch the scores move."""

from __future__ import annotations

from typing import Any

import torch

from segedu.widgets._toolkit import WidgetPanel, array_to_png

__all__ = ["reweight_explorer", "reweighted_predictions", "reweighted_scores"]


def reweighted_predictions(probabilities: torch.Tensor, class_weights: torch.Tensor, strength: float) -> torch.Tensor:
    """The labels a model gives when its probabilities are multiplied by ``class_weights ** strength``.

    A class-weighted cross-entropy's best answer is ``p_c`` proportional to ``w_c p(c|x)``, so
    ``strength = 1`` shows, for a model trained with plain cross-entropy, where the weights would
    tilt each decision, and ``strength = 0`` is the model's own answer.

    Args:
        probabilities: Softmax output of a model.
        class_weights: One positive weight per class.
        strength: The exponent ``s`` in ``[0, 1]``.

    Returns:
        The argmax of ``w_c^s p(c|x)`` at every pixel.

    Shape:
        probabilities (B, K, H, W), class_weights (K,) -> (B, H, W) int64.
    """
    if probabilities.dim() != 4 or class_weights.shape != probabilities.shape[1:2]:
        raise ValueError(f"probabilities must be (B, K, H, W) and class_weights (K,), got "
                         f"{tuple(probabilities.shape)} and {tuple(class_weights.shape)}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    if not bool((class_weights > 0).all()):
        raise ValueError("class_weights must be positive")
    tilt = class_weights.to(probabilities.dtype).pow(strength).view(1, -1, 1, 1)  # (1, K, 1, 1)
    return (probabilities * tilt).argmax(dim=1)


def reweighted_scores(probabilities: torch.Tensor, masks: torch.Tensor, class_weights: torch.Tensor,
                      strength: float) -> dict[str, float]:
    """Mean accuracy, mean IoU and foreground precision of :func:`reweighted_predictions`.

    Args:
        probabilities: Softmax output of a model.
        masks: True labels (class 0 is background).
        class_weights: One positive weight per class.
        strength: The exponent ``s`` in ``[0, 1]``.

    Returns:
        ``mean_accuracy`` and ``mean_iou`` (over the classes present, as lesson 15 defines them), and
        ``foreground_precision``: the share of the pixels predicted as some non-background class that
        truly are non-background.

    Shape:
        probabilities (B, K, H, W), masks (B, H, W), class_weights (K,).
    """
    from segedu.training.metrics import confusion_matrix, mean_accuracy, mean_iou

    predictions = reweighted_predictions(probabilities, class_weights, strength)
    matrix = confusion_matrix(predictions, masks, probabilities.shape[1]).double()  # (K, K): rows true
    called_foreground = matrix[:, 1:].sum()
    precision = float(matrix[1:, 1:].sum() / called_foreground) if called_foreground > 0 else 0.0
    return {"mean_accuracy": float(mean_accuracy(matrix)), "mean_iou": float(mean_iou(matrix)),
            "foreground_precision": precision}


def reweight_explorer(
    probabilities: torch.Tensor,
    masks: torch.Tensor,
    class_weights: torch.Tensor,
    *,
    index: int = 0,
    strength: float = 0.0,
    scale: int = 3,
    foreground: str = "foreground",
) -> WidgetPanel:
    """Slide the weights' strength from 0 (the model's answer) to 1 (the weighted loss's tilt).

    Args:
        probabilities: Softmax output of a model on a set of scenes.
        masks: Their true labels.
        class_weights: One positive weight per class, e.g. median-frequency weights.
        index: Scene shown first.
        strength: The exponent ``s`` in ``[0, 1]`` of ``w_c^s``.
        scale: Display enlargement of each pixel.
        foreground: What the caption calls the non-background classes, e.g. ``"stroke"``.

    Returns:
        A panel with the controls ``"index"`` and ``"strength"``; the images ``"truth"``,
        ``"model"`` and ``"tilted"``; and ``state`` with the scores of :func:`reweighted_scores`
        over all scenes and ``changed_pixels``, the pixels of the shown scene whose label the tilt
        changed.

    Shape:
        probabilities (B, K, H, W), masks (B, H, W), class_weights (K,).
    """
    import ipywidgets as widgets

    from segedu.plots.masks import colorize

    if masks.shape != probabilities.shape[:1] + probabilities.shape[2:]:
        raise ValueError(f"masks must be (B, H, W) to match probabilities {tuple(probabilities.shape)}, "
                         f"got {tuple(masks.shape)}")
    if not 0 <= index < len(masks):
        raise ValueError(f"index must be in [0, {len(masks)}), got {index}")
    controls = {
        "index": widgets.IntSlider(value=index, min=0, max=len(masks) - 1, description="scene"),
        "strength": widgets.FloatSlider(value=strength, min=0.0, max=1.0, step=0.05, description="strength s"),
    }
    names = ("truth", "model", "tilted")
    views = {name: widgets.Image(format="png") for name in names}
    titles = ("true mask", "the model's answer (s = 0)", "tilted: argmax of w_c^s p(c|x)")
    columns = [widgets.VBox([widgets.Label(title), views[name]]) for name, title in zip(names, titles)]
    caption = widgets.Label()
    panel = WidgetPanel(widgets.VBox([widgets.HBox(list(controls.values())), widgets.HBox(columns), caption]),
                        controls, views)
    model_labels = probabilities.argmax(dim=1)  # (B, H, W)
    untilted = reweighted_scores(probabilities, masks, class_weights, 0.0)

    def show(change: Any = None) -> None:
        shown, power = controls["index"].value, controls["strength"].value
        tilted = reweighted_predictions(probabilities[shown:shown + 1], class_weights, power)[0]  # (H, W)
        scores = reweighted_scores(probabilities, masks, class_weights, power)
        views["truth"].value = array_to_png(colorize(masks[shown]), scale=scale)
        views["model"].value = array_to_png(colorize(model_labels[shown]), scale=scale)
        views["tilted"].value = array_to_png(colorize(tilted), scale=scale)
        changed = int((tilted != model_labels[shown]).sum())
        panel.state.update(index=shown, strength=power, changed_pixels=changed, **scores)
        caption.value = (f"all {len(masks)} scenes: mean accuracy {untilted['mean_accuracy']:.3f} -> "
                         f"{scores['mean_accuracy']:.3f}, mean IoU {untilted['mean_iou']:.3f} -> "
                         f"{scores['mean_iou']:.3f}, "
                         f"{foreground} precision {untilted['foreground_precision']:.3f} -> "
                         f"{scores['foreground_precision']:.3f}; this scene: {changed} pixels changed label")

    for control in controls.values():
        control.observe(show, names="value")
    show()
    return panel
