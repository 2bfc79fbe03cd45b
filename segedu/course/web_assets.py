"""Local copies of the JavaScript that the slides and the course website load, so both work offline.

nbconvert's reveal.js decks and the Sphinx site load reveal.js, require.js, jQuery, MathJax and the
Jupyter widgets renderer from public CDNs by default; opened in a classroom without internet, a deck
then degrades to one long page and formulas stay raw TeX. This module fetches those packages once
from the npm registry (``npm pack``, pinned versions whose sha512 is checked), keeps the tarballs in a
cache folder, and unpacks the few files each page needs next to the decks or into the site.

Example:
    ``python -m segedu.course.web_assets build/web-assets build/slides/assets`` fetches the pinned
    packages into ``build/web-assets/`` (first time only) and unpacks them into ``build/slides/assets/``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["PACKAGES", "WIDGETS_LOADER", "NpmPackage", "fetch_packages", "install_web_assets", "main"]


@dataclass(frozen=True)
class NpmPackage:
    """One pinned package from the npm registry and the part of it a page needs.

    Attributes:
        name: The package name on the npm registry, e.g. ``"reveal.js"``.
        version: The exact version.
        integrity: The registry's ``dist.integrity`` for that version (``sha512-`` and base64).
        folder: Where the files go below the assets folder, e.g. ``"reveal.js"``.
        keep: Paths inside the package (files or folders) to unpack; everything else is left out.
        skip: Paths inside kept folders to leave out all the same.
    """

    name: str
    version: str
    integrity: str
    folder: str
    keep: tuple[str, ...]
    skip: tuple[str, ...] = ()

    @property
    def tarball_name(self) -> str:
        """The file name ``npm pack`` gives the tarball, e.g. ``jupyter-widgets-html-manager-1.0.12.tgz``."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"

    def wants(self, member: str) -> bool:
        """Whether ``member`` (a path inside the package, without its ``package/`` prefix) is unpacked."""
        path = PurePosixPath(member)

        def under(prefixes: tuple[str, ...]) -> bool:
            return any(path == PurePosixPath(prefix) or PurePosixPath(prefix) in path.parents for prefix in prefixes)

        return under(self.keep) and not under(self.skip)


PACKAGES: tuple[NpmPackage, ...] = (
    # The reveal.js version nbconvert's slides template is written for (its default CDN URL names 4.0.2);
    # the "white" theme is the one whose fonts ship with the package (the others import Google Fonts).
    NpmPackage(
        "reveal.js", "4.0.2",
        "sha512-LWZSUenufF1gpD7npxJ7KfoQQFKgc1D6XrLTFgKlwWNP1BQ74hT48KONFWMAw+8R/QUeaScCLCLrBVHDfFIEiw==",
        "reveal.js",
        ("LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "dist/theme/fonts/source-sans-pro",
         "plugin/notes/notes.js", "plugin/notes/speaker-view.html"),
    ),
    # nbconvert's template loads reveal.js through require.js (2.1.10 by default) and uses jQuery.
    NpmPackage(
        "requirejs", "2.1.10",
        "sha512-4JqdTihK3kOnT387LxCHuJZ/9QsKg2EIl7LmaW35PIyM4LwCI2jwyy4fy6pbY/ZZH2JoY/QEcb5PzULFPP6gcQ==",
        "requirejs", ("require.js",),
    ),
    NpmPackage(
        "jquery", "2.2.4",
        "sha512-lBHj60ezci2u1v2FqnZIraShGgEXq35qCzMv4lITyHGppTnA13rwR0MgwyNJh9TnDs3aXUvd1xjAotfraMHX/Q==",
        "jquery", ("LICENSE.txt", "dist/jquery.min.js"),
    ),
    # MathJax 2 for the decks (the template configures it through MathJax.Hub): TeX in, CommonHTML out.
    NpmPackage(
        "mathjax", "2.7.7",
        "sha512-OOl0B2/0tSJAtAZarXnQuLDBLgTNRqiI9VqHTQzPsxf4okT2iIpDrvaklK9x2QEMD1sDj4yRn11Ygci41DxMAQ==",
        "mathjax2",
        ("LICENSE", "MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX", "jax/element",
         "jax/output/CommonHTML", "fonts/HTML-CSS/TeX/woff", "localization/en"),
        skip=("extensions/a11y",),
    ),
    # MathJax 3 for the website (Sphinx's default MathJax).
    NpmPackage(
        "mathjax", "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "mathjax3", ("LICENSE", "es5/tex-chtml.js", "es5/output/chtml/fonts/woff-v2"),
    ),
    # Renders saved widget state (sliders, outputs) in a static page; the one ipywidgets 8 uses.
    NpmPackage(
        "@jupyter-widgets/html-manager", "1.0.12",
        "sha512-gy1+0LQl64sj2OLcnYkGjun6nCKRh1UTTwfLgLqJL9ttS+7s9oYXVj5ODHeOk4estGbWf7IrJZGYMhLhf3kcQQ==",
        "html-manager", ("LICENSE", "dist"),
        skip=("dist/embed.js", "dist/embed.js.map", "dist/libembed-amd.js", "dist/embed.js.LICENSE.txt"),
    ),
)


