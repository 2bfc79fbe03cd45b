"""The feature-map explorer works in a real browser: JupyterLab runs the lesson, a key press moves a slider.

Needs Chromium at /usr/bin/chromium (Debian: `apt-get install chromium`) and the `playwright`
Python package (its driver only; no browser download). Without them the test is skipped, unless
SEGEDU_REQUIRE_BROWSER=1, which turns the skip into a failure (CI sets it). Set
SEGEDU_SAVE_SCREENSHOT=path/to/file.png to also keep a screenshot of the explorer there.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "12_feature_map_explorer.ipynb"
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]
# Settings that keep the page still: every cell rendered (no windowing). No news or update pop-up
# either, but that is not set here: `make setup` installs it with the venv, and the test checks it.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
NEWS_PROMPT = "get notified about official Jupyter news"  # JupyterLab's first-start question
TIMEOUT_S = 120  # generous: a busy two-core machine; the whole test takes ~20 s on an idle one

# True once the notebook's kernel is idle and every code cell has run (no [*] prompt left).
ALL_CELLS_RAN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (!kernel || kernel.status !== 'idle') return false;
    const cells = panel.content.widgets.filter(cell => cell.model.type === 'code');
    const running = [...panel.node.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
    return !running && cells.length > 0 && cells.every(cell => cell.model.executionCount !== null);
}"""
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return !!(session && session.kernel && session.kernel.status === 'idle' && panel.content);
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_until(condition: Callable[[], Any], what: str, timeout_s: float = TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture
def lab(tmp_path: Path, chromium: Path) -> Iterator[str]:
    """JupyterLab on a free localhost port, serving a copy of the lesson; yields its base URL with the token."""
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        pytest.fail(f"jupyter not found next to {sys.executable}; `make setup` installs it with the test extra")
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    for name, values in LAB_SETTINGS.items():
        path = tmp_path / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "SEGEDU_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),  # no user configuration, nothing written to $HOME
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),  # the segedu kernel is found in the venv's prefix
    }
    command = [
        str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.expose_app_in_browser=True",
        "--ServerApp.allow_root=True",
    ]
    log_path = tmp_path / "lab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            assert server.poll() is None, f"JupyterLab exited:\n{log_path.read_text()}"
            return _answers(f"{base}/api/status?token={token}")

        _wait_until(ready, "JupyterLab to answer")
        yield f"{base}/lab/tree/{NOTEBOOK}?token={token}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the group started above: Lab and its kernels
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _move_slider_and_wait_for_new_image(page: Any, explorer: Any, slider: str) -> tuple[str, str]:
    """Press ArrowRight on one of the explorer's sliders; return the readout before and after."""
    image = explorer.locator("img.segedu-feature-map-activation")
    readout = explorer.locator(f".segedu-feature-map-{slider} .widget-readout")
    image.scroll_into_view_if_needed()
    source_before, pixels_before, value_before = image.get_attribute("src"), image.screenshot(), readout.inner_text()
    explorer.locator(f".segedu-feature-map-{slider} .noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    _wait_until(lambda: image.get_attribute("src") != source_before, f"the feature map to follow the {slider} slider")
    assert image.screenshot() != pixels_before, "the image source changed but the picture did not"
    return value_before, readout.inner_text()


def test_explorer_updates_in_jupyterlab(lab: str, tmp_path: Path, chromium: Path) -> None:
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(TIMEOUT_S * 1000)
            page.goto(lab)
            page.wait_for_function(KERNEL_IDLE, timeout=TIMEOUT_S * 1000)
            # Clearing first resets the execution counts, so "every cell has a count" means "ran now".
            page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(ALL_CELLS_RAN, timeout=TIMEOUT_S * 1000, polling=250)
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            tracebacks = [text for text in errors.all_inner_texts() if "Traceback" in text or "Error" in text]
            assert not tracebacks, tracebacks
            # Lab asks at start-up, unless the venv's settings overrides (make setup) answered already.
            assert page.get_by_text(NEWS_PROMPT).count() == 0, "the Jupyter news prompt covers the lesson"

            explorers = page.locator(".segedu-feature-map-explorer")
            # The U-Net explorer renders first and FCN-8s's second; exercise 6 shows the U-Net explorer once more.
            _wait_until(lambda: explorers.count() >= 2, "both explorers to render")
            unet_explorer, fcn_explorer = explorers.nth(0), explorers.nth(1)
            before, after = _move_slider_and_wait_for_new_image(page, fcn_explorer, "channel")
            assert int(after) == int(before) + 1
            before, after = _move_slider_and_wait_for_new_image(page, unet_explorer, "sample")
            assert int(after) == int(before) + 1

            page.screenshot(path=str(tmp_path / "lab.png"))
            unet_explorer.scroll_into_view_if_needed()
            unet_explorer.screenshot(path=str(tmp_path / "feature-map-explorer.png"))
        finally:
            browser.close()
    assert (tmp_path / "lab.png").stat().st_size > 0
    target = os.environ.get("SEGEDU_SAVE_SCREENSHOT")
    if target:
        from PIL import Image

        picture = Image.open(tmp_path / "feature-map-explorer.png").convert("RGB")
        buffer = io.BytesIO()
        picture.quantize(colors=256).save(buffer, format="PNG", optimize=True)  # a palette keeps it small
        Path(target).write_bytes(buffer.getvalue())
    print(f"browser test body took {time.monotonic() - start:.1f} s")
