"""Lesson 08's staged-training study: the stages share the budget, the script refuses what it cannot do."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from experiments import fcn_staged_study
from segedu.course.experiments import RESULTS_DIR, load_experiment


@pytest.mark.system  # trains three tiny stages and scores the test split eight times: about 40 s
def test_a_tiny_staged_run_splits_its_steps_and_reads_out_every_switch(tmp_path: Path) -> None:
    result = fcn_staged_study.one_run(("staged", 0, 8, "cpu", str(tmp_path), False))
    stages = result["stages"]
    assert list(stages) == ["fcn32s", "fcn16s", "fcn8s"]
    assert [stage["steps"] for stage in stages.values()] == [4, 2, 2]  # half, a quarter, a quarter
    assert [stage["lr"] for stage in stages.values()] == [3e-3, 3e-4, 3e-4]
    readout = result["fcn8s_readout"]
    assert list(readout) == ["all on", "pool4 off", "pool3 off", "both off", "conv7_direct"]
    assert readout["all on"] == stages["fcn8s"]["test"]  # the last stage is the FCN-8s switched
    assert sum(readout["conv7_direct"]["class_shares"]) == pytest.approx(1.0, abs=1e-3)
    assert json.loads((tmp_path / "staged-seed0-8steps.json").read_text()) == result  # kept, so a rerun resumes


@pytest.mark.system  # trains a tiny FCN-8s in two phases and scores the test split seven times: about 30 s
def test_a_tiny_late_pool3_run_holds_the_branch_at_zero_then_trains_it(tmp_path: Path) -> None:
    result = fcn_staged_study.one_run(("late_pool3", 0, 8, "cpu", str(tmp_path), False))
    held = result["pool3_held_at_zero"]
    assert held["steps"] == 6 and held["lr"] == 3e-3 and held["score_pool3_abs_max"] == 0.0  # frozen at its zero start
    assert [step for step, _ in result["val_curve"]][-1] == 8  # the second phase continues the step count
    assert result["fcn8s_readout"]["all on"] == result["test"]


@pytest.mark.system  # trains a tiny FCN-8s with one optimizer and scores the test split seven times: about 30 s
@pytest.mark.parametrize("late", ["pool3", "pool4"])
def test_a_tiny_joined_run_keeps_one_schedule(tmp_path: Path, late: str) -> None:
    result = fcn_staged_study.one_run((f"joined_{late}", 0, 8, "cpu", str(tmp_path), False))
    assert result[f"{late}_joined_at"] == {"step": 6, "lr": round(3e-3 * 0.5 * (1 + math.cos(math.pi * 6 / 8)), 8)}
    assert [step for step, _ in result["val_curve"]] == [8]  # one fit call: one curve, no second phase
    assert result["fcn8s_readout"]["all on"] == result["test"]


def test_the_controls_run_only_when_named() -> None:
    parser = fcn_staged_study.build_parser()
    assert parser.parse_args([]).arms == list(fcn_staged_study.ARMS)
    assert parser.parse_args(["--arms", "late_pool3"]).arms == ["late_pool3"]
    assert parser.parse_args(["--arms", "joined_pool3"]).arms == ["joined_pool3"]
    assert parser.parse_args(["--arms", "joined_pool4"]).arms == ["joined_pool4"]


def test_too_few_steps_are_refused(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["fcn_staged_study", "--steps", "4", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        fcn_staged_study.main()
    assert "--steps >= 8" in capsys.readouterr().err


def test_a_bad_suffix_is_refused_by_name(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["fcn_staged_study", "--suffix", "More-Seeds", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        fcn_staged_study.main()
    assert "'More-Seeds'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_shipped_record_is_protected(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["fcn_staged_study", "--output", str(RESULTS_DIR)])
    with pytest.raises(SystemExit):
        fcn_staged_study.main()
    assert "--overwrite" in capsys.readouterr().err


def test_the_shipped_record_holds_every_arm_on_the_same_budget() -> None:
    record = load_experiment("fcn_staged_study")
    later = {"slow_pool3", "fast_pool3"}  # runs A and B: added after this record, stored apart
    settings = {key: value for key, value in fcn_staged_study.SETTINGS.items() if key not in later}
    assert record["settings"] == {**settings, "steps": 4000} and record["seeds"] == [0, 1, 2]
    runs = record["results"]["runs"]
    assert set(runs) == set(fcn_staged_study.ARMS + fcn_staged_study.CONTROLS) - later
    assert all(list(arm) == ["0", "1", "2"] for arm in runs.values())
    for seed in ("0", "1", "2"):
        stages = runs["staged"][seed]["stages"]
        assert sum(stage["steps"] for stage in stages.values()) == 4000  # the all-at-once run's budget
        assert runs["staged"][seed]["fcn8s_readout"]["all on"] == stages["fcn8s"]["test"]
        assert runs["all_at_once"][seed]["fcn8s_readout"]["all on"] == runs["all_at_once"][seed]["test"]
        control = runs["late_pool3"][seed]  # pool3's branch held at zero for 3,000 steps, then 1,000 at lr / 10
        assert control["pool3_held_at_zero"]["steps"] == 3000 and control["pool3_held_at_zero"]["score_pool3_abs_max"] == 0
        assert control["val_curve"][-1][0] == 4000 and control["fcn8s_readout"]["all on"] == control["test"]
        joined = runs["joined_pool3"][seed]  # one optimizer and schedule; pool3's branch joins at step 3,000
        assert joined["pool3_joined_at"] == {"step": 3000, "lr": round(3e-3 * 0.5 * (1 + math.cos(math.pi * 0.75)), 8)}
        assert [step for step, _ in joined["val_curve"]] == list(range(250, 4001, 250))  # one fit call, one curve
        mirror = runs["joined_pool4"][seed]  # the same with pool4's branch joining at step 3,000
        assert mirror["pool4_joined_at"] == joined["pool3_joined_at"]
        assert [step for step, _ in mirror["val_curve"]] == list(range(250, 4001, 250))
        for arm in runs.values():  # conv7's class shares are shares of every test pixel
            assert sum(arm[seed]["fcn8s_readout"]["conv7_direct"]["class_shares"]) == pytest.approx(1.0, abs=1e-3)


def test_the_added_seeds_extend_three_arms_on_the_same_budget_and_machine() -> None:
    main, added = load_experiment("fcn_staged_study"), load_experiment("fcn_staged_study_moreseeds")
    assert added["settings"] == main["settings"] and added["seeds"] == [3, 4, 5]
    assert added["ran_on"].split(",")[0] == main["ran_on"].split(",")[0]  # the same kind of CPU
    runs = added["results"]["runs"]
    assert set(runs) == {"all_at_once", "joined_pool3", "joined_pool4"}
    assert all(list(arm) == ["3", "4", "5"] for arm in runs.values())
    assert "--suffix moreseeds" in added["command"] and "--seeds 3 4 5" in added["command"]
    for seed in ("3", "4", "5"):
        assert runs["joined_pool3"][seed]["pool3_joined_at"] == main["results"]["runs"]["joined_pool3"]["0"]["pool3_joined_at"]
        assert runs["joined_pool4"][seed]["pool4_joined_at"] == main["results"]["runs"]["joined_pool4"]["0"]["pool4_joined_at"]
        for arm in runs.values():
            assert arm[seed]["fcn8s_readout"]["all on"] == arm[seed]["test"]
            assert [step for step, _ in arm[seed]["val_curve"]][-1] == 4000


def test_run_a_trains_pool3_from_the_start_at_a_fortieth_of_the_rate_on_the_same_budget_and_machine() -> None:
    main, run_a = load_experiment("fcn_staged_study"), load_experiment("fcn_staged_study_runa")
    settings = {key: value for key, value in fcn_staged_study.SETTINGS.items() if key != "fast_pool3"}  # run B: later
    assert run_a["settings"] == {**settings, "steps": 4000} and run_a["seeds"] == [0, 1, 2, 3, 4, 5]
    assert run_a["ran_on"].split(",")[0] == main["ran_on"].split(",")[0]  # the same kind of CPU
    assert "--arms slow_pool3" in run_a["command"] and "--suffix runa" in run_a["command"]
    runs = run_a["results"]["runs"]
    assert list(runs) == ["slow_pool3"] and sorted(runs["slow_pool3"], key=int) == ["0", "1", "2", "3", "4", "5"]
    for run in runs["slow_pool3"].values():
        assert run["pool3_lr"] == pytest.approx(main["settings"]["lr"] / 40)
        assert [step for step, _ in run["val_curve"]] == list(range(250, 4001, 250))  # one fit call, one curve
        assert run["fcn8s_readout"]["all on"] == run["test"]


def test_run_b_joins_pool3_late_at_forty_times_the_rate_on_the_same_budget_and_machine() -> None:
    main, run_b = load_experiment("fcn_staged_study"), load_experiment("fcn_staged_study_runb")
    assert run_b["settings"] == {**fcn_staged_study.SETTINGS, "steps": 4000} and run_b["seeds"] == [0, 1, 2, 3, 4, 5]
    assert run_b["ran_on"].split(",")[0] == main["ran_on"].split(",")[0]  # the same kind of CPU
    assert "--arms fast_pool3" in run_b["command"] and "--suffix runb" in run_b["command"]
    runs = run_b["results"]["runs"]
    assert list(runs) == ["fast_pool3"] and sorted(runs["fast_pool3"], key=int) == ["0", "1", "2", "3", "4", "5"]
    joined = main["results"]["runs"]["joined_pool3"]["0"]["pool3_joined_at"]
    for run in runs["fast_pool3"].values():
        assert "diverged" not in run and run["pool3_lr_factor"] == 40.0 and run["pool3_joined_at"] == joined
        assert [step for step, _ in run["val_curve"]] == list(range(250, 4001, 250))  # one fit call, one curve
        assert run["fcn8s_readout"]["all on"] == run["test"]