# Where a page points its widgets renderer: the renderer (embed-amd.js) finds its icon fonts next to its AMD
# module's URL, which require.js would otherwise place next to the page; this tells require.js where it is.
WIDGETS_LOADER = "widgets.js"
_WIDGETS_LOADER_SOURCE = """\
// Render saved Jupyter widget state with the local copy of @jupyter-widgets/html-manager (written by segedu).
(function () {
  var here = document.currentScript.src;
  var dist = new URL("html-manager/dist/", here).href;
  window.require.config({paths: {"@jupyter-widgets/html-manager/dist": dist.slice(0, -1)}});
  var script = document.createElement("script");
  script.src = dist + "embed-amd.js";
  (document.body || document.head).appendChild(script);
})();
"""


def fetch_packages(cache_dir: Path | str, packages: Sequence[NpmPackage] = PACKAGES) -> list[Path]:
    """Download the tarballs of ``packages`` that are not in ``cache_dir`` yet and check their sha512.

    Runs ``npm pack NAME@VERSION`` (the npm client, from Node.js), so this is the one step that needs
    the network; a tarball already in the cache with the right hash is used as it is.

    Args:
        cache_dir: Folder for the tarballs; created if missing.
        packages: The packages to fetch.

    Returns:
        The tarballs' paths, in the order of ``packages``.

    Raises:
        RuntimeError: If npm is missing or fails, or a tarball's hash differs from the pinned one.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarballs = []
    for package in packages:
        tarball = cache_dir / package.tarball_name
        if not (tarball.is_file() and _integrity(tarball) == package.integrity):
            _npm_pack(package, cache_dir)
            found = _integrity(tarball)
            if found != package.integrity:
                tarball.unlink()
                raise RuntimeError(
                    f"{package.name}@{package.version} from the npm registry has {found}, "
                    f"not the pinned {package.integrity}; not using it"
                )
        tarballs.append(tarball)
    return tarballs


def install_web_assets(
    cache_dir: Path | str, target_dir: Path | str, packages: Sequence[NpmPackage] = PACKAGES
) -> list[Path]:
    """Fetch ``packages`` if needed, then unpack the files pages need into ``target_dir/<folder>/``.

    Args:
        cache_dir: Folder holding (or to hold) the tarballs, see :func:`fetch_packages`.
        target_dir: Folder the pages will load from, e.g. ``build/slides/assets``; each package's
            folder in it is replaced. With the widgets renderer comes ``widgets.js``
            (:data:`WIDGETS_LOADER`), the script a page should load to render saved widget state.
        packages: The packages to install.

    Returns:
        Every file written, sorted.
    """
    target_dir = Path(target_dir)
    written = []
    for package, tarball in zip(packages, fetch_packages(cache_dir, packages)):
        destination = target_dir / package.folder
        shutil.rmtree(destination, ignore_errors=True)
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                inner = member.name.split("/", 1)[1] if "/" in member.name else ""
                if not member.isfile() or not package.wants(inner):
                    continue
                path = destination / inner
                path.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None  # a regular file
                path.write_bytes(source.read())
                written.append(path)
        if package.folder == "html-manager":
            loader = target_dir / WIDGETS_LOADER
            loader.write_text(_WIDGETS_LOADER_SOURCE)
            written.append(loader)
    return sorted(written)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m segedu.course.web_assets CACHE_DIR TARGET_DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m segedu.course.web_assets",
        description="Fetch (once) and unpack local copies of reveal.js, require.js, jQuery, MathJax and the "
        "widgets renderer, so the slides and the course website need no network.",
    )
    parser.add_argument("cache_dir", type=Path, help="folder for the downloaded tarballs, e.g. build/web-assets")
    parser.add_argument("target_dir", type=Path, help="folder the pages load from, e.g. build/slides/assets")
    arguments = parser.parse_args(argv)
    try:
        written = install_web_assets(arguments.cache_dir, arguments.target_dir)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"unpacked {len(written)} files to {arguments.target_dir}")
    return 0


def _integrity(path: Path) -> str:
    """The npm-style ``sha512-<base64>`` of a file."""
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _npm_pack(package: NpmPackage, cache_dir: Path) -> None:
    """Download one tarball into ``cache_dir`` with ``npm pack``."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm not found: the slides and the website fetch reveal.js and MathJax once from the npm registry; "
            "install Node.js (Debian/Ubuntu: `apt-get install npm`; elsewhere https://nodejs.org)"
        )
    command = [npm, "pack", f"{package.name}@{package.version}", "--pack-destination", str(cache_dir), "--silent"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"`{' '.join(command[1:])}` failed:\n{completed.stderr.strip()}")


if __name__ == "__main__":
    sys.exit(main())
