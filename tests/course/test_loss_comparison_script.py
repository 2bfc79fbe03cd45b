"""The loss-comparison script never overwrites the lesson's shipped record unless asked to."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from experiments import loss_comparison
from segedu.course.experiments import RESULTS_DIR


def test_the_shipped_record_is_protected(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert (RESULTS_DIR / "loss_comparison.json").is_file()
    monkeypatch.setattr(sys, "argv", ["loss_comparison", "--output", str(RESULTS_DIR), "--steps", "1600"])
    with pytest.raises(SystemExit):
        loss_comparison.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err


def test_a_default_run_writes_outside_the_package() -> None:
    arguments = loss_comparison.build_parser().parse_args([])
    assert arguments.output == Path("runs") and not arguments.overwrite and arguments.scenes == "digits"
    assert loss_comparison.SCENES["digits"][3] == "loss_comparison"
    assert loss_comparison.SCENES["shapes"][1:] == (3, 4, "loss_comparison_shapes")


def test_every_loss_name_gives_a_scalar_loss() -> None:
    weights = {"inverse": torch.ones(4), "median": torch.ones(4)}
    logits = torch.randn(2, 4, 5, 5, generator=torch.Generator().manual_seed(0))  # (B, K, H, W)
    masks = torch.randint(0, 4, (2, 5, 5), generator=torch.Generator().manual_seed(1))  # (B, H, W)
    for name in loss_comparison.LOSSES:
        assert loss_comparison.loss_function(name, weights)(logits, masks).ndim == 0
    with pytest.raises(ValueError, match="unknown loss"):
        loss_comparison.loss_function("focal", weights)
