import json
import os
from pathlib import Path

import pytest
import torch

from segedu.course import experiments
from segedu.course.experiments import (
    available_experiments,
    changed_settings,
    describe_record,
    load_experiment,
    merge_runs,
    paired_t_interval,
    paired_t_p,
    save_experiment,
)


def test_save_then_load_round_trips(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    path = save_experiment("toy_run", command="python -m experiments.toy_run", settings={"steps": 3},
                           seeds=[0, 1], results={"0": [0.5], "1": [0.25]})
    assert path == tmp_path / "toy_run.json"
    record = load_experiment("toy_run")
    assert record["settings"] == {"steps": 3} and record["seeds"] == [0, 1]
    assert record["results"]["1"] == [0.25]
    assert available_experiments() == ["toy_run"]


def test_unserialisable_results_leave_the_old_file(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    save_experiment("toy_run", command="c", settings={}, seeds=[0], results=[1])
    with pytest.raises(TypeError):
        save_experiment("toy_run", command="c", settings={}, seeds=[0], results=[object()])
    assert json.loads((tmp_path / "toy_run.json").read_text())["results"] == [1]
    assert [path.name for path in tmp_path.iterdir()] == ["toy_run.json"]


def test_records_are_readable_by_everyone_under_the_usual_umask(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    previous = os.umask(0o022)
    try:
        path = save_experiment("toy_run", command="c", settings={}, seeds=[0], results=[1])
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644  # not the temporary file's owner-only 0o600


@pytest.mark.parametrize("name", ["../escape", "Bad Name", "", 3])
def test_bad_names_are_refused(name):
    with pytest.raises(ValueError, match="experiment name"):
        load_experiment(name)


def test_a_missing_experiment_names_its_script(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m experiments.nothing_here"):
        load_experiment("nothing_here")


def test_every_stored_record_names_its_command_settings_and_seeds():
    experiments_dir = Path(__file__).resolve().parents[2] / "experiments"
    for name in available_experiments():
        record = load_experiment(name)
        words = record["command"].split()
        assert words[:3] == ["python", "-m", words[2]] and words[2].startswith("experiments."), name
        script = words[2].removeprefix("experiments.")
        assert (experiments_dir / f"{script}.py").is_file(), name  # the command runs a script of the repository
        assert name.startswith(script), name  # and the record is named after it (a variant adds a suffix)
        assert isinstance(record["settings"], dict) and record["seeds"], name


def test_a_shipped_record_is_protected_unless_overwrite(tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    (tmp_path / "study.json").write_text("{}")
    with pytest.raises(ValueError, match="--overwrite"):
        experiments.check_record_target(tmp_path, "study", overwrite=False)
    assert experiments.check_record_target(tmp_path, "study", overwrite=True) == tmp_path / "study.json"
    assert experiments.check_record_target(tmp_path / "runs", "study", overwrite=False) == tmp_path / "runs" / "study.json"
    assert experiments.check_record_target(tmp_path, "new_study", overwrite=False) == tmp_path / "new_study.json"


def test_mask_text_round_trips_every_class_and_matches_a_stored_record() -> None:
    from segedu.course.experiments import load_experiment, mask_from_text, mask_to_text

    mask = torch.arange(16).reshape(4, 4)  # every class 0..15 once
    assert mask_to_text(mask) == ["0123", "4567", "89ab", "cdef"]
    assert torch.equal(mask_from_text(mask_to_text(mask)), mask)
    stored = load_experiment("loss_comparison_shapes")["results"]["test_masks_for_pictures"][0]
    assert mask_to_text(mask_from_text(stored)) == stored and mask_from_text(stored).shape == (64, 64)


def test_mask_text_rejects_what_it_cannot_write_or_read() -> None:
    from segedu.course.experiments import mask_from_text, mask_to_text

    with pytest.raises(ValueError, match="classes 0 to 15"):
        mask_to_text(torch.full((2, 2), 16))
    with pytest.raises(ValueError, match="classes 0 to 15"):
        mask_to_text(torch.zeros(2, 2, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="equal length"):
        mask_from_text(["01", "0"])
    with pytest.raises(ValueError, match="base-16 digits"):
        mask_from_text(["0g"])


def _record(name: str, runs: dict, **settings) -> dict:
    seeds = sorted({int(seed) for loss_runs in runs.values() for seed in loss_runs})
    return {"name": name, "command": f"python -m experiments.study --suffix {name} --workers 2 --output /tmp/x",
            "settings": {"steps": 400, "peak_lr": 0.003, **settings}, "seeds": seeds,
            "results": {"runs": runs, "cpu_seconds": 12.4}, "ran_on": "a CPU", "date": "2026-12-03"}


def test_merge_runs_joins_seeds_and_losses_and_refuses_a_run_held_twice() -> None:
    first = _record("first", {"ce": {"0": "ce0", "1": "ce1"}})
    second = _record("second", {"ce": {"2": "ce2"}, "dice": {"0": "dice0"}})
    assert merge_runs([first, second]) == {"ce": {"0": "ce0", "1": "ce1", "2": "ce2"}, "dice": {"0": "dice0"}}
    with pytest.raises(ValueError, match="'ce' seed 1 is in both 'first' and 'again'"):
        merge_runs([first, _record("again", {"ce": {"1": "other"}})])


def test_changed_settings_and_describe_record_name_what_differs() -> None:
    record = _record("long", {"ce": {"0": {}}}, steps=1600, untilt=True, prior_bias="x" * 41)
    reference = {"steps": 400, "peak_lr": 0.003}
    assert changed_settings(record, reference) == ["prior_bias", "steps", "untilt"]
    assert changed_settings(record, record["settings"]) == []
    text = describe_record(record, reference)
    assert text.splitlines()[0] == "long: ce; seeds 0"
    assert "changed: prior_bias, steps 1600, untilt True" in text  # a long value by its name only
    assert "python -m experiments.study --suffix long\n" in text + "\n"
    assert "--workers" not in text and "/tmp/x" not in text
    assert "(a CPU, 2026-12-03, 12 CPU-seconds)" in text
    assert "changed:" not in describe_record(record)
    assert "changed: nothing" in describe_record(record, record["settings"])


# --- paired comparisons over seeds: the t-interval, its verdict, the seed counts and the table ---------------------


def _t_mass(point: float, degrees: int) -> float:
    """The share of Student's t density between -point and point, by the trapezoid rule on the written density."""
    import math

    import numpy as np

    grid = np.linspace(-point, point, 200_001)
    density = (math.exp(math.lgamma((degrees + 1) / 2) - math.lgamma(degrees / 2)) / math.sqrt(degrees * math.pi)
               * (1 + grid**2 / degrees) ** (-(degrees + 1) / 2))
    return float(np.trapezoid(density, grid))


def test_every_t_point_is_the_975_percent_point_to_three_decimals() -> None:
    from segedu.course.experiments import _T_975

    assert sorted(_T_975) == list(range(1, 12))  # 2 to 12 seeds
    for degrees, point in _T_975.items():
        assert _t_mass(point - 0.0005, degrees) < 0.95 < _t_mass(point + 0.0005, degrees), degrees


@pytest.mark.parametrize("count", [2, 3, 6, 10, 11, 12])
def test_paired_t_interval_is_the_mean_plus_or_minus_t_times_the_standard_error(count: int) -> None:
    import statistics

    from segedu.course.experiments import _T_975, paired_t_interval

    values = [((7 * index) % 5 - 2) / 100 + 0.01 * index for index in range(count)]  # uneven, not all equal
    half_width = _T_975[count - 1] * statistics.stdev(values) / count**0.5
    low, high = paired_t_interval(values)
    assert low == pytest.approx(statistics.fmean(values) - half_width, abs=1e-12)
    assert high == pytest.approx(statistics.fmean(values) + half_width, abs=1e-12)


def test_paired_t_interval_for_twelve_seeds_uses_t_2201() -> None:
    from segedu.course.experiments import paired_t_interval

    values = [0.0] * 6 + [0.12] * 6  # mean 0.06, sample standard deviation 0.06 * sqrt(12 / 11)
    low, high = paired_t_interval(values)
    assert (high - low) / 2 == pytest.approx(2.201 * 0.06 * (12 / 11) ** 0.5 / 12**0.5)
    with pytest.raises(ValueError, match="got 13"):
        paired_t_interval([0.1] * 13)
    with pytest.raises(ValueError, match="got 1"):
        paired_t_interval([0.1])


def test_interval_verdict_names_a_side_only_when_the_interval_leaves_out_zero() -> None:
    from segedu.course.experiments import interval_verdict

    assert interval_verdict(0.01, 0.2) == "ahead" and interval_verdict(-0.2, -0.01) == "behind"
    assert interval_verdict(-0.01, 0.2) == interval_verdict(0.0, 0.1) == "not distinguishable"
    assert interval_verdict(0.01, 0.2, ("more", "fewer")) == "more"
    assert interval_verdict(-0.3, -0.1, ("more", "fewer")) == "fewer"


def test_wins_ties_losses_counts_like_a_loop_over_the_seeds() -> None:
    import numpy as np

    from segedu.course.experiments import wins_ties_losses

    rng = np.random.default_rng(0)
    for values in [rng.normal(0, 0.01, 6), np.array([0.0053, -0.0049, 0.005, -0.005, -0.0054])]:
        wins = ties = losses = 0
        for value in values:
            if value > 0.005:
                wins += 1
            elif value < -0.005:
                losses += 1
            else:
                ties += 1
        assert wins_ties_losses(values, 0.005) == f"{wins}/{ties}/{losses}"
    assert wins_ties_losses([0.0053, -0.0049, 0.005, -0.0054], 0.005) == "1/2/1"


def test_signed_difference_prints_a_fourth_decimal_only_at_the_tie_edge() -> None:
    from segedu.course.experiments import signed_difference

    assert [signed_difference(value, 0.005) for value in (0.0053, -0.0049, 0.0061, -0.0054, 0.005, -0.0001)] == [
        "+0.0053", "-0.0049", "+0.006", "-0.0054", "+0.0050", "+0.000"]


def test_paired_gap_table_rows_and_the_sensitivity_line() -> None:
    from segedu.course.experiments import paired_gap_table, paired_t_interval

    gaps = {"steady": [0.02, 0.03, 0.025, 0.02, 0.03, 0.0053],
            "one seed carries it": [-0.004, 0.001, 0.3, 0.002, -0.003, 0.0]}
    text = paired_gap_table("title", gaps, ["0", "1", "2", "3", "4", "5"], tie=0.005, leave_out=2,
                            by_seed=["steady"])
    lines = text.splitlines()
    assert lines[0] == "title" and lines[1].split() == ["seed", "0", "seed", "1", "seed", "2", "seed", "3", "seed", "4",
                                                        "seed", "5"]
    assert lines[2].split() == ["steady", "+0.020", "+0.030", "+0.025", "+0.020", "+0.030", "+0.0053"]
    low, high = paired_t_interval(gaps["steady"])
    steady = next(line for line in lines if line.startswith("steady ") and "[" in line)
    assert steady.split()[1] == "6/0/0" and f"[{low:+.3f}, {high:+.3f}]" in steady and steady.endswith("ahead")
    carried = lines.index(next(line for line in lines if line.startswith("one seed carries it")))
    assert lines[carried].split()[4] == "1/5/0" and lines[carried].endswith("not distinguishable")
    # without seed 2 every difference is a tie and the interval holds 0: the verdict is the same, so no line
    assert not lines[carried + 1].startswith("  without seed 2")
    shifted = paired_gap_table("t", {"a": [0.01, 0.012, -0.2, 0.011, 0.013, 0.01]}, list("012345"), tie=0.005,
                               leave_out=2, words=("more", "fewer"), by_seed=[]).splitlines()
    assert shifted[2].endswith("not distinguishable") and shifted[3].startswith("  without seed 2")
    assert shifted[3].endswith("more") and shifted[-1].startswith("(without seed 2: a sensitivity check")
    assert "without seed" not in paired_gap_table("t", gaps, list("012345"), tie=0.005)


def test_sign_flip_p_counts_the_sign_patterns_and_the_table_prints_it() -> None:
    import itertools

    from segedu.course.experiments import paired_gap_table, sign_flip_p

    assert sign_flip_p([0.1, 0.2, 0.3, 0.1, 0.2, 0.3]) == 2 / 64  # every seed the same side: the smallest p
    assert sign_flip_p([-0.1, -0.2, -0.3, -0.1, -0.2, -0.3]) == 2 / 64
    assert sign_flip_p([0.1, 0.2, -0.01, 0.1, 0.2, 0.3]) == 4 / 64  # flipping the small one also reaches the mean
    assert sign_flip_p([0.1, -0.1]) == 1.0
    differences = [0.03, -0.01, 0.02, 0.05, -0.04, 0.01]
    written = sum(abs(sum(s * d for s, d in zip(signs, differences))) >= abs(sum(differences)) - 1e-12
                  for signs in itertools.product((1, -1), repeat=6)) / 64
    assert sign_flip_p(differences) == written
    lines = paired_gap_table("t", {"a": [0.1, 0.2, 0.3, 0.1, 0.2, 0.3]}, list("012345"), tie=0.005, by_seed=[],
                             flip=True).splitlines()
    assert "sign-flip p" in lines[1] and lines[2].split()[-2:] == ["0.03125", "ahead"]
    assert "sign-flip p" not in paired_gap_table("t", {"a": [0.1, 0.2, 0.3]}, list("012"), tie=0.005)


def _t_tail_by_integration(t: float, freedom: int) -> float:
    """Two-sided tail of Student's t, brute force: the density summed on a fine grid (Simpson's rule)."""
    import math

    import numpy as np

    grid = np.linspace(0.0, abs(t), 200_001)  # (200001,)
    density = np.exp(math.lgamma((freedom + 1) / 2) - math.lgamma(freedom / 2)) / math.sqrt(freedom * math.pi) \
        * (1 + grid**2 / freedom) ** (-(freedom + 1) / 2)  # (200001,)
    step = grid[1] - grid[0]
    inside = step / 3 * (density[0] + density[-1] + 4 * density[1:-1:2].sum() + 2 * density[2:-1:2].sum())
    return 1 - 2 * float(inside)


@pytest.mark.parametrize("count", [2, 3, 4, 5, 6, 8, 9, 12, 31])
def test_paired_t_p_matches_the_integrated_t_density(count: int) -> None:
    import numpy as np

    differences = np.random.default_rng(count).normal(0.3, 1.0, size=count)  # (count,)
    t = differences.mean() / (differences.std(ddof=1) / count**0.5)
    assert paired_t_p(differences) == pytest.approx(_t_tail_by_integration(t, count - 1), abs=1e-9)


@pytest.mark.parametrize("freedom", range(1, 12))
def test_paired_t_p_is_five_percent_at_the_printed_t_points(freedom: int) -> None:
    """At the 97.5 % points paired_t_interval uses (three decimals), the two-sided p is 0.05 to that rounding."""
    from segedu.course.experiments import _T_975

    base = [((-1) ** index) * (index + 1) for index in range(freedom + 1)]
    mean = sum(base) / len(base)
    spread = (sum((value - mean) ** 2 for value in base) / freedom) ** 0.5
    shifted = [value - mean + _T_975[freedom] * spread / len(base) ** 0.5 for value in base]  # t = the table's point
    assert paired_t_p(shifted) == pytest.approx(0.05, abs=2e-4)
    low, _ = paired_t_interval(shifted)
    assert low == pytest.approx(0.0, abs=1e-12)  # the interval's end touches 0 exactly where p is 0.05


def test_paired_t_p_refuses_what_has_no_t() -> None:
    with pytest.raises(ValueError, match="got 1"):
        paired_t_p([0.2])
    with pytest.raises(ValueError, match="all equal"):
        paired_t_p([0.1, 0.1, 0.1])
