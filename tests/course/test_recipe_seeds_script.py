"""The recipe-seeds study: seed 0 is the shipped checkpoint scored again, records are grouped and protected."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from experiments import recipe_seeds
from segedu.course import experiments
from segedu.training.recipes import RECIPES
from segedu.training.shipped import pretrained_info


def test_seed_zero_rescores_the_shipped_checkpoint_to_its_manifest_numbers(tmp_path: Path) -> None:
    run = recipe_seeds.one_run(("unet", "digits", 0, str(tmp_path)))
    manifest = pretrained_info("unet", "digits")
    assert run["sha256"] == manifest["sha256"]
    assert run["test"]["all"]["mean_iou"] == pytest.approx(manifest["test_metrics"]["mean_iou"], abs=1e-4)
    assert run["test"]["band"]["mean_iou"] < run["test"]["all"]["mean_iou"]  # boundaries are the hard pixels
    assert json.loads((tmp_path / "unet-digits-seed0.json").read_text()) == run  # kept for resuming


def _fake_part(folder: Path, model: str, dataset: str, seed: int, miou: float) -> None:
    part = {"model": model, "dataset": dataset, "seed": seed, "train_seconds": 10.0 * (seed + 1),
            "test": {"all": {"mean_iou": miou}, "band": {"mean_iou": miou / 2}}}
    (folder / f"{model}-{dataset}-seed{seed}.json").write_text(json.dumps(part))


def test_a_partial_record_groups_the_finished_runs_by_dataset_model_and_seed(tmp_path: Path, monkeypatch) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    _fake_part(parts, "unet", "shapes", 0, 0.9)
    _fake_part(parts, "unet", "shapes", 2, 0.8)
    _fake_part(parts, "segnet", "shapes", 1, 0.7)
    monkeypatch.setattr(sys, "argv", ["recipe_seeds", "--partial", "--parts", str(parts), "--output", str(tmp_path),
                                      "--datasets", "shapes", "--models", "unet", "segnet"])
    recipe_seeds.main()
    record = json.loads((tmp_path / "recipe_seeds.json").read_text())
    assert record["seeds"] == [0, 1, 2]
    assert sorted(record["results"]["runs"]["shapes"]) == ["segnet", "unet"]
    assert sorted(record["results"]["runs"]["shapes"]["unet"]) == ["0", "2"]
    assert record["results"]["train_cpu_seconds"] == 30.0 + 20.0  # seed 0 (shipped) is not counted


def test_the_shipped_record_is_protected(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "recipe_seeds.json").write_text("{}")
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(sys, "argv", ["recipe_seeds", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        recipe_seeds.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "recipe_seeds.json").read_text() == "{}"


def test_negative_seeds_are_refused_with_the_value(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["recipe_seeds", "--seeds", "1", "-2"])
    with pytest.raises(SystemExit):
        recipe_seeds.main()
    assert "-2" in capsys.readouterr().err


def test_the_default_record_goes_outside_the_package() -> None:
    arguments = recipe_seeds.build_parser().parse_args([])
    assert arguments.output == Path("runs") and not arguments.overwrite
    assert arguments.seeds == [0, 1, 2] and set(arguments.models) == set(recipe_seeds.MODELS)


@pytest.mark.system  # trains a U-Net for 2 steps and scores the test split twice: about 10 s
def test_another_step_count_trains_seed_zero_too_and_names_its_part(tmp_path: Path) -> None:
    run = recipe_seeds.one_run(("unet", "digits", 0, str(tmp_path), 2))
    assert run["steps"] == 2 and "--steps 2" in run["command"]
    assert run["sha256"] != pretrained_info("unet", "digits")["sha256"]  # trained here, not the shipped checkpoint
    assert json.loads((tmp_path / "unet-digits-seed0-2steps.json").read_text()) == run
    assert not (tmp_path / "unet-digits-seed0.json").exists()  # the recipe's own runs keep their names


def test_a_partial_record_at_another_step_count_has_its_own_name(tmp_path: Path, monkeypatch) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for seed in (0, 1):
        part = {"model": "fcn32s", "dataset": "shapes", "seed": seed, "steps": 8000, "train_seconds": 5.0,
                "test": {"all": {"mean_iou": 0.6}, "band": {"mean_iou": 0.4}}}
        (parts / f"fcn32s-shapes-seed{seed}-8000steps.json").write_text(json.dumps(part))
    _fake_part(parts, "fcn32s", "shapes", 2, 0.5)  # a recipe-length run: not part of this record
    monkeypatch.setattr(sys, "argv", ["recipe_seeds", "--partial", "--steps", "8000", "--parts", str(parts),
                                      "--output", str(tmp_path), "--datasets", "shapes", "--models", "fcn32s"])
    recipe_seeds.main()
    record = json.loads((tmp_path / "recipe_seeds_8000steps.json").read_text())
    assert record["settings"]["steps"] == 8000 and record["seeds"] == [0, 1]
    assert record["results"]["train_cpu_seconds"] == 10.0  # seed 0 was trained too, so it counts
    assert not (tmp_path / "recipe_seeds.json").exists()


@pytest.mark.parametrize("option", ["--steps", "--threads"])
def test_a_count_below_one_is_refused_with_the_option_and_the_value(
    option: str, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["recipe_seeds", option, "0"])
    with pytest.raises(SystemExit):
        recipe_seeds.main()
    error = capsys.readouterr().err
    assert option in error and "got 0" in error


def test_the_shipped_8000_step_record_is_the_fcn32s_recipe_with_only_the_steps_doubled() -> None:
    """Lesson 07 sets it beside the 4,000-step runs: the same recipe and seeds, every seed trained, twice the steps."""
    record = experiments.load_experiment("recipe_seeds_8000steps")
    assert record["settings"]["steps"] == 8000 and record["seeds"] == [0, 1, 2]
    runs = record["results"]["runs"]["shapes"]["fcn32s"]
    four_thousand = experiments.load_experiment("recipe_seeds")["results"]["runs"]["shapes"]["fcn32s"]
    for seed in ("0", "1", "2"):
        run = runs[seed]
        assert run["steps"] == 8000 and f"--steps 8000 --seed {seed}" in run["command"]
        assert run["val_curve"][-1][0] == 8000 and run["sha256"] != four_thousand[seed]["sha256"]
        assert 0 < run["test"]["band"]["mean_iou"] < run["test"]["all"]["mean_iou"] < 1


def test_every_change_to_the_recipe_is_named_in_the_part_and_the_record() -> None:
    assert recipe_seeds._part_stem("unet", "shapes", 1, None) == "unet-shapes-seed1"
    assert recipe_seeds._part_stem("unet", "shapes", 1, None, True, 2) == "unet-shapes-seed1-prior-threads2"
    assert recipe_seeds._part_stem("unet", "shapes", 1, 8000, False, 1) == "unet-shapes-seed1-8000steps"
    assert recipe_seeds.record_name(None) == "recipe_seeds"
    assert recipe_seeds.record_name(None, True) == "recipe_seeds_prior"
    assert recipe_seeds.record_name(None, False, 2) == "recipe_seeds_threads2"
    assert recipe_seeds.record_name(8000, True, 2) == "recipe_seeds_8000steps_prior_threads2"


@pytest.mark.system  # trains a U-Net for 2 steps with two threads and scores the test split twice: about 10 s
def test_the_prior_bias_with_two_threads_trains_seed_zero_and_says_so_in_its_command(tmp_path: Path) -> None:
    run = recipe_seeds.one_run(("unet", "digits", 0, str(tmp_path), 2, True, 2))
    assert "--prior-bias" in run["command"] and "--threads 2" in run["command"] and "--steps 2" in run["command"]
    assert run["prior_bias"] is True and run["threads"] == 2 and run["steps"] == 2
    assert run["sha256"] != pretrained_info("unet", "digits")["sha256"]  # trained here, not the shipped checkpoint
    assert json.loads((tmp_path / "unet-digits-seed0-2steps-prior-threads2.json").read_text()) == run


def test_segnets_own_prior_bias_and_two_threads_are_not_named_as_changes_but_one_thread_is() -> None:
    """SegNet's recipe starts its bias at the class frequencies and uses two threads (RECIPES, shipped_threads)."""
    assert RECIPES[("segnet", "shapes")].prior_bias and not RECIPES[("unet", "shapes")].prior_bias
    assert recipe_seeds._part_stem("segnet", "digits", 1, None, True, 2) == "segnet-digits-seed1"
    assert recipe_seeds._part_stem("segnet", "digits", 1, None, False, None) == "segnet-digits-seed1"
    assert recipe_seeds._part_stem("segnet", "digits", 1, None, False, 1) == "segnet-digits-seed1-threads1"
    assert recipe_seeds._part_stem("unet", "digits", 1, None, False, 2) == "unet-digits-seed1-threads2"


