"""How long each lesson widget takes to update after a control changes.

A widget's observers run synchronously when a control's value is set from Python, so the time
of ``control.value = new`` is the time the kernel spends on the update (computing and encoding
the new pictures). The browser adds the transfer and drawing on top; the feature-map explorer's
browser test covers that path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.timing import Timing, summarize

__all__ = ["WIDGET_CASES", "WidgetLatency", "control_latencies", "benchmark_widgets", "values_to_try"]


@dataclass(frozen=True)
class WidgetLatency:
    """Update times of one widget, over every control it has.

    Attributes:
        name: The widget's function name.
        lesson: The lesson it appears in, e.g. ``"06"``.
        overall: Every control change, summarised.
        per_control: Control name -> its changes, summarised.
    """

    name: str
    lesson: str
    overall: Timing
    per_control: dict[str, Timing]


def values_to_try(control: Any, count: int) -> list[tuple[str, Any]]:
    """Up to ``count`` new settings of ``control``, each different from the one before.

    Returns ``(attribute, value)`` pairs: ``("index", i)`` for drop-downs and toggle buttons,
    ``("value", v)`` for sliders and check boxes. Controls of other kinds give ``[]``.
    """
    if hasattr(control, "options") and hasattr(control, "index"):
        options = len(control.options)
        if options < 2:
            return []
        start = control.index or 0
        return [("index", (start + step) % options) for step in range(1, count + 1)]
    if not hasattr(control, "value"):  # buttons and other controls without a value
        return []
    if isinstance(control.value, bool):
        return [("value", bool((step + (not control.value)) % 2)) for step in range(count)]
    if all(hasattr(control, name) for name in ("min", "max", "step")) and control.max > control.min:
        grid = np.arange(control.min, control.max + control.step / 2, control.step)
        picks = np.linspace(0, len(grid) - 1, num=min(count + 1, len(grid))).round().astype(int)
        values = [grid[i].item() for i in picks]
        cycle = [value for value in values if value != control.value] + [control.value]  # ends where it began
        return [("value", cycle[step % len(cycle)]) for step in range(count)]
    return []


def control_latencies(panel: Any, *, changes: int = 5) -> dict[str, list[float]]:
    """Seconds per change of every control of a :class:`~segedu.widgets.WidgetPanel`.

    Args:
        panel: The widget panel (its ``controls`` dict is driven from code).
        changes: Changes per control (at least 3, for a meaningful median).
    """
    if changes < 3:
        raise ValueError(f"changes must be at least 3 so that the median is meaningful; got {changes}")
    latencies: dict[str, list[float]] = {}
    for name, control in panel.controls.items():
        seconds = []
        for attribute, value in values_to_try(control, changes):
            start = time.perf_counter()
            setattr(control, attribute, value)
            seconds.append(time.perf_counter() - start)
        if seconds:
            latencies[name] = seconds
    return latencies


def _shapes(split: str = "test", length: int = 16) -> Any:
    from segedu.training.recipes import offline_dataset

    return offline_dataset("shapes", split, length)


def _score_explorer() -> Any:
    import torch

    from segedu.widgets.score_explorer import score_explorer

    scenes = _shapes()
    image, mask = scenes[0]
    one_hot = torch.nn.functional.one_hot(mask, scenes.num_classes).permute(2, 0, 1).float()  # (K, H, W)
    scores = 3.0 * one_hot + torch.randn(one_hot.shape, generator=torch.Generator().manual_seed(0))
    return score_explorer(image, mask, scores, class_names=scenes.class_names, size=5)


def _shift_explorer() -> Any:
    from segedu.training.shipped import pretrained
    from segedu.analysis.probes import classifier_from_fcn
    from segedu.widgets.shift_explorer import shift_explorer

    model = classifier_from_fcn(pretrained("fcn8s", "shapes"), num_classes=3)
    return shift_explorer(model, _shapes().class_names[1:], class_index=1, center=(32, 12), seed=3)


def _task_views() -> Any:
    from segedu.training.recipes import offline_dataset
    from segedu.widgets.task_views import task_views

    return task_views({"shapes": _shapes(), "digits": offline_dataset("digits", "test", 16)})


def _scene_browser() -> Any:
    from segedu.widgets.scene_browser import scene_browser

    return scene_browser(_shapes())


def _cost_explorer() -> Any:
    from segedu.widgets.cost_explorer import cost_explorer

    return cost_explorer(image_size=256, width=32, depth=18, stages=4)


def _transposed_conv_stepper() -> Any:
    import torch

    from segedu.analysis.upsampling import bilinear_kernel
    from segedu.widgets.transposed_conv_stepper import transposed_conv_stepper

    small_input = torch.rand(3, 3, generator=torch.Generator().manual_seed(0))  # as in lesson 06
    return transposed_conv_stepper(small_input, bilinear_kernel(3), stride=2)


def _checkerboard_explorer() -> Any:
    from segedu.widgets.checkerboard_explorer import checkerboard_explorer

    return checkerboard_explorer(kernel_size=3, stride=2)


def _fcn_explorer() -> Any:
    from segedu.training.shipped import pretrained
    from segedu.widgets.fcn_explorer import fcn_explorer

    models = {f"FCN-{variant}": pretrained(f"fcn{variant}", "shapes") for variant in ("32s", "8s")}
    return fcn_explorer(models, _shapes(), index=4)


def _unpooling_explorer() -> Any:
    from segedu.training.shipped import pretrained
    from segedu.widgets.unpooling_explorer import unpooling_explorer

    return unpooling_explorer(pretrained("segnet", "shapes"), _shapes(), index=3, stage="stage2")


def _skip_explorer() -> Any:
    from segedu.training.shipped import pretrained
    from segedu.widgets.skip_explorer import skip_explorer

    return skip_explorer(pretrained("unet", "shapes"), _shapes(), index=3, block="up4")


def _shipped_shapes_models() -> dict[str, Any]:
    from segedu.training.shipped import pretrained

    return {name: pretrained(name, "shapes") for name in ("fcn32s", "fcn8s", "segnet", "unet")}


def _model_comparison() -> Any:
    from segedu.widgets.model_comparison import model_comparison

    return model_comparison(_shipped_shapes_models(), _shapes(), sample=0, view="errors", scale=2)


def _feature_map_explorer() -> Any:
    from segedu.training.shipped import pretrained
    from segedu.widgets.feature_maps import feature_map_explorer

    return feature_map_explorer(pretrained("unet", "shapes"), _shapes(), layer="up4", row=32, column=28)


def _augmentation_explorer() -> Any:
    from segedu.training.recipes import offline_dataset
    from segedu.widgets.augmentation_explorer import augmentation_explorer

    return augmentation_explorer(offline_dataset("digits", "val", 16), index=3, zoom=0.2, alpha=40.0, sigma=4.0,
                                 scale=3)


def _aliasing_explorer() -> Any:
    from segedu.widgets.aliasing_explorer import aliasing_explorer

    return aliasing_explorer(period=3.0, method="max pool 4x4")


def _weight_map_explorer() -> Any:
    from segedu.widgets.weight_map_explorer import weight_map_explorer

    return weight_map_explorer(_shapes("val", 40), index=18, w0=10.0, sigma=5.0)


def _reweight_explorer() -> Any:
    import torch

    from segedu.datasets import DigitScenes
    from segedu.training.class_balance import median_frequency_weights
    from segedu.training.quick import render_pool
    from segedu.training.shipped import pretrained
    from segedu.widgets.reweight_explorer import reweight_explorer

    _, train_masks = render_pool(DigitScenes("train", length=2000), 2000)
    test_images, test_masks = render_pool(DigitScenes("test", length=200), 200)
    with torch.no_grad():
        probabilities = pretrained("unet", "digits")(test_images).softmax(dim=1)  # (200, 11, 64, 64)
    return reweight_explorer(probabilities, test_masks, median_frequency_weights(train_masks, 11), index=1)


def _atrous_explorer() -> Any:
    from segedu.widgets.atrous_explorer import atrous_explorer

    return atrous_explorer((2, 2, 2), max_layers=4, max_rate=8)


# (widget, lesson, builder): each built as its lesson builds it, on the shipped checkpoints.
WIDGET_CASES: tuple[tuple[str, str, Callable[[], Any]], ...] = (
    ("scene_browser", "00", _scene_browser),
    ("task_views", "01", _task_views),
    ("score_explorer", "02", _score_explorer),
    ("shift_explorer", "03", _shift_explorer),
    ("cost_explorer", "04", _cost_explorer),
    ("aliasing_explorer", "05", _aliasing_explorer),
    ("transposed_conv_stepper", "06", _transposed_conv_stepper),
    ("checkerboard_explorer", "06", _checkerboard_explorer),
    ("fcn_explorer", "07, 08", _fcn_explorer),
    ("unpooling_explorer", "09", _unpooling_explorer),
    ("skip_explorer", "10", _skip_explorer),
    ("model_comparison", "11", _model_comparison),
    ("feature_map_explorer", "12", _feature_map_explorer),
    ("augmentation_explorer", "14", _augmentation_explorer),
    ("reweight_explorer", "15", _reweight_explorer),
    ("weight_map_explorer", "17", _weight_map_explorer),
    ("atrous_explorer", "16", _atrous_explorer),
)


def benchmark_widgets(*, changes: int = 5, progress: bool = True) -> list[WidgetLatency]:
    """Build every lesson widget and time ``changes`` updates of each of its controls."""
    from tqdm.auto import tqdm

    results = []
    for name, lesson, build in tqdm(WIDGET_CASES, desc="widgets", unit="widget", disable=not progress):
        latencies = control_latencies(build(), changes=changes)
        results.append(
            WidgetLatency(
                name=name,
                lesson=lesson,
                overall=summarize([seconds for values in latencies.values() for seconds in values]),
                per_control={control: summarize(values) for control, values in latencies.items()},
            )
        )
    return results
