"""The run tables read a record's scores seed by seed and lay them out as the lessons print them."""

from __future__ import annotations

import doctest

import pytest

from segedu.course import run_tables
from segedu.course.experiments import load_experiment
from segedu.analysis.seed_record import mean_iou_by_seed
from segedu.course.run_tables import per_seed_table, recipe_table, widest_seed_range


def _run(all_pixels: float, band: float) -> dict:
    return {"test": {"all": {"mean_iou": all_pixels}, "band": {"mean_iou": band}}}


RUNS = {"A": {"0": _run(0.5, 0.3), "1": _run(0.6, 0.35), "2": _run(0.55, 0.4)},
        "B": {"0": _run(0.8, 0.7), "1": _run(0.75, 0.72), "2": _run(0.9, 0.71), "3": _run(0.1, 0.1)}}


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(run_tables).failed == 0


def test_the_widest_range_against_a_brute_force_loop() -> None:
    scores = mean_iou_by_seed(RUNS, ["0", "1", "2"])
    spreads = {}
    for key, values in scores.items():  # brute force: every row's highest minus lowest
        low = high = values[0]
        for value in values:
            low, high = min(low, value), max(high, value)
        spreads[key] = high - low
    key, spread = widest_seed_range(scores)
    assert spread == pytest.approx(max(spreads.values())) and spreads[key] == pytest.approx(spread)
    assert key == ("B", "all")
    assert widest_seed_range(scores, ["A"]) == (("A", "band"), pytest.approx(0.1))
    with pytest.raises(ValueError, match="no row"):
        widest_seed_range(scores, ["C"])


def test_the_table_prints_every_value_and_the_difference_seed_by_seed() -> None:
    scores = mean_iou_by_seed(RUNS, ["0", "1", "2"])
    lines = per_seed_table(scores, ["0", "1", "2"], title="t", difference=("B", "A")).splitlines()
    assert lines[0].split() == ["t", "seed", "0", "seed", "1", "seed", "2"]
    assert lines[1].split() == ["all", "pixels", "A", "0.5000", "0.6000", "0.5500"]
    assert lines[3].split() == ["B", "-", "A", "+0.300", "+0.150", "+0.350"]
    assert lines[4].split()[:3] == ["2-px", "band", "A"] and len(lines) == 7
    assert all(line == line.rstrip() for line in lines)
    assert "B - A" not in per_seed_table(scores, ["0", "1", "2"], title="t")


def test_several_differences_each_get_a_row_under_every_region() -> None:
    runs = {**RUNS, "C": {seed: {"test": {"all": {"mean_iou": 0.1}, "band": {"mean_iou": 0.2}}} for seed in "012"}}
    scores = mean_iou_by_seed(runs, ["0", "1", "2"])
    lines = per_seed_table(scores, ["0", "1", "2"], title="t", difference=("B", "A"),
                           differences=[("A", "C")]).splitlines()
    by_hand = [a - c for a, c in zip(scores["A", "all"], scores["C", "all"])]
    assert lines[4].split() == ["B", "-", "A", *(f"{b - a:+.3f}" for a, b in zip(scores["A", "all"], scores["B", "all"]))]
    assert lines[5].split() == ["A", "-", "C", *(f"{value:+.3f}" for value in by_hand)]
    assert len(lines) == 1 + 2 * (3 + 2)  # a header, then per region three models and two differences
    with pytest.raises(ValueError, match=r"the differences name \['D'\]"):
        per_seed_table(scores, ["0", "1", "2"], title="t", differences=[("A", "D")])


def test_the_recipe_table_shows_every_setting() -> None:
    lines = recipe_table({"run one": {"steps": 4000, "lr": 0.003}, "b": {"steps": 8000}}, ["steps", "lr"]).splitlines()
    assert [line.split() for line in lines] == [["recipe", "steps", "lr"], ["run", "one", "4000", "0.003"],
                                                ["b", "8000", "-"]]


def test_a_stored_record_reads_as_the_lesson_quotes_it() -> None:
    """Lesson 07 quotes FCN-8s minus FCN-32s on the shapes, seed by seed, from the record recipe_seeds."""
    record = load_experiment("recipe_seeds")["results"]["runs"]["shapes"]
    scores = mean_iou_by_seed({"FCN-32s": record["fcn32s"], "FCN-8s": record["fcn8s"]}, ["0", "1", "2"])
    gaps = [eight - thirty_two for eight, thirty_two in zip(scores["FCN-8s", "all"], scores["FCN-32s", "all"])]
    assert all(gap > 0 for gap in gaps)
    table = per_seed_table(scores, ["0", "1", "2"], title="shapes", difference=("FCN-8s", "FCN-32s"))
    assert all(f"{gap:+.3f}" in table for gap in gaps)
