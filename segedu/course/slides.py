"""reveal.js slides of the lessons that work offline: every script and style sheet is a local copy.

nbconvert's slides exporter writes one HTML deck per notebook (cells tagged with
``slideshow.slide_type`` start slides) from the stored outputs, without running anything. Left to
its defaults a deck loads reveal.js, require.js, jQuery, MathJax and the widgets renderer from
public CDNs when opened. Here every one of those URLs points into ``assets/`` next to the decks
(unpacked by :mod:`segedu.course.web_assets`), so the folder can be copied to a classroom machine
or a USB stick and opened from disk with no network.

Example:
    ``python -m segedu.course.slides notebooks build/slides`` (what ``make slides`` runs) writes
    ``build/slides/NN_name.slides.html`` for every lesson, and ``build/slides/assets/``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

from segedu.course.web_assets import PACKAGES, WIDGETS_LOADER, install_web_assets

__all__ = ["ASSETS_FOLDER", "build_slides", "main", "slides_exporter"]

ASSETS_FOLDER = "assets"
# Everything but MathJax 3 (the website's): the decks' template speaks MathJax 2.
_PACKAGES = tuple(package for package in PACKAGES if package.folder != "mathjax3")
# The lessons have no mermaid diagrams, but the template imports mermaid as a module: an inline stand-in
# (a data: URL, which a deck opened from disk may import) keeps that import off the network.
_MERMAID_STUB = "data:text/javascript,export%20default%20%7Binitialize()%20%7B%7D%7D%3B"


def slides_exporter(assets: str = ASSETS_FOLDER) -> SlidesExporter:
    """An nbconvert slides exporter whose decks load everything from ``assets`` (a relative URL).

    Args:
        assets: URL of the assets folder relative to the decks.

    Returns:
        The configured exporter: reveal.js 4 with its "white" theme, require.js, jQuery, MathJax 2
        and the widgets renderer, all below ``assets``.
    """
    config = Config()
    config.SlidesExporter.reveal_url_prefix = f"{assets}/reveal.js"
    config.SlidesExporter.reveal_theme = "white"  # its fonts ship with reveal.js; the default theme's do not
    config.SlidesExporter.require_js_url = f"{assets}/requirejs/require.js"
    config.SlidesExporter.jquery_url = f"{assets}/jquery/dist/jquery.min.js"
    config.SlidesExporter.mathjax_url = f"{assets}/mathjax2/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    config.SlidesExporter.widget_renderer_url = f"{assets}/{WIDGETS_LOADER}"
    exporter = SlidesExporter(config=config)
    exporter.mermaid_js_url = _MERMAID_STUB  # not a configurable trait in nbconvert 7
    return exporter


def build_slides(notebooks: Sequence[Path | str], output_dir: Path | str, cache_dir: Path | str) -> list[Path]:
    """Write one offline reveal.js deck per notebook to ``output_dir``, with the assets they load.

    Args:
        notebooks: The lesson notebooks, e.g. ``sorted(Path("notebooks").glob("*.ipynb"))``.
        output_dir: Folder for the decks (``NN_name.slides.html``) and their ``assets/`` folder.
        cache_dir: Folder for the downloaded npm tarballs (fetched once, see
            :func:`segedu.course.web_assets.fetch_packages`).

    Returns:
        The decks written, in the order of ``notebooks``.
    """
    if not notebooks:
        raise ValueError("no notebooks given: pass the lesson notebooks, e.g. notebooks/*.ipynb")
    output_dir = Path(output_dir)
    install_web_assets(cache_dir, output_dir / ASSETS_FOLDER, _PACKAGES)
    exporter = slides_exporter()
    decks = []
    for notebook_path in map(Path, notebooks):
        notebook = nbformat.read(notebook_path, as_version=4)
        body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": notebook_path.stem}})
        deck = output_dir / f"{notebook_path.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
    return decks


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m segedu.course.slides NOTEBOOK_DIR OUT_DIR [--cache DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m segedu.course.slides",
        description="Write one reveal.js deck per lesson that opens offline (reveal.js and MathJax are local copies).",
    )
    parser.add_argument("source_dir", type=Path, help="folder with the lesson notebooks, e.g. notebooks")
    parser.add_argument("output_dir", type=Path, help="folder for the decks, e.g. build/slides")
    parser.add_argument("--cache", type=Path, default=Path("build/web-assets"),
                        help="folder for the npm tarballs, fetched once (default: build/web-assets)")
    arguments = parser.parse_args(argv)
    notebooks = sorted(arguments.source_dir.glob("*.ipynb"))
    try:
        decks = build_slides(notebooks, arguments.output_dir, arguments.cache)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(decks)} decks to {arguments.output_dir} (open them from disk; no network needed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
