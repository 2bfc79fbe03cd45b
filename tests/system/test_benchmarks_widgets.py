"""Widget latency: which settings are tried, what is timed, and that every widget is covered."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import pytest

from benchmarks.widgets import WIDGET_CASES, benchmark_widgets, control_latencies, values_to_try
from segedu.datasets import ShapesScenes
from segedu.widgets import scene_browser

WIDGETS_DIR = Path(__file__).resolve().parents[2] / "segedu" / "widgets"
HELPER_MODULES = {"_toolkit", "activations", "feature_map_pictures", "__init__"}


def _apply(control: widgets.Widget, attribute: str, value: object) -> None:
    setattr(control, attribute, value)


def test_slider_values_are_on_its_grid_and_each_one_a_change() -> None:
    slider = widgets.IntSlider(value=4, min=0, max=10, step=2)
    tries = values_to_try(slider, 4)
    assert len(tries) == 4
    previous = slider.value
    for attribute, value in tries:
        assert attribute == "value"
        assert value in range(0, 11, 2)
        assert value != previous
        _apply(slider, attribute, value)
        previous = value


def test_a_short_slider_is_cycled_to_give_enough_changes() -> None:
    slider = widgets.IntSlider(value=1, min=0, max=1)
    assert values_to_try(slider, 4) == [("value", 0), ("value", 1), ("value", 0), ("value", 1)]


def test_float_slider_dropdown_checkbox_and_other_controls() -> None:
    floats = values_to_try(widgets.FloatSlider(value=1.0, min=0.5, max=2.0, step=0.5), 3)
    assert [value for _, value in floats] == [0.5, 1.5, 2.0]
    dropdown = widgets.Dropdown(options=["a", "b", "c"], value="b")
    assert values_to_try(dropdown, 4) == [("index", 2), ("index", 0), ("index", 1), ("index", 2)]
    assert values_to_try(widgets.Dropdown(options=["only"]), 3) == []
    checkbox = widgets.Checkbox(value=True)
    assert values_to_try(checkbox, 3) == [("value", False), ("value", True), ("value", False)]
    assert values_to_try(widgets.Button(description="go"), 3) == []


def test_every_change_is_timed_and_really_updates_the_widget() -> None:
    panel = scene_browser(ShapesScenes("val", length=6, size=32))
    shown = []
    panel.images["image"].observe(lambda change: shown.append(change["new"]), names="value")
    latencies = control_latencies(panel, changes=4)
    assert list(latencies) == ["index"]
    assert len(latencies["index"]) == 4
    assert all(seconds > 0 for seconds in latencies["index"])
    assert len(shown) == 4  # four new pictures
    with pytest.raises(ValueError, match="at least 3"):
        control_latencies(panel, changes=2)


def test_every_lesson_widget_is_benchmarked() -> None:
    modules = {path.stem for path in WIDGETS_DIR.glob("*.py")} - HELPER_MODULES
    benchmarked = {name if name != "feature_map_explorer" else "feature_maps" for name, _, _ in WIDGET_CASES}
    assert modules == benchmarked


def test_the_whole_widget_benchmark_runs() -> None:
    results = benchmark_widgets(changes=3, progress=False)
    assert [result.name for result in results] == [name for name, _, _ in WIDGET_CASES]
    for result in results:
        assert result.per_control, f"{result.name} has no control to change"
        assert len(result.overall.samples) == 3 * len(result.per_control)
        assert result.overall.median <= result.overall.p95
