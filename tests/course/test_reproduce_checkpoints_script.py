"""The reproduction study: each manifest command rerun into a new file, never over the shipped one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from experiments import reproduce_checkpoints
from segedu.course.cli import build_parser as cli_parser
from segedu.course.experiments import load_experiment
from segedu.training.checkpoints import file_sha256
from segedu.training.shipped import CHECKPOINT_DIR, read_manifest


@pytest.mark.parametrize("key", sorted(read_manifest()))
def test_the_rerun_command_is_the_manifest_command_writing_elsewhere(key: str, tmp_path: Path) -> None:
    entry = read_manifest()[key]
    command = reproduce_checkpoints.reproduction_command(entry["command"], tmp_path / "x.pt")
    assert command[:3] == [sys.executable, "-m", "segedu"]
    shipped = vars(cli_parser().parse_args(entry["command"].split()[1:]))
    rerun = vars(cli_parser().parse_args(command[3:]))
    assert shipped.pop("ship") and not rerun.pop("ship")
    assert shipped.pop("output") is None and rerun.pop("output") == str(tmp_path / "x.pt")
    assert rerun == shipped  # model, dataset, steps, seed, threads, force: all as shipped


def test_a_command_that_does_not_ship_is_refused_with_the_command() -> None:
    with pytest.raises(ValueError, match="segedu train unet digits --steps 4"):
        reproduce_checkpoints.reproduction_command("segedu train unet digits --steps 4", Path("x.pt"))


def test_threads_replace_only_the_thread_count_and_bad_counts_are_refused_with_the_value(tmp_path: Path) -> None:
    manifest_command = read_manifest()["unet-digits"]["command"]
    one = reproduce_checkpoints.reproduction_command(manifest_command, tmp_path / "x.pt")
    two = reproduce_checkpoints.reproduction_command(manifest_command, tmp_path / "x.pt", threads=2)
    assert "--threads" in one and one[one.index("--threads") + 1] == "1"
    changed = [(first, second) for first, second in zip(one, two, strict=True) if first != second]
    assert changed == [("1", "2")] and two[two.index("--threads") + 1] == "2"
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=repr(bad)):
            reproduce_checkpoints.reproduction_command(manifest_command, tmp_path / "x.pt", threads=bad)
    with pytest.raises(ValueError, match="no --threads"):
        reproduce_checkpoints.reproduction_command("segedu train unet digits --ship", tmp_path / "x.pt", threads=2)


def test_the_largest_difference_is_the_largest_entry_of_any_tensor() -> None:
    first = {"a": torch.zeros(2, 3), "b": torch.ones(4), "empty": torch.zeros(0)}
    second = {"a": torch.zeros(2, 3), "b": torch.ones(4), "empty": torch.zeros(0)}
    assert reproduce_checkpoints._largest_difference(first, second) == 0.0
    second["a"][1, 2] = -0.25
    second["b"][0] = 1.125
    assert reproduce_checkpoints._largest_difference(first, second) == 0.25
    with pytest.raises(ValueError, match="different tensors"):
        reproduce_checkpoints._largest_difference(first, {"a": first["a"]})


def test_the_summary_reads_minutes_per_thread_count_identical_runs_and_the_largest_move_from_the_runs() -> None:
    def run(key: str, threads: int, cpu: float, wall: float, shipped: float, new: float, same: bool) -> dict:
        return {"checkpoint": key, "threads": threads, "cpu_seconds": cpu, "wall_seconds": wall,
                "shipped_test_mean_iou": shipped, "test_metrics": {"mean_iou": new}, "same_weights": same}

    runs = {"a": run("a", 1, 60.0, 90.0, 0.5, 0.52, False), "b": run("b", 1, 960.0, 990.0, 0.8, 0.75, True),
            "c": run("c", 2, 1200.0, 630.0, 0.7, 0.7, True), "d": run("d", 2, 1300.0, 930.0, 0.6, 0.61, False)}
    assert reproduce_checkpoints.summary({"runs": runs}) == (
        "the 2 one-thread commands used 1.0 to 16.0 CPU-minutes (1 of 2 under 15); the 2 commands with 2 threads "
        "(c, d) took 10.5 to 15.5 minutes of wall time (1 of 2 under 15); 2 of 4 came out with the shipped weights, "
        "and test mean IoU moved by -0.050 to +0.020 (the largest move: b, 0.800 shipped, 0.750 rerun)")


def test_the_threads_summary_reads_each_run_and_refuses_mixed_thread_counts() -> None:
    def run(key: str, threads: int, wall: float, cpu: float, new: float, shipped: float) -> dict:
        return {"checkpoint": key, "threads": threads, "wall_seconds": wall, "cpu_seconds": cpu,
                "test_metrics": {"mean_iou": new}, "shipped_test_mean_iou": shipped}

    runs = {"a": run("a", 2, 540.0, 1020.0, 0.8044, 0.798), "b": run("b", 2, 600.0, 1100.0, 0.81, 0.834)}
    assert reproduce_checkpoints.threads_summary({"runs": runs}) == (
        "with --threads 2 in place of --threads 1 and nothing else changed: a 9.0 minutes of wall time (17.0 "
        "CPU-minutes), test mean IoU 0.804 (shipped 0.798); b 10.0 minutes of wall time (18.3 CPU-minutes), test "
        "mean IoU 0.810 (shipped 0.834)")
    runs["b"]["threads"] = 1
    with pytest.raises(ValueError, match=r"\[1, 2\]"):
        reproduce_checkpoints.threads_summary({"runs": runs})


def test_an_unknown_checkpoint_is_refused_with_its_name(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["reproduce_checkpoints", "--checkpoints", "unet-photos"])
    with pytest.raises(SystemExit):
        reproduce_checkpoints.main()
    assert "unet-photos" in capsys.readouterr().err


@pytest.mark.system  # trains a U-Net for 2 steps through the command line and scores it: about 10 s
def test_a_short_rerun_writes_a_new_file_compares_it_and_resumes(tmp_path: Path, monkeypatch) -> None:
    entry = dict(read_manifest()["unet-digits"])
    entry["command"] = entry["command"].replace("--steps 4000", "--steps 2")
    shipped_before = file_sha256(CHECKPOINT_DIR / entry["file"])
    run = reproduce_checkpoints.one_run("unet-digits", entry, tmp_path, progress=False)
    assert file_sha256(CHECKPOINT_DIR / entry["file"]) == shipped_before == entry["sha256"]  # untouched
    assert (tmp_path / "unet-digits.pt").is_file() and "--output" in run["command"] and "--ship" not in run["command"]
    assert run["wall_seconds"] >= run["train_seconds"] > 0 and run["cpu_seconds"] > 0
    assert not run["same_weights"] and run["largest_weight_difference"] > 0 and not run["same_file"]
    assert run["test_metrics"]["mean_iou"] < run["shipped_test_mean_iou"]  # 2 steps against 4000
    assert [step for step, _ in run["val_curve"]] == [2]

    def no_training(*arguments, **keywords):
        raise AssertionError("a finished run must be read back, not trained again")

    monkeypatch.setattr(subprocess, "run", no_training)
    assert reproduce_checkpoints.one_run("unet-digits", entry, tmp_path) == run


def test_the_shipped_record_reran_every_current_checkpoint_by_its_own_command() -> None:
    """The record goes stale when a checkpoint is re-shipped: rerun the study then (its docstring says how)."""
    record = load_experiment("reproduce_checkpoints")
    manifest = read_manifest()
    assert sorted(record["results"]["runs"]) == sorted(manifest)
    for key, run in record["results"]["runs"].items():
        assert run["manifest_command"] == manifest[key]["command"]
        assert run["shipped_test_mean_iou"] == manifest[key]["test_metrics"]["mean_iou"]
        assert run["same_weights"] or not run["same_file"]  # the same file holds the same weights
        rerun = vars(cli_parser().parse_args(run["command"].split()[1:]))
        shipped = vars(cli_parser().parse_args(manifest[key]["command"].split()[1:]))
        assert rerun.pop("output").endswith(f"{key}.pt") and shipped.pop("output") is None
        assert not rerun.pop("ship") and shipped.pop("ship") and rerun == shipped
        assert 0 < run["cpu_seconds"] <= run["wall_seconds"] * run["threads"] * 1.05  # no more CPU than threads


def test_the_readme_quotes_the_shipped_reproduction_record() -> None:
    record = load_experiment("reproduce_checkpoints")
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    assert reproduce_checkpoints.summary(record["results"]) in readme
    runs = record["results"]["runs"].values()
    # "every shipped checkpoint is reproducible within 15 minutes on 2 cores": one-thread commands by their processor
    # time (their wall time on an idle core), SegNet's two-thread commands by their wall time
    assert all(run["cpu_seconds"] < 15 * 60 for run in runs if run["threads"] == 1)
    assert sorted(run["checkpoint"] for run in runs if run["threads"] == 2) == ["segnet-digits", "segnet-shapes"]
    assert all(run["wall_seconds"] < 15 * 60 for run in runs if run["threads"] == 2)


def test_the_readme_quotes_the_two_thread_record_and_its_stall() -> None:
    record = load_experiment("reproduce_checkpoints_threads2")
    runs, manifest = record["results"]["runs"], read_manifest()
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    assert reproduce_checkpoints.threads_summary(record["results"]) in readme
    assert all(run["threads"] == 2 and run["wall_seconds"] < 15 * 60 for run in runs.values())  # "Both fit 15 minutes"
    for key, run in runs.items():  # the recipe shipped then: one thread, no prior bias (SegNet's recipe has both now)
        assert run["manifest_command"] != manifest[key]["command"] and "--prior-bias" not in run["command"]
        rerun = vars(cli_parser().parse_args(run["command"].split()[1:]))
        shipped = vars(cli_parser().parse_args(run["manifest_command"].split()[1:]))
        assert (rerun.pop("threads"), shipped.pop("threads")) == (2, 1)
        assert not rerun.pop("ship") and shipped.pop("ship") and rerun.pop("output") and not shipped.pop("output")
        assert rerun == shipped  # nothing else changed
    stalled = dict(runs["segnet-shapes"]["val_curve"])
    shipped_curve = dict(manifest["segnet-shapes"]["val_curve"])
    early = [value for step, value in stalled.items() if step <= 2500]
    assert f"validation mean IoU {min(early):.2f} to {max(early):.2f} from step 250 to step 2,500" in readme
    assert f"where today's shipped run had reached {shipped_curve[2500]:.3f}" in readme
    assert max(early) < 0.5 < shipped_curve[2500]  # "stalled"


def test_an_update_keeps_only_runs_whose_checkpoint_is_still_the_shipped_one() -> None:
    manifest = {key: {"command": f"segedu train {key} --ship", "test_metrics": {"mean_iou": 0.5}}
                for key in ("a-shapes", "b-shapes", "c-shapes")}
    runs = {key: {"manifest_command": entry["command"], "shipped_test_mean_iou": 0.5,
                  "command": f"segedu train {key} --threads 3 --output x.pt"} for key, entry in manifest.items()}
    record = {"results": {"runs": runs}}
    kept = reproduce_checkpoints.kept_runs(record, manifest, ["b-shapes"])
    assert sorted(kept) == ["a-shapes", "c-shapes"] and kept["a-shapes"]["threads"] == 3  # read from its command
    manifest["a-shapes"]["command"] += " --prior-bias"  # a-shapes re-shipped with another command
    with pytest.raises(ValueError, match="a-shapes.*re-shipped"):
        reproduce_checkpoints.kept_runs(record, manifest, ["b-shapes"])
    assert sorted(reproduce_checkpoints.kept_runs(record, manifest, ["a-shapes"])) == ["b-shapes", "c-shapes"]
    manifest["d-shapes"] = manifest["c-shapes"]  # a checkpoint the record never ran
    with pytest.raises(ValueError, match="no run of d-shapes"):
        reproduce_checkpoints.kept_runs(record, manifest, ["a-shapes"])
