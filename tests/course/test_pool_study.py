"""The pool studies' kept runs: reused under the same settings only."""

from __future__ import annotations

from pathlib import Path

from experiments._pool_study import cached_run, settings_fingerprint


def test_a_kept_run_is_reused_only_under_the_same_settings(tmp_path: Path) -> None:
    calls = []

    def compute() -> dict:
        calls.append(len(calls))
        return {"score": len(calls)}

    settings = {"steps": 10, "loss": {"name": "dice", "smooth": 1.0}}
    first = cached_run(tmp_path, "run_0", settings, compute)
    again = cached_run(tmp_path, "run_0", {"loss": {"smooth": 1.0, "name": "dice"}, "steps": 10}, compute)
    assert first["score"] == again["score"] == 1 and len(calls) == 1  # same settings, any key order: reused
    changed = cached_run(tmp_path, "run_0", {**settings, "loss": {"name": "dice", "smooth": 0.5}}, compute)
    assert changed["score"] == 2 and len(calls) == 2  # a nested setting changed: trained again, kept apart
    assert len(list(tmp_path.glob("run_0_*.json"))) == 2 and first["cpu_seconds"] >= 0


def test_the_fingerprint_is_twelve_hex_digits_that_follow_every_value() -> None:
    fingerprint = settings_fingerprint({"steps": 1000, "lr": 0.003})
    assert len(fingerprint) == 12 and int(fingerprint, 16) >= 0
    assert fingerprint == settings_fingerprint({"lr": 0.003, "steps": 1000})
    assert fingerprint not in {settings_fingerprint({"steps": 1001, "lr": 0.003}),
                               settings_fingerprint({"steps": 1000, "lr": 0.0031}),
                               settings_fingerprint({"steps": 1000})}
