"""Tests for segedu.core.paths: where data lives and the writable-folder check."""

import tempfile
from pathlib import Path

import pytest

from segedu.core import paths


def test_environment_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(tmp_path / "chosen"))
    assert paths.data_dir() == tmp_path / "chosen"


def test_environment_variable_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SEGEDU_DATA_DIR", "~/segedu-data")
    assert paths.data_dir() == tmp_path / "segedu-data"


def test_checkout_uses_its_data_folder(monkeypatch):
    monkeypatch.setenv("SEGEDU_DATA_DIR", "")  # empty counts as unset
    checkout = Path(paths.__file__).resolve().parents[2]
    if not (checkout / "pyproject.toml").is_file():
        pytest.skip("segedu is installed, not running from a source checkout")
    assert paths.data_dir() == checkout / "data"


def test_installed_package_uses_user_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGEDU_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # Pretend the module lives in site-packages: no pyproject.toml above it.
    fake_module = tmp_path / "site-packages" / "segedu" / "core" / "paths.py"
    monkeypatch.setattr(paths, "__file__", str(fake_module))
    assert paths.data_dir() == tmp_path / "home" / ".cache" / "segedu"


def test_data_dir_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(tmp_path / "not-yet"))
    paths.data_dir()
    assert not (tmp_path / "not-yet").exists()


def test_ensure_writable_creates_nested_folder_and_leaves_it_clean(tmp_path):
    folder = tmp_path / "a" / "b" / "c"
    assert paths.ensure_writable(folder) == folder
    assert folder.is_dir()
    assert list(folder.iterdir()) == []  # the probe file is gone


def _assert_one_line_naming(error: pytest.ExceptionInfo, *names: object) -> str:
    message = str(error.value)
    assert "\n" not in message
    for name in names:
        assert str(name) in message, f"{name} is missing from {message!r}"
    return message


def test_folder_below_a_regular_file_is_refused(tmp_path):
    # Works even as root: no permission bits let a folder be created below a regular file.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "deeper" / "data"
    with pytest.raises(PermissionError) as error:
        paths.ensure_writable(folder)
    message = _assert_one_line_naming(error, folder, blocker, "SEGEDU_DATA_DIR", tmp_path / "segedu-data")
    assert "chmod" not in message  # no permission change can help here
    assert blocker.read_text() == "not a folder" and not (tmp_path / "segedu-data").exists()


def test_folder_that_is_a_regular_file_is_refused(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    with pytest.raises(PermissionError) as error:
        paths.ensure_writable(blocker)
    message = _assert_one_line_naming(error, blocker, "SEGEDU_DATA_DIR")
    assert "is a file" in message


def test_variable_pointing_at_a_file_is_named_as_the_cause(tmp_path, monkeypatch):
    blocker = tmp_path / "data.txt"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(blocker))
    with pytest.raises(PermissionError) as error:
        paths.ensure_writable(paths.data_dir() / "digits")
    _assert_one_line_naming(error, f"SEGEDU_DATA_DIR={blocker}")


def test_failing_probe_file_is_reported(tmp_path, monkeypatch):
    # A folder that exists but refuses new files (read-only mount, chmod -w); root-proof because
    # the refusal is simulated where the check writes its probe file.
    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(PermissionError) as error:
        paths.ensure_writable(tmp_path)
    _assert_one_line_naming(error, tmp_path, "SEGEDU_DATA_DIR", "Read-only file system", f"chmod u+w {tmp_path}")
