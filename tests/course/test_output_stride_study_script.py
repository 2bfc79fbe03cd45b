"""The output-stride study never overwrites a shipped record unless asked to, and a tiny run writes a complete record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import output_stride_study
from segedu.course import experiments


def test_a_shipped_record_is_protected(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "output_stride_study.json").write_text("{}")
    monkeypatch.setattr(experiments, "RESULTS_DIR", tmp_path)
    with pytest.raises(SystemExit):
        output_stride_study.main(["--output", str(tmp_path)])  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "output_stride_study.json").read_text() == "{}"


@pytest.mark.parametrize("arguments", [["--steps", "0"], ["--seeds", "-1"]])
def test_bad_steps_or_seeds_are_refused(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        output_stride_study.main(arguments)
    assert "--steps must be positive" in capsys.readouterr().err


def test_a_default_run_writes_outside_the_package() -> None:
    arguments = output_stride_study.build_parser().parse_args([])
    assert arguments.output == Path("runs") and not arguments.overwrite
    assert arguments.seeds == [0, 1, 2] and arguments.steps == 1500


def test_every_output_stride_starts_from_the_same_weights_within_a_seed() -> None:
    states = [list(output_stride_study.build(stride, seed=5).state_dict().values())
              for stride in output_stride_study.OUTPUT_STRIDES]
    assert all(len(state) == len(states[0]) for state in states)
    assert all(all(torch_equal(a, b) for a, b in zip(state, states[0])) for state in states[1:])
    other_seed = list(output_stride_study.build(8, seed=6).state_dict().values())
    assert not all(torch_equal(a, b) for a, b in zip(other_seed, states[0]))


def torch_equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())


def test_a_tiny_study_writes_a_record_with_every_stride_and_seed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(output_stride_study.SETTINGS, "train_scenes", 8)
    monkeypatch.setitem(output_stride_study.SETTINGS, "test_scenes", 3)
    monkeypatch.setitem(output_stride_study.SETTINGS, "batch_size", 2)
    monkeypatch.setitem(output_stride_study.SETTINGS, "curve_every", 1)
    monkeypatch.setattr(output_stride_study, "PARTS_DIR", tmp_path / "parts")
    output_stride_study.main(["--seeds", "0", "1", "--steps", "2", "--workers", "1", "--output", str(tmp_path)])
    record = json.loads((tmp_path / "output_stride_study.json").read_text())
    runs = record["results"]["runs"]
    assert list(runs) == ["8", "16", "32"] and all(list(runs[stride]) == ["0", "1"] for stride in runs)
    run = runs["16"]["1"]
    assert sum(map(sum, run["confusion"])) == 3 * 64 * 64  # every test pixel counted once
    assert 0 < sum(map(sum, run["band_confusion"])) < 3 * 64 * 64
    assert [step for step, _ in run["loss_curve"]] == [1, 2]
    assert len({runs[stride]["0"]["parameters"] for stride in runs}) == 1  # the stride changes no parameter
    assert record["command"].startswith("python -m experiments.output_stride_study --seeds 0 1")
    assert len(list((tmp_path / "parts").glob("*.json"))) == 6  # resumable: one part per run