def test_a_partial_prior_bias_record_has_its_own_name_and_settings(tmp_path: Path, monkeypatch) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for seed in (0, 1):
        part = {"model": "fcn8s", "dataset": "shapes", "seed": seed, "train_seconds": 7.0, "prior_bias": True,
                "threads": 2, "test": {"all": {"mean_iou": 0.87}, "band": {"mean_iou": 0.6}}}
        (parts / f"fcn8s-shapes-seed{seed}-prior-threads2.json").write_text(json.dumps(part))
    _fake_part(parts, "fcn8s", "shapes", 2, 0.8)  # a run of the recipe itself: not part of this record
    monkeypatch.setattr(sys, "argv", ["recipe_seeds", "--partial", "--prior-bias", "--threads", "2", "--parts",
                                      str(parts), "--output", str(tmp_path), "--datasets", "shapes", "--models",
                                      "fcn8s"])
    recipe_seeds.main()
    record = json.loads((tmp_path / "recipe_seeds_prior_threads2.json").read_text())
    assert record["seeds"] == [0, 1] and record["settings"]["threads"] == 2 and "prior_bias" in record["settings"]
    assert record["settings"]["seed_0"] == "trained like the other seeds"
    assert record["results"]["train_cpu_seconds"] == 14.0  # seed 0 was trained too, so it counts
    assert not (tmp_path / "recipe_seeds.json").exists()
