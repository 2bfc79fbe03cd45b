"""The offline datasets are identical when built by a fresh Python process (no hidden global state).

Each test starts a new interpreter (importing torch takes seconds), so they are system tests; the
in-process reproducibility tests live in tests/datasets/.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from segedu.datasets import DigitScenes, ShapesScenes


def _in_fresh_process(code: str, *arguments: str) -> str:
    command = [sys.executable, "-c", code, *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def _shapes_digest(dataset: ShapesScenes, count: int) -> str:
    digest = hashlib.sha256()
    for index in range(count):
        scene = dataset.sample(index)
        for key in ("image", "mask", "instances"):
            digest.update(scene[key].numpy().tobytes())
    return digest.hexdigest()


def test_shapes_scenes_are_identical_in_a_fresh_process() -> None:
    code = (
        "import hashlib; from segedu.datasets import ShapesScenes\n"
        "d = ShapesScenes('test', length=6, seed=7)\n"
        "h = hashlib.sha256()\n"
        "for i in range(6):\n"
        "    s = d.sample(i)\n"
        "    [h.update(s[k].numpy().tobytes()) for k in ('image', 'mask', 'instances')]\n"
        "print(h.hexdigest())\n"
    )
    assert _in_fresh_process(code) == _shapes_digest(ShapesScenes("test", length=6, seed=7), 6)


def test_digit_scene_cache_is_byte_identical_from_a_fresh_process(tmp_path: Path) -> None:
    here = DigitScenes("test", length=5, seed=3, root=tmp_path / "this-process")
    code = (
        "import sys, hashlib; from segedu.datasets import DigitScenes\n"
        "d = DigitScenes('test', length=5, seed=3, root=sys.argv[1])\n"
        "print(hashlib.sha256(d.cache_path.read_bytes()).hexdigest())\n"
    )
    found = _in_fresh_process(code, str(tmp_path / "other-process"))
    assert found == hashlib.sha256(here.cache_path.read_bytes()).hexdigest()
