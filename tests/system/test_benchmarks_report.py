"""The benchmark report, plot and README headline, built from a small made-up result set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import main
from benchmarks.report import (
    README_END,
    README_START,
    course_totals,
    check_training_results,
    headline_markdown,
    median_curve,
    report_markdown,
    save_plot,
    training_summary,
    update_readme,
)

ROOT = Path(__file__).resolve().parents[2]


def _timing(*samples: float) -> dict[str, Any]:
    ordered = sorted(samples)
    return {"median": ordered[len(ordered) // 2], "p95": ordered[-1], "samples": list(samples)}


def _training(model: str, dataset: str, seed: int, speed: float, test_mean_iou: float,
              seconds_to_target: float | None) -> dict[str, Any]:
    curve = [[15.0, int(15 * speed), 0.3], [30.0, int(30 * speed), 0.6], [60.0, int(60 * speed), test_mean_iou]]
    return {
        "model": model, "dataset": dataset, "seed": seed, "parameters": 1000, "seconds": 60.0,
        "steps": int(60 * speed), "steps_per_second": speed, "curve": curve, "target": 0.6,
        "seconds_to_target": seconds_to_target, "test_mean_iou": test_mean_iou, "bfloat16": True, "threads": 2,
    }


def _training_settings() -> dict[str, Any]:
    return {
        "measure": "time budget", "models": ["unet", "fcn32s", "ref"], "reference": "ref", "datasets": ["shapes"],
        "seconds": 60.0, "seeds": [0, 1, 2], "observe_every": 15.0, "val_scenes": 64, "threads": 2,
        "recipe": {"batch_size": 32, "peak_lr": 5e-3, "warmup_fraction": 0.1, "weight_decay": 1e-4,
                   "pool_size": 12000, "bfloat16": "auto"},
        "targets": {"shapes": 0.6},
    }


@pytest.fixture
def results() -> dict[str, Any]:
    return {
        "machine": {"line": "Test CPU, 2 cores"},
        "date": "2026-01-01",
        "part_seconds": {"notebooks": 400.0, "training": 200.0},
        "settings": {
            "notebooks": {"repeats": 3},
            "training": _training_settings(),
            "inference": {"sizes": [64, 256]},
            "widgets": {"changes": 3},
        },
        "notebooks": [
            {"name": "00_welcome", "seconds": _timing(9.0, 10.0, 11.0), "peak_rss_bytes": 500 * 2**20},
            {"name": "01_slow", "seconds": _timing(70.0, 72.0, 75.0), "peak_rss_bytes": 3 * 2**30},
        ],
        "training": [
            # U-Net: 9, 10 and 12 steps/s; every seed reaches the target, after 30, 15 and 30 s.
            _training("unet", "shapes", 0, 10.0, 0.80, 30.0),
            _training("unet", "shapes", 1, 12.0, 0.90, 15.0),
            _training("unet", "shapes", 2, 9.0, 0.70, 30.0),
            # FCN-32s never gets there.
            *(_training("fcn32s", "shapes", seed, 20.0, 0.40, None) for seed in (0, 1, 2)),
            # Reference: 2.5 steps/s; two seeds of three reach the target, after 45 and 75 s (median 60 s).
            _training("ref", "shapes", 0, 2.5, 0.65, 45.0),
            _training("ref", "shapes", 1, 2.5, 0.50, None),
            _training("ref", "shapes", 2, 2.5, 0.75, 75.0),
        ],
        "inference": [
            {"model": "unet", "size": size, "seconds": _timing(0.01 * size / 64), "forward_bytes": 2**20 * size,
             "backward_bytes": 2**19 * size}
            for size in (64, 256)
        ],
        "widgets": [
            {"name": "scene_browser", "lesson": "00", "overall": _timing(0.004, 0.006, 0.010),
             "per_control": {"index": _timing(0.004, 0.006, 0.010)}},
            {"name": "cost_explorer", "lesson": "04", "overall": _timing(0.08, 0.09, 0.15),
             "per_control": {"width": _timing(0.08, 0.09, 0.1), "depth": _timing(0.1, 0.12, 0.15)}},
        ],
    }


def test_course_totals(results: dict[str, Any]) -> None:
    totals = course_totals(results)
    assert totals["seconds"] == pytest.approx(10.0 + 72.0)
    assert totals["slowest"] == "01_slow"
    assert totals["peak_rss_bytes"] == 3 * 2**30


def test_report_tables_and_goals(results: dict[str, Any]) -> None:
    text = report_markdown(results)
    assert text.startswith("# Benchmarks")
    assert "**Machine:** Test CPU, 2 cores" in text
    assert "| 00_welcome | 10.0 | 11.0 | 500 MB | yes |" in text
    assert "| 01_slow | 72.0 | 75.0 | 3,072 MB | **no** |" in text  # over 60 s is flagged
    assert "goal under 2 GB: **no**" in text
    # Medians over the seeds: U-Net 10 steps/s against 2.5 (4.00x), 30 s to target against 60 s (0.50x).
    assert "| unet | 1,000 | 10.0 | 4.00× | 0.800 (0.700–0.900) | 30 s (3 of 3 seeds) | 0.50× |" in text
    assert "| fcn32s | 1,000 | 20.0 | 8.00× | 0.400 (0.400–0.400) | not reached in 60 s | – |" in text
    assert "| reference U-Net (smp, ResNet-18) | 1,000 | 2.5 | 1.00× | 0.650 (0.500–0.750) | 60 s (2 of 3 seeds) " \
        "| 1.00× |" in text
    assert "### shapes (target: validation mean IoU ≥ 0.6)" in text
    assert "| test mean IoU after 60 s | time to 0.6 |" in text
    assert "60 s of training per run" in text and "seeds 0, 1, 2" in text and "batch 32" in text
    assert "peak learning rate 0.005" in text and "2 torch thread(s); bfloat16 autocast." in text
    assert "| unet | 10.0 | 40.0 | 256 MB | 128 MB |" in text
    assert "| cost_explorer | 04 | 90.0 | 150.0 | depth (120.0) |" in text


def test_headline_names_the_machine_and_the_ratios(results: dict[str, Any]) -> None:
    text = headline_markdown(results)
    assert "Test CPU, 2 cores" in text
    assert "**Whole course:** 82 s for all 2 lessons; slowest lesson 72 s; peak memory 3,072 MB." in text
    assert (
        "**U-Net vs reference U-Net (smp, ResNet-18), shapes:** test mean IoU after 60 s of training "
        "0.800 (0.700–0.900) against 0.650 (0.500–0.750) (median and range over 3 seeds); time to validation mean "
        "IoU 0.6: 30 s (3 of 3 seeds) against 60 s (2 of 3 seeds); 4.0× the training steps per second."
    ) in text
    assert "median update 6–90 ms, 95th percentile at most 150 ms" in text


def test_summary_over_seeds_and_median_curve() -> None:
    runs = [_training("unet", "shapes", 0, 10.0, 0.8, None), _training("unet", "shapes", 1, 12.0, 0.9, 20.0)]
    summary = training_summary(runs)
    # Two seeds: the median is the mean of both; only the seed that reached the target gives a time.
    assert summary["steps_per_second"] == pytest.approx(11.0) and summary["test_mean_iou"] == pytest.approx(0.85)
    assert (summary["test_mean_iou_min"], summary["test_mean_iou_max"]) == (0.8, 0.9)
    assert (summary["reached"], summary["seeds"], summary["seconds_to_target"]) == (1, 2, 20.0)
    # Point by point up to the shortest curve, plus every curve's last point (the end of the budget).
    curves = [[[15.0, 10, 0.2], [30.0, 20, 0.4], [60.0, 40, 0.9]],
              [[16.0, 10, 0.4], [61.0, 40, 0.7]],
              [[15.5, 10, 0.3], [30.5, 20, 0.5], [45.0, 30, 0.6], [62.0, 40, 0.8]]]
    seconds, mean_iou = median_curve(curves)
    assert seconds == [15.5, 61.0] and mean_iou == pytest.approx([0.3, 0.8])


def test_training_part_of_the_fixed_step_benchmark_is_refused(results: dict[str, Any]) -> None:
    results["settings"]["training"] = {"steps": 400, "eval_every": 50, "reference": "ref", "datasets": ["shapes"]}
    with pytest.raises(ValueError, match="older fixed-step benchmark.*--parts training --update"):
        report_markdown(results)
    with pytest.raises(ValueError, match="older fixed-step benchmark"):
        headline_markdown(results)


def test_readme_block_is_replaced_and_stays_put(tmp_path: Path, results: dict[str, Any]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{README_START}\nold numbers\n{README_END}\n\n## After\n")
    update_readme(readme, results)
    first = readme.read_text()
    assert "old numbers" not in first
    assert first.startswith("# Title\n\n") and first.endswith("\n\n## After\n")
    assert headline_markdown(results) in first
    update_readme(readme, results)
    assert readme.read_text() == first  # idempotent
    readme.write_text("# No markers\n")
    with pytest.raises(ValueError, match="needs the lines"):
        update_readme(readme, results)


def test_plot_is_a_png(tmp_path: Path, results: dict[str, Any]) -> None:
    path = tmp_path / "plots" / "benchmarks.png"
    save_plot(results, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [item.name for item in path.parent.iterdir()] == ["benchmarks.png"]  # no temporary left behind


def test_the_readme_quotes_the_committed_benchmark() -> None:
    # make bench writes docs/benchmarks.json and the README block together; they must agree.
    committed = json.loads((ROOT / "docs" / "benchmarks.json").read_text())
    try:
        check_training_results(committed)
    except ValueError:
        pytest.skip("docs/benchmarks.json predates the time-budgeted training benchmark: rerun make bench")
    readme = (ROOT / "README.md").read_text()
    block = readme.split(README_START, 1)[1].split(README_END, 1)[0]
    assert block.strip() == headline_markdown(committed).strip()
    assert (ROOT / "docs" / "benchmarks.md").read_text() == report_markdown(committed)


def test_command_line_writes_the_report_for_a_subset(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"{README_START}\n{README_END}\n")
    code = main(["--parts", "widgets", "--widget-changes", "3", "--output-dir", str(tmp_path), "--readme", str(readme),
                 "--no-progress"])
    assert code == 0
    written = json.loads((tmp_path / "benchmarks.json").read_text())
    assert len(written["widgets"]) > 5 and "notebooks" not in written
    assert "## Widgets" in (tmp_path / "benchmarks.md").read_text()
    assert (tmp_path / "benchmarks.png").exists()
    assert readme.read_text() == f"{README_START}\n{README_END}\n"  # a partial run leaves the README alone
    with pytest.raises(SystemExit, match="unknown part"):
        main(["--parts", "widgets,gpu", "--output-dir", str(tmp_path)])


def test_update_keeps_the_other_parts_of_the_same_machine(tmp_path: Path, results: dict[str, Any]) -> None:
    from benchmarks.machine import describe_machine

    readme = tmp_path / "README.md"
    readme.write_text(f"{README_START}\n{README_END}\n")
    results["machine"]["line"] = describe_machine(1).line()
    (tmp_path / "benchmarks.json").write_text(json.dumps(results))
    arguments = ["--parts", "widgets", "--widget-changes", "3", "--output-dir", str(tmp_path), "--readme",
                 str(readme), "--no-progress", "--update"]
    assert main(arguments) == 0
    updated = json.loads((tmp_path / "benchmarks.json").read_text())
    assert updated["notebooks"] == results["notebooks"] and updated["training"] == results["training"]
    assert len(updated["widgets"]) > 2  # measured anew: every lesson widget, not the fixture's two
    assert set(updated["part_seconds"]) == {"notebooks", "training", "widgets"}
    today = updated["date"]
    assert updated["part_dates"] == {"notebooks": "2026-01-01", "training": "2026-01-01", "widgets": today}
    assert "4.0× the training steps per second" in readme.read_text()  # every part present: README rewritten
    assert f"notebooks 2026-01-01, training 2026-01-01, widgets {today}" in readme.read_text()
    # A saved training part from the older fixed-step benchmark cannot be kept: it is refused before measuring.
    results["settings"]["training"] = {"steps": 400, "eval_every": 50, "reference": "ref"}
    (tmp_path / "benchmarks.json").write_text(json.dumps(results))
    with pytest.raises(SystemExit, match="older fixed-step benchmark"):
        main(arguments)
    results["settings"]["training"] = _training_settings()
    results["machine"]["line"] = "Another CPU, 64 cores"
    (tmp_path / "benchmarks.json").write_text(json.dumps(results))
    with pytest.raises(SystemExit, match="mixes machines"):
        main(arguments)


def test_training_part_runs_every_model_dataset_and_seed_on_the_training_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    import benchmarks.training
    from benchmarks.training import REFERENCE, TRAINING_MODELS, TrainingRun

    calls = []

    def fake_benchmark(name: str, dataset: str, **options: Any) -> TrainingRun:
        calls.append((name, dataset, options["seed"], options["target"], options["seconds"], torch.get_num_threads()))
        return TrainingRun(
            model=name, dataset=dataset, seed=options["seed"], parameters=10, seconds=options["seconds"], steps=20,
            steps_per_second=8.0 if name == REFERENCE else 4.0, curve=((5.0, 20, 0.5),), target=options["target"],
            seconds_to_target=None, test_mean_iou=0.5 + options["seed"] / 20, bfloat16=False,
            threads=torch.get_num_threads(),
        )

    monkeypatch.setattr(benchmarks.training, "benchmark_training", fake_benchmark)
    readme = tmp_path / "README.md"
    readme.write_text(f"{README_START}\n{README_END}\n")
    code = main(["--parts", "training", "--seconds", "5", "--seeds", "4", "6", "--training-threads", "2",
                 "--threads", "3", "--output-dir", str(tmp_path), "--readme", str(readme), "--no-progress"])
    assert code == 0
    assert len(calls) == len(TRAINING_MODELS) * 2 * 2
    assert {(name, dataset, seed) for name, dataset, seed, *_ in calls} == {
        (name, dataset, seed) for name in TRAINING_MODELS for dataset in ("shapes", "digits") for seed in (4, 6)
    }
    assert {(dataset, target) for _, dataset, _, target, _, _ in calls} == {("shapes", 0.9), ("digits", 0.8)}
    assert {(seconds, threads) for *_, seconds, threads in calls} == {(5.0, 2)}
    assert torch.get_num_threads() == 3  # back to the inference setting (--threads 3) afterwards
    headline = readme.read_text()  # the training part alone rewrites the README, without the parts it lacks
    assert "U-Net vs" in headline and "Whole course" not in headline and "Widgets" not in headline
    assert not (tmp_path / "benchmarks.training-runs.jsonl").exists()  # the journal goes once the part is complete
    text = (tmp_path / "benchmarks.md").read_text()
    # Seeds 4 and 6 score 0.7 and 0.8: the median of two is their mean; half the reference's speed.
    assert "| smp U-Net (MobileNet-V2) | 10 | 4.0 | 0.50× | 0.750 (0.700–0.800) | not reached in 5 s | – |" in text
    with pytest.raises(SystemExit, match="--seeds must differ"):
        main(["--parts", "training", "--seeds", "1", "1", "--output-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="--seconds must be positive"):
        main(["--parts", "training", "--seconds", "0", "--output-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="must include the reference"):
        main(["--parts", "training", "--models", "unet", "--output-dir", str(tmp_path)])
    # An interrupted part resumes: runs in the journal with the same settings are not trained again.
    arguments = ["--parts", "training", "--models", "unet", "smp_unet_resnet18", "--seeds", "4", "--seconds", "5",
                 "--output-dir", str(tmp_path), "--readme", str(readme), "--no-progress"]
    calls.clear()
    assert main(arguments) == 0
    first = json.loads((tmp_path / "benchmarks.json").read_text())
    assert {(name, dataset) for name, dataset, *_ in calls} == {
        (name, dataset) for name in ("unet", "smp_unet_resnet18") for dataset in ("shapes", "digits")
    }
    journal = tmp_path / "benchmarks.training-runs.jsonl"
    kept = first["training"][0]
    journal.write_text(json.dumps({"settings": first["settings"]["training"], "run": kept}) + "\n"
                       + json.dumps({"settings": {"seconds": 1.0}, "run": first["training"][1]}) + "\n")
    calls.clear()
    assert main(arguments) == 0
    assert len(calls) == 3 and (kept["model"], kept["dataset"], kept["seed"]) not in {tuple(call[:3]) for call in calls}
    assert json.loads((tmp_path / "benchmarks.json").read_text())["training"][0] == kept
    assert not journal.exists()
