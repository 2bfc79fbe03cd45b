"""The DeepLabv3 rate study: the rule trains the recipe's DeepLabv3 from its own start, records are protected."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from experiments import deeplab_rate_study as study
from experiments._recipe_variant_study import parse_study_arguments
from segedu.course import experiments
from segedu.models import get_model
from segedu.training import recipes


@pytest.fixture
def two_step_recipes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DeepLabv3's recipes cut to two steps of two scenes, so a run takes a second."""
    short = {key: replace(recipe, steps=2, batch_size=2) for key, recipe in recipes.RECIPES.items()}
    monkeypatch.setattr(study, "RECIPES", short)


def _first_conv_rates(model: torch.nn.Module) -> tuple[int, int]:
    return model.block3.unit1.conv1.conv.dilation[0], model.block4.unit1.conv1.conv.dilation[0]


def test_the_rule_is_applied_before_training_and_before_scoring(
    tmp_path: Path, two_step_recipes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[torch.nn.Module] = []

    def recording(model: torch.nn.Module) -> torch.nn.Module:
        built.append(model)
        return study.with_previous_rate(model)

    monkeypatch.setitem(study.RULES, "previous_rate", recording)
    result = study.one_run("shapes", "previous_rate", 0, tmp_path)
    assert len(built) == 2  # the fresh model before training, the reloaded one before scoring
    assert _first_conv_rates(built[0]) == (2, 4)  # as built; the rule changes a copy
    assert _first_conv_rates(built[1]) == (2, 4)  # reloaded as the registry builds it, then changed for scoring
    assert result["rule"] == "previous_rate" and result["seed"] == 0
    assert 0 <= result["test"]["all"]["mean_iou"] <= 1 and 0 <= result["test"]["band"]["mean_iou"] <= 1
    assert json.loads((tmp_path / "deeplabv3-shapes-previous_rate-seed0.json").read_text()) == result
    assert study.one_run("shapes", "previous_rate", 0, tmp_path) == result  # read back, not trained again
    assert len(built) == 2


def test_the_trained_model_keeps_the_previous_rate() -> None:
    model = study.RULES["previous_rate"](get_model("deeplabv3", in_channels=3, num_classes=4))
    assert _first_conv_rates(model) == (1, 2)


def test_segedus_own_rule_is_the_model_as_built_and_both_rules_run_by_default() -> None:
    model = get_model("deeplabv3", in_channels=3, num_classes=4)
    assert study.RULES["block_rate"](model) is model and _first_conv_rates(model) == (2, 4)
    assert study.build_parser().parse_args([]).rules == ["block_rate", "previous_rate"]


def test_the_shipped_record_is_protected(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / f"{study.NAME}.json").write_text("{}")
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(sys, "argv", ["deeplab_rate_study", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        study.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / f"{study.NAME}.json").read_text() == "{}"


def test_a_suffix_names_the_record_and_a_bad_one_is_refused(tmp_path: Path, monkeypatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["deeplab_rate_study", "--suffix", "moreseeds", "--parts", str(tmp_path / "parts"),
                                      "--output", str(tmp_path)])
    assert parse_study_arguments(study.build_parser(), study.NAME).record_name == f"{study.NAME}_moreseeds"
    monkeypatch.setattr(sys, "argv", ["deeplab_rate_study", "--suffix", "../x", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        parse_study_arguments(study.build_parser(), study.NAME)
    error = capsys.readouterr().err
    assert "--suffix must be lower-case letters" in error and "'../x'" in error


def test_the_added_seeds_extend_the_pilot_on_the_shapes_with_the_same_script_recipe_and_machine() -> None:
    pilot, added = experiments.load_experiment(study.NAME), experiments.load_experiment(f"{study.NAME}_moreseeds")
    assert added["settings"] == pilot["settings"] and added["seeds"] == [3, 4, 5]
    assert added["ran_on"].split(",")[0] == pilot["ran_on"].split(",")[0]  # the same kind of CPU
    assert "--suffix moreseeds" in added["command"] and "--seeds 3 4 5" in added["command"]
    runs = added["results"]["runs"]
    assert list(runs) == ["shapes"] and sorted(runs["shapes"]) == ["block_rate", "previous_rate"]
    for rule, seeds in runs["shapes"].items():
        assert sorted(seeds) == ["3", "4", "5"]
        for seed, run in seeds.items():
            assert run["rule"] == rule and run["seed"] == int(seed) and run["dataset"] == "shapes"
            assert f"--steps 4000 --seed {seed} --threads 1" in run["command"]
            assert set(run["test"]) == {"all", "band"}
