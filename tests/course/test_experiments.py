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
