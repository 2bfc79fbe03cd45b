"""summarize_sweep against brute-force loops over a small hand-made record, and on the stored stride study."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segedu.course.experiments import load_experiment
from segedu.course.setting_sweep import loss_fall, summarize_sweep


def _iou_by_loop(matrix: list[list[int]]) -> float:
    """Mean IoU of a confusion matrix, one class at a time; classes never seen nor predicted left out."""
    values = []
    for k in range(len(matrix)):
        hits = matrix[k][k]
        union = sum(matrix[k]) + sum(row[k] for row in matrix) - hits
        if union > 0:
            values.append(hits / union)
    return sum(values) / len(values)


def _record() -> dict:
    generator = np.random.default_rng(0)
    runs = {}
    for setting in ("a", "b"):
        runs[setting] = {}
        for seed in ("0", "1", "2"):
            matrix = generator.integers(0, 50, size=(3, 3)).tolist()
            band = generator.integers(0, 50, size=(3, 3)).tolist()
            band[2] = [0, 0, 0]  # class 2 never in the band's truth ...
            for row in band:
                row[2] = 0  # ... nor predicted there: left out of the band's mean
            curve = [[step, 2.0 - step / 1000 + 0.01 * (step % 50 == 0)] for step in range(25, 1501, 25)]
            runs[setting][seed] = {"confusion": matrix, "band_confusion": band, "loss_curve": curve}
    return {"seeds": [0, 1, 2], "results": {"runs": runs}}


def test_mean_iou_drops_and_spread_match_loops() -> None:
    record = _record()
    sweep = summarize_sweep(record, ["a", "b"])
    runs = record["results"]["runs"]
    for setting in ("a", "b"):
        for where, key in (("all", "confusion"), ("band", "band_confusion")):
            expected = [_iou_by_loop(runs[setting][seed][key]) for seed in ("0", "1", "2")]
            np.testing.assert_allclose(sweep.mean_iou[setting, where], expected)
    drops = sweep.drops()
    assert set(drops) == {("a", "b", "all"), ("a", "b", "band")}
    np.testing.assert_allclose(drops["a", "b", "all"], sweep.mean_iou["a", "all"] - sweep.mean_iou["b", "all"])
    spreads = [max(v) - min(v) for v in sweep.mean_iou.values()]
    assert sweep.largest_spread() == pytest.approx(max(spreads))


def test_loss_fall_averages_the_two_spans() -> None:
    curve = [[step, 3.0 - step / 500] for step in range(25, 1501, 25)]  # falls 0.002 per step
    early = np.mean([3.0 - step / 500 for step in (925, 950, 975, 1000)])
    late = np.mean([3.0 - step / 500 for step in (1425, 1450, 1475, 1500)])
    assert loss_fall(curve) == pytest.approx(early - late) == pytest.approx(1.0)
    assert loss_fall([[step, 1.0] for step in range(25, 1501, 25)]) == 0  # flat: no fall
    with pytest.raises(ValueError, match="no point"):
        loss_fall([[1500, 1.0]])


def test_table_has_a_row_per_setting_and_the_extra_columns() -> None:
    sweep = summarize_sweep(_record(), ["a", "b"])
    text = sweep.table("set", extra={"note": {"a": "first", "b": "second"}})
    lines = text.splitlines()
    assert len(lines) == 3 and "note" in lines[0] and "loss fall, last 500 steps" in lines[0]
    assert "first" in lines[1] and f"{sweep.mean_iou['a', 'all'][0]:.3f}" in lines[1]


def test_missing_run_is_named() -> None:
    with pytest.raises(ValueError, match="c/0"):
        summarize_sweep(_record(), ["a", "c"])


def test_stored_stride_study_reads() -> None:
    record = load_experiment("output_stride_study")
    sweep = summarize_sweep(record, ["8", "16", "32"])
    assert sweep.seeds == ("0", "1", "2")
    assert all(math.isfinite(v) for values in sweep.mean_iou.values() for v in values)
    assert all(fall > 0 for fall in sweep.loss_fall.values())
