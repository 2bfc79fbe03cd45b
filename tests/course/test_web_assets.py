"""segedu.course.web_assets: pinned npm tarballs, checked by hash, unpacked to the few files pages need."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from segedu.course import web_assets
from segedu.course.web_assets import PACKAGES, WIDGETS_LOADER, NpmPackage, fetch_packages, install_web_assets


def _tarball(files: dict[str, bytes]) -> bytes:
    """An npm-style tarball: every file below ``package/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _integrity(content: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(content).digest()).decode()


FILES = {"dist/reveal.js": b"reveal", "dist/theme/white.css": b"white", "dist/theme/simple.css": b"simple",
         "plugin/notes/notes.js": b"notes", "test/big.js": b"not needed"}
CONTENT = _tarball(FILES)
PACKAGE = NpmPackage("@scope/demo", "1.2.3", _integrity(CONTENT), "demo", ("dist", "plugin/notes"),
                     skip=("dist/theme/simple.css",))


def test_the_tarball_name_is_npm_packs() -> None:
    assert PACKAGE.tarball_name == "scope-demo-1.2.3.tgz"
    assert NpmPackage("reveal.js", "4.0.2", "", "reveal.js", ()).tarball_name == "reveal.js-4.0.2.tgz"


def test_wants_keeps_named_files_and_folders_but_not_skipped_ones() -> None:
    assert PACKAGE.wants("dist/reveal.js") and PACKAGE.wants("plugin/notes/notes.js")
    assert not PACKAGE.wants("dist/theme/simple.css")
    assert not PACKAGE.wants("test/big.js")
    assert not PACKAGE.wants("distant/file.js")  # a prefix of a name is not a folder


def test_a_cached_tarball_is_unpacked_without_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / PACKAGE.tarball_name).write_bytes(CONTENT)
    monkeypatch.setattr(web_assets, "_npm_pack", lambda *arguments: pytest.fail("downloaded a cached package"))
    written = install_web_assets(tmp_path / "cache", tmp_path / "assets", [PACKAGE])
    names = sorted(path.relative_to(tmp_path / "assets").as_posix() for path in written)
    assert names == ["demo/dist/reveal.js", "demo/dist/theme/white.css", "demo/plugin/notes/notes.js"]
    assert (tmp_path / "assets" / "demo" / "dist" / "reveal.js").read_bytes() == b"reveal"


def test_a_tarball_with_the_wrong_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_pack(package: NpmPackage, cache_dir: Path) -> None:
        (cache_dir / package.tarball_name).write_bytes(_tarball({"dist/reveal.js": b"tampered"}))

    monkeypatch.setattr(web_assets, "_npm_pack", fake_pack)
    with pytest.raises(RuntimeError, match="not the pinned"):
        fetch_packages(tmp_path, [PACKAGE])
    assert not (tmp_path / PACKAGE.tarball_name).exists()


def test_a_missing_npm_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_assets.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install npm"):
        fetch_packages(tmp_path, [PACKAGE])


def test_the_widgets_renderer_comes_with_its_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = _tarball({"dist/embed-amd.js": b"renderer"})
    manager = NpmPackage("@jupyter-widgets/html-manager", "1.0.12", _integrity(content), "html-manager", ("dist",))
    (tmp_path / manager.tarball_name).write_bytes(content)
    install_web_assets(tmp_path, tmp_path / "assets", [manager])
    loader = (tmp_path / "assets" / WIDGETS_LOADER).read_text()
    assert "html-manager/dist/" in loader and "embed-amd.js" in loader


def test_every_pinned_package_has_a_sha512_and_its_own_folder() -> None:
    assert all(package.integrity.startswith("sha512-") for package in PACKAGES)
    assert len({package.folder for package in PACKAGES}) == len(PACKAGES)
