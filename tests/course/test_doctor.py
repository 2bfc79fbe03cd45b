"""`segedu doctor`'s checks and table, in this process (tests/system/test_doctor_command.py runs the command)."""

from __future__ import annotations

from segedu.course.doctor import Check, format_table, run_checks


def test_table_lists_one_fix_per_problem() -> None:
    rows = [Check("a", "1"), Check("b", "missing", False, "install b"), Check("c", "bad", False, "fix c")]
    table = format_table(rows)
    assert "2 problem(s)" in table
    assert "  - b: install b" in table and "  - c: fix c" in table


def test_run_checks_in_process_covers_versions() -> None:
    names = [row.name for row in run_checks()]
    assert names[:3] == ["Python", "torch", "torchvision"]
    assert {"ipywidgets", "JupyterLab", "device", "data folder", "offline datasets"} <= set(names)


def test_data_folder_below_a_file_is_a_problem_with_a_fix(tmp_path, monkeypatch) -> None:
    # A folder below a regular file cannot be created, even by root.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(blocker / "data"))
    rows = {row.name: row for row in run_checks()}
    assert not rows["data folder"].ok and "SEGEDU_DATA_DIR" in rows["data folder"].fix
    assert "1 problem(s)" in format_table([rows["data folder"]])
