"""The small trained checkpoints that ship with segedu, and their manifest.

Each checkpoint was produced by ``segedu train MODEL DATASET --ship`` (see
:mod:`segedu.training.recipes`); its sha256, the exact command and settings and its test-split
metrics are recorded in ``segedu/training/checkpoints/manifest.json``. Loading verifies the hash
before unpickling anything and uses ``torch.load(..., weights_only=True)``. The manifest is
rewritten atomically under a file lock, so two runs finishing together cannot lose an entry.

Example:
    >>> model = pretrained("unet", "shapes")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from torch import nn

from segedu.models.registry import get_model
from segedu.training.checkpoints import load_checkpoint, write_file_atomically

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: fall back to an exclusively created lock file
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CHECKPOINT_DIR",
    "MANIFEST",
    "available_pretrained",
    "pretrained",
    "pretrained_info",
    "read_manifest",
    "update_manifest",
]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
MANIFEST = "manifest.json"
_REQUIRED_KEYS = ("file", "sha256", "model_kwargs")
_LOCK_TIMEOUT_S = 60.0


def read_manifest(directory: Path | None = None) -> dict[str, Any]:
    """The manifest of shipped checkpoints in ``directory`` (an empty dict if there is none).

    Args:
        directory: Folder holding ``manifest.json``; default :data:`CHECKPOINT_DIR`.

    Raises:
        ValueError: If the file is not a JSON object; the message names the file and the fix.
    """
    path = _directory(directory) / MANIFEST
    if not path.exists():
        return {}
    fix = f"restore it (`git checkout -- {path}` in a git checkout, or reinstall segedu)"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"the checkpoint manifest {path} is not valid JSON ({error}); {fix}") from None
    if not isinstance(manifest, dict):
        kind = type(manifest).__name__
        raise ValueError(f"the checkpoint manifest {path} must hold a JSON object, not {kind}; {fix}")
    return manifest


def update_manifest(key: str, entry: dict[str, Any], directory: Path | None = None) -> None:
    """Set ``manifest[key] = entry`` and rewrite the manifest atomically, under a file lock.

    Args:
        key: ``"MODEL-DATASET"``, e.g. ``"unet-shapes"``.
        entry: JSON-compatible manifest entry (file, sha256, settings, command, metrics).
        directory: Folder holding ``manifest.json``; default :data:`CHECKPOINT_DIR`.
    """
    directory = _directory(directory)
    with _manifest_lock(directory):
        manifest = read_manifest(directory)  # read inside the lock: nobody writes in between
        manifest[key] = entry
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        write_file_atomically(directory / MANIFEST, lambda file: file.write(text.encode("utf-8")))


def available_pretrained() -> list[str]:
    """Names ``"MODEL-DATASET"`` of the shipped checkpoints, e.g. ``"unet-shapes"``."""
    return sorted(read_manifest())


def pretrained_info(name: str, dataset: str) -> dict[str, Any]:
    """The manifest entry of a checkpoint: settings, command, sha256 and test metrics.

    Raises:
        ValueError: If no checkpoint was shipped for this model and dataset, or its entry
            lacks the file name, sha256 or model arguments.
    """
    key = f"{name}-{dataset}"
    manifest = read_manifest()
    if key not in manifest:
        raise ValueError(
            f"no shipped checkpoint for model {name!r} on dataset {dataset!r}; available: "
            f"{sorted(manifest)}. Train one with `segedu train {name} {dataset}`."
        )
    entry = manifest[key]
    missing = [field for field in _REQUIRED_KEYS if not isinstance(entry, dict) or field not in entry]
    if missing:
        raise ValueError(
            f"the manifest entry {key!r} in {_directory(None) / MANIFEST} lacks {missing}; restore the manifest "
            f"(`git checkout`, or reinstall segedu) or retrain with `segedu train {name} {dataset} --ship --force`"
        )
    return entry


def pretrained(name: str, dataset: str) -> nn.Module:
    """Build model ``name`` and load its shipped weights for ``dataset``, in eval mode.

    Args:
        name: Registry name, e.g. ``"fcn8s"`` or ``"unet"``.
        dataset: ``"shapes"`` or ``"digits"``.

    Returns:
        The model on the CPU, in ``eval()`` mode.

    Raises:
        ValueError: If there is no such checkpoint, or its file is missing or does not match the
            recorded sha256 (changed or damaged): the message says how to restore or retrain it.
    """
    info = pretrained_info(name, dataset)
    path = _directory(None) / info["file"]
    try:
        checkpoint = load_checkpoint(path, expected_sha256=info["sha256"])
    except (FileNotFoundError, ValueError) as error:
        command = info.get("command", f"segedu train {name} {dataset}")
        if "--ship" not in command:
            command += " --ship --force"
        raise ValueError(
            f"the shipped checkpoint {path} cannot be used: {error}. It has been changed or damaged since "
            f"it was shipped. Restore it with `git checkout -- {path}` in a git checkout, or reinstall "
            f"segedu (`pip install --force-reinstall segedu`); or retrain it with `{command}`"
        ) from None
    model = get_model(name, **info["model_kwargs"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def _directory(directory: Path | None) -> Path:
    """``directory``, or the (possibly monkeypatched) module-level :data:`CHECKPOINT_DIR`."""
    return CHECKPOINT_DIR if directory is None else Path(directory)


@contextlib.contextmanager
def _manifest_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory/manifest.json.lock`` (``flock``, or an exclusive file)."""
    directory.mkdir(parents=True, exist_ok=True)
    lock_path = directory / f"{MANIFEST}.lock"
    if fcntl is not None:
        with open(lock_path, "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return
    deadline = time.monotonic() + _LOCK_TIMEOUT_S
    while True:
        try:
            descriptor = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{lock_path} has been locked for {_LOCK_TIMEOUT_S:.0f} s; if no `segedu train` is "
                    "running, delete that file"
                ) from None
            time.sleep(0.1)
    try:
        yield
    finally:
        os.close(descriptor)
        os.unlink(lock_path)
