"""Lesson 17's grid reference: the script's upsampling is DeepLabv3's, its offsets help, its record is the shipped one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from experiments import deeplab_grid_ceiling as study
from segedu.course.experiments import RESULTS_DIR, load_experiment
from segedu.models import DeepLabV3


def test_the_upsampling_is_deeplabv3s_last_step() -> None:
    model = DeepLabV3(3, 4, output_stride=8).eval()
    seen = {}
    model.classifier.register_forward_hook(lambda module, inputs, output: seen.update(scores=output))
    with torch.no_grad():
        logits = model(torch.randn(2, 3, 64, 64))  # (2, 4, 64, 64)
    assert seen["scores"].shape == (2, 4, 8, 8)
    torch.testing.assert_close(study.DeepLabUpsample()(seen["scores"]), logits)


def test_a_constant_offset_on_the_coarse_map_is_the_same_constant_after_the_step() -> None:
    coarse = torch.randn(1, 3, 8, 8)
    offsets = torch.tensor([0.0, 1.5, -0.5]).view(1, 3, 1, 1)
    upsample = study.DeepLabUpsample()
    torch.testing.assert_close(upsample(coarse + offsets), upsample(coarse) + offsets)


def test_best_offsets_never_score_below_no_offset_and_recover_a_hidden_shift() -> None:
    masks = torch.zeros(2, 8, 8, dtype=torch.long)
    masks[:, 2:6, 3] = 1  # thin foreground
    logits = torch.stack([torch.zeros(2, 8, 8), torch.where(masks == 1, -0.5, -3.0)], dim=1)  # (2, 2, 8, 8)
    offsets, best = study.best_offsets(logits, masks, 2)
    unshifted = study.scores(logits.argmax(dim=1), masks, 2)["mean_iou"]
    assert unshifted < 0.5 < best == pytest.approx(1.0)  # the foreground logit is too low by a constant
    assert offsets[0] == 0 and 0.5 < offsets[1] < 3.0


def test_scores_count_foreground_found_and_the_band(tmp_path: Path) -> None:
    masks = torch.tensor([[[0, 1], [2, 0]]])
    predictions = torch.tensor([[[0, 2], [0, 0]]])  # class 1 taken for 2, class 2 missed
    assert study.scores(predictions, masks, 3)["foreground_found"] == 0.5
    only_first_row = torch.tensor([[[True, True], [False, False]]])
    assert study.scores(predictions, masks, 3, only_first_row)["foreground_found"] == 1.0


def test_a_tiny_run_writes_a_record_for_both_datasets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["deeplab_grid_ceiling", "--scenes", "2", "--max-steps", "3",
                                      "--output", str(tmp_path)])
    study.main()
    record = json.loads((tmp_path / f"{study.NAME}.json").read_text())
    assert record["settings"]["scenes"] == 2 and record["settings"]["max_steps"] == 3
    for dataset in study.DATASETS:
        result = record["results"][dataset]
        for where in ("all", "band"):
            assert result["best_found"][where]["mean_iou"] >= 0
        assert result["best_found"]["all"]["mean_iou"] >= result["cross_entropy_fit"]["all"]["mean_iou"]
    shown = record["results"]["digits"]["shown_scene"]
    assert torch.tensor(shown["coarse_scores"]).shape == (record["results"]["digits"]["num_classes"], 8, 8)


def test_the_shipped_record_is_protected(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["deeplab_grid_ceiling", "--output", str(RESULTS_DIR)])
    with pytest.raises(SystemExit):
        study.main()
    assert "--overwrite" in capsys.readouterr().err


def test_the_shipped_record_matches_the_scripts_settings() -> None:
    record = load_experiment(study.NAME)
    assert record["settings"] == study.SETTINGS and record["settings"]["scenes"] == 200
    assert record["seeds"] == [0]  # the test split's dataset seed; the fit itself has no randomness
    assert set(record["results"]) == set(study.DATASETS)
    for result in record["results"].values():
        assert result["best_found"]["all"]["mean_iou"] >= result["cross_entropy_fit"]["all"]["mean_iou"]
        assert result["best_found"]["offsets"][0] == 0.0
    shown = record["results"]["digits"]["shown_scene"]
    assert shown["index"] == study.SETTINGS["shown_scene"]["index"]
    assert torch.tensor(shown["coarse_scores"]).shape == (record["results"]["digits"]["num_classes"], 8, 8)
