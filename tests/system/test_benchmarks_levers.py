"""The speed levers of the three-minute recipe: every lever timed with and without it, in one run."""

from __future__ import annotations

import pytest

from benchmarks.levers import LeverResult, benchmark_levers
from benchmarks.report import report_markdown
from benchmarks.timing import summarize


@pytest.fixture(scope="module")
def levers() -> list[LeverResult]:
    return benchmark_levers(steps=1, rounds=3, batch_size=2)


def test_every_lever_is_timed_both_ways(levers: list[LeverResult]) -> None:
    names = [item.lever for item in levers]
    assert names[0].startswith("bfloat16") and any("rendered once" in name for name in names)
    assert any("channels-last" in name for name in names) and any("threads (vs 1)" in name for name in names)
    for item in levers:
        assert len(item.with_lever.samples) == len(item.without_lever.samples) == 3
        assert item.speedup == pytest.approx(item.without_lever.median / item.with_lever.median)
    assert {item.lever.split(" ")[0]: item.kept for item in levers}["channels-last"] is False


def test_levers_refuse_too_few_rounds() -> None:
    with pytest.raises(ValueError, match="rounds must be at least 3"):
        benchmark_levers(rounds=2)


def test_the_report_prints_each_lever_and_its_ratio() -> None:
    fast, slow = summarize([0.1, 0.1, 0.1]), summarize([0.2, 0.3, 0.2])
    results = {
        "machine": {"line": "test machine"}, "date": "2026-12-01", "part_seconds": {"levers": 6.0},
        "settings": {"levers": {"model": "unet", "dataset": "digits", "steps": 20, "rounds": 3, "batch_size": 32}},
        "levers": [
            {"lever": "bfloat16 autocast (vs float32)", "with_lever": fast.__dict__, "without_lever": slow.__dict__,
             "speedup": 2.0, "kept": True},
            {"lever": "channels-last memory (vs the default layout)", "with_lever": slow.__dict__,
             "without_lever": fast.__dict__, "speedup": 0.5, "kept": False},
        ],
    }
    text = report_markdown(results)
    assert "| bfloat16 autocast (vs float32) | 100 | 200 | 2.00× | yes |" in text
    assert "| channels-last memory (vs the default layout) | 200 | 100 | 0.50× | no |" in text
