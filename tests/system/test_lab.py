"""`make lab` starts a JupyterLab that answers on localhost and lists the lessons."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_notebooks(tmp_path: Path) -> None:
    port, token = _free_port(), secrets.token_hex(16)
    (tmp_path / "settings").mkdir()  # no user settings: what the learner sees comes from `make lab` alone
    lab_args = (
        f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --ServerApp.port_retries=0 "
        f"--IdentityProvider.token={token} --LabApp.workspaces_dir={tmp_path / 'workspaces'}"
    )
    env = {
        **os.environ,
        "SEGEDU_DATA_DIR": str(tmp_path / "data"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_ARGS={lab_args}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                if _get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 120 s:\n" + (tmp_path / "lab.log").read_text())

        # The token is kept on: without it the API refuses.
        assert _get(f"{base}/api/contents")[0] in (401, 403)
        status, body = _get(f"{base}/api/contents?token={token}")
        assert status == 200
        listed = {item["name"] for item in json.loads(body)["content"]}
        expected = {path.name for path in (ROOT / "notebooks").glob("*.ipynb")}
        assert "00_welcome.ipynb" in expected and expected <= listed
        assert _get(f"{base}/lab?token={token}")[0] == 200
        # make's setup installed the venv's settings overrides: no "get notified about Jupyter news?" prompt.
        status, body = _get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}")
        assert status == 200
        defaults = {key: value.get("default") for key, value in json.loads(body)["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
        # The doctor ran before the server started, and the URL was printed. (Lab prints a token it
        # generated itself in full; one given on the command line, as here, shows as "token=...".)
        output = (tmp_path / "lab.log").read_text()
        assert "All good" in output and f"http://127.0.0.1:{port}/lab?token=" in output
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
