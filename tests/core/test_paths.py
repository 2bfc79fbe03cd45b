"""Tests for segedu.core.paths: where data lives and the writable-folder check."""

import os
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


def _assert_helpful(error: pytest.ExceptionInfo, folder: Path) -> None:
    message = str(error.value)
    assert "\n" not in message
    assert str(folder) in message
    assert "SEGEDU_DATA_DIR" in message and "chmod" in message


def test_folder_below_a_regular_file_is_refused(tmp_path):
    # Works even as root: no permission bits can make a file act as a folder.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "data"
    with pytest.raises(PermissionError) as error:
        paths.ensure_writable(folder)
    _assert_helpful(error, folder)


def test_failing_probe_file_is_reported(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(PermissionError) as error:
        paths.ensure_writable(tmp_path)
    _assert_helpful(error, tmp_path)
    assert "Read-only file system" in str(error.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores chmod")
def test_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as error:
            paths.ensure_writable(folder)
        _assert_helpful(error, folder)
    finally:
        folder.chmod(0o700)
