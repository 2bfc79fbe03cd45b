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
    headline_markdown,
    report_markdown,
    save_plot,
    update_readme,
)

ROOT = Path(__file__).resolve().parents[2]


def _timing(*samples: float) -> dict[str, Any]:
    ordered = sorted(samples)
    return {"median": ordered[len(ordered) // 2], "p95": ordered[-1], "samples": list(samples)}


def _training(model: str, dataset: str, seconds_per_step: float, reached: tuple[int, float] | None) -> dict[str, Any]:
    curve = [[50, 50 * seconds_per_step, 0.3], [100, 100 * seconds_per_step, 0.7]]
    return {
        "model": model, "dataset": dataset, "parameters": 1000, "steps": 100,
        "seconds_per_step": _timing(seconds_per_step, seconds_per_step, seconds_per_step), "curve": curve,
        "target": 0.6, "steps_to_target": None if reached is None else reached[0],
        "seconds_to_target": None if reached is None else reached[1],
    }


@pytest.fixture
def results() -> dict[str, Any]:
    return {
        "machine": {"line": "Test CPU, 2 cores"},
        "date": "2026-01-01",
        "part_seconds": {"notebooks": 400.0, "training": 200.0},
        "settings": {
            "notebooks": {"repeats": 3},
            "training": {"models": ["unet"], "reference": "ref", "datasets": ["shapes"], "steps": 100,
                         "eval_every": 50, "batch_size": 16, "lr": 3e-3, "seed": 0, "val_scenes": 64,
                         "targets": {"shapes": 0.6}},
            "inference": {"sizes": [64, 256]},
            "widgets": {"changes": 3},
        },
        "notebooks": [
            {"name": "00_welcome", "seconds": _timing(9.0, 10.0, 11.0), "peak_rss_bytes": 500 * 2**20},
            {"name": "01_slow", "seconds": _timing(70.0, 72.0, 75.0), "peak_rss_bytes": 3 * 2**30},
        ],
        "training": [
            _training("unet", "shapes", 0.1, (100, 10.0)),  # 10 steps/s, target in 10 s
            _training("ref", "shapes", 0.4, (100, 40.0)),  # 2.5 steps/s, target in 40 s
            _training("fcn32s", "shapes", 0.05, None),
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
    # segedu / reference: 10 vs 2.5 steps/s is 4.00x; 10 s vs 40 s to target is 0.25x.
    assert "| unet | 1,000 | 10.0 | 4.00× | 100 | 10.0 | 0.25× | 0.700 |" in text
    assert "| fcn32s | 1,000 | 20.0 | 8.00× | not reached | – | – | 0.700 |" in text
    assert "| reference U-Net (smp, ResNet-18) | 1,000 | 2.5 | 1.00× | 100 | 40.0 | 1.00× | 0.700 |" in text
    assert "| unet | 10.0 | 40.0 | 256 MB | 128 MB |" in text
    assert "| cost_explorer | 04 | 90.0 | 150.0 | depth (120.0) |" in text


def test_headline_names_the_machine_and_the_ratios(results: dict[str, Any]) -> None:
    text = headline_markdown(results)
    assert "Test CPU, 2 cores" in text
    assert "**Whole course:** 82 s for all 2 lessons; slowest lesson 72 s; peak memory 3,072 MB." in text
    assert "4.0× the training steps per second; reaches mean IoU 0.6 in 10 s against 40 s" in text
    assert "median update 6–90 ms, 95th percentile at most 150 ms" in text


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
    assert "4.0× the training steps per second" in readme.read_text()  # every part present: README rewritten
    results["machine"]["line"] = "Another CPU, 64 cores"
    (tmp_path / "benchmarks.json").write_text(json.dumps(results))
    with pytest.raises(SystemExit, match="mixes machines"):
        main(arguments)
