"""The SegNet unpooling study: each rule trains the recipe's SegNet from the same start, records are protected."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from experiments import segnet_unpooling_study as study
from segedu.analysis.pooling_indices import IndexFreeUnpool
from segedu.course import experiments
from segedu.models import get_model
from segedu.training import recipes
from segedu.training.checkpoints import state_sha256


@pytest.fixture
def two_step_recipes(monkeypatch: pytest.MonkeyPatch) -> None:
    """SegNet's recipes cut to two steps of two scenes, so a run takes a second."""
    short = {key: replace(recipe, steps=2, batch_size=2) for key, recipe in recipes.RECIPES.items()}
    monkeypatch.setattr(study, "RECIPES", short)


def test_each_rule_trains_from_the_same_start_and_is_scored_with_its_own_unpooling(
    tmp_path: Path, two_step_recipes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[torch.nn.Module] = []
    original = study.with_unpooling

    def recording(model: torch.nn.Module, rule: str) -> torch.nn.Module:
        built.append(model)
        return original(model, rule)

    monkeypatch.setattr(study, "with_unpooling", recording)
    nearest = study.one_run("shapes", "nearest", 0, tmp_path)
    top_left = study.one_run("shapes", "top_left", 0, tmp_path)
    start_nearest, start_top_left = built[0], built[2]  # built[1] and [3]: the trained copies being scored
    assert all(torch.equal(a, b) for a, b in zip(start_nearest.state_dict().values(),
                                                  start_top_left.state_dict().values()))
    assert isinstance(built[1].decoder["stage1"].unpool, torch.nn.MaxUnpool2d)  # loaded plain, then changed
    assert nearest["rule"] == "nearest" and top_left["rule"] == "top_left"
    assert nearest["sha256"] != top_left["sha256"]  # the same start, different decoders, different weights
    assert 0 <= nearest["test"]["band"]["mean_iou"] <= 1
    assert json.loads((tmp_path / "segnet-shapes-nearest-seed0.json").read_text()) == nearest  # kept for resuming
    assert study.one_run("shapes", "nearest", 0, tmp_path) == nearest  # read back, not trained again
    assert len(built) == 4


def test_the_index_free_rule_is_in_the_trained_model() -> None:
    model = study.with_unpooling(get_model("segnet", in_channels=3, num_classes=4), "top_left")
    assert all(isinstance(stage.unpool, IndexFreeUnpool) for stage in model.decoder.values())


def test_a_partial_record_groups_runs_by_dataset_rule_and_seed(tmp_path: Path, monkeypatch) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for rule, seed, score in (("nearest", 0, 0.8), ("top_left", 0, 0.85), ("nearest", 1, 0.82)):
        part = {"dataset": "shapes", "rule": rule, "seed": seed, "train_seconds": 5.0,
                "test": {"all": {"mean_iou": score}, "band": {"mean_iou": score / 2}}}
        (parts / f"{study.part_stem('shapes', rule, seed)}.json").write_text(json.dumps(part))
    monkeypatch.setattr(sys, "argv", ["segnet_unpooling_study", "--partial", "--parts", str(parts),
                                      "--output", str(tmp_path)])
    study.main()
    record = json.loads((tmp_path / f"{study.NAME}.json").read_text())
    assert record["seeds"] == [0, 1]
    assert sorted(record["results"]["runs"]["shapes"]["nearest"]) == ["0", "1"]
    assert record["results"]["train_cpu_seconds"] == 15.0
    starts = record["results"]["initial_sha256"]["shapes"]  # rule -> seed -> digest, SegNet itself included
    assert sorted(starts) == ["indices", "nearest", "top_left"]
    for seed in ("0", "1"):
        assert len({starts[rule][seed] for rule in starts}) == 1  # one start per seed: the rules have no weights
    assert starts["indices"]["0"] != starts["indices"]["1"]
    fresh = recipes.initial_model(replace(recipes.RECIPES[("segnet", "shapes")], seed=1))
    assert starts["indices"]["1"] == state_sha256(fresh)


def test_the_shipped_record_is_protected(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / f"{study.NAME}.json").write_text("{}")
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(sys, "argv", ["segnet_unpooling_study", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        study.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / f"{study.NAME}.json").read_text() == "{}"
