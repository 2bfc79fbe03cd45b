import numpy as np
import pytest

from segedu.analysis.seed_record import mean_iou_by_seed, read_seed_record, seed_table


def make_run(seed: int, model_index: int) -> dict:
    base = 0.1 * model_index + 0.01 * seed
    return {"test": {"all": {"mean_iou": base, "iou_per_class": [0.0] * seed + [0.5] * (3 - seed)},
                     "band": {"mean_iou": base / 2, "iou_per_class": [0.2] * 3}},
            "val_curve": [[3000, 0.0], [3250, base], [4000, base + 0.001 * seed]]}


def make_runs() -> dict:
    runs = {d: {m: {str(s): make_run(s, i) for s in range(3)} for i, m in enumerate(("a", "b"))} for d in ("x", "y")}
    runs["x"]["a"]["7"] = make_run(0, 0)  # a seed the others lack: left out
    runs["y"]["b"]["10"] = make_run(1, 1)
    return runs


def test_read_seed_record_matches_a_plain_loop():
    runs = make_runs()
    record = read_seed_record(runs, ("x", "y"), ("a", "b"))
    assert record.seeds == ["0", "1", "2"]
    for d in ("x", "y"):
        for m in ("a", "b"):
            for where in ("all", "band"):
                expected = [runs[d][m][s]["test"][where]["mean_iou"] for s in ("0", "1", "2")]
                np.testing.assert_allclose(record.mean_iou[d, m, where], expected)
            assert record.dead_classes[d, m] == [0, 1, 2]
            loop = []
            for s in ("0", "1", "2"):
                curve = {step: value for step, value in runs[d][m][s]["val_curve"]}
                loop.append(curve[4000] - curve[3250])
            np.testing.assert_allclose(record.late_change[d, m], loop)


def test_seed_order_is_numeric():
    runs = {"x": {"a": {str(s): make_run(0, 0) for s in (10, 2, 1)}}}
    assert read_seed_record(runs, ("x",), ("a",)).seeds == ["1", "2", "10"]


def test_errors_name_the_problem():
    runs = make_runs()
    with pytest.raises(ValueError, match="share no seed"):
        read_seed_record({"x": {"a": {"0": runs["x"]["a"]["0"]}, "b": {"1": runs["x"]["b"]["1"]}}}, ("x",), ("a", "b"))
    with pytest.raises(ValueError, match="lacks step"):
        read_seed_record(runs, ("x",), ("a",), late_step=5000)


def test_seed_table_rows():
    record = read_seed_record(make_runs(), ("x", "y"), ("a", "b"))
    text = seed_table(record, "x", ("a", "b"), num_classes=3, parameters={"a": 1234, "b": 5},
                      macs={"a": 2e6, "b": 3e6}, memory_bytes={"a": 2**20, "b": 2**21}, differs={"a": "-", "b": "z"})
    lines = text.splitlines()
    assert len(lines) == 3 and "mean IoU, seeds 0 1 2" in lines[0] and "(of 3)" in lines[0]
    assert lines[1].startswith("a") and "1,234" in lines[1] and "2.0" in lines[1] and "1.00" in lines[1]
    assert "0.000 0.010 0.020" in lines[1] and "0 1 2" in lines[1] and lines[2].endswith("z")


def _scores(all_pixels: float, band: float) -> dict:
    return {"test": {"all": {"mean_iou": all_pixels}, "band": {"mean_iou": band}}}


RUNS = {"A": {"0": _scores(0.5, 0.3), "1": _scores(0.6, 0.35), "2": _scores(0.55, 0.4)},
        "B": {"0": _scores(0.8, 0.7), "1": _scores(0.75, 0.72), "2": _scores(0.9, 0.71), "3": _scores(0.1, 0.1)}}


def test_scores_are_read_seed_by_seed_in_the_order_asked() -> None:
    scores = mean_iou_by_seed(RUNS, ["2", "0"])
    assert scores == {("A", "all"): [0.55, 0.5], ("A", "band"): [0.4, 0.3],
                      ("B", "all"): [0.9, 0.8], ("B", "band"): [0.71, 0.7]}  # seed "3" of B is not asked for


def test_a_missing_seed_is_named() -> None:
    with pytest.raises(ValueError, match="A has no run for seed"):
        mean_iou_by_seed(RUNS, ["0", "3"])
