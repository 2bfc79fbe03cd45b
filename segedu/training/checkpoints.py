"""Save and load checkpoints: plain ``{"state_dict", "metadata"}`` dicts identified by SHA-256.

Files are written atomically (a temporary file in the same folder, then one rename), with the
permissions of an ordinary file (``0644`` under the usual umask) so that other users of a shared
install can read them. Loading uses ``torch.load(..., weights_only=True)`` and can verify a hash
before unpickling anything.

Example:
    >>> digest = save_checkpoint(model, "runs/unet.pt", metadata={"model": "unet"})   # doctest: +SKIP
    >>> checkpoint = load_checkpoint("runs/unet.pt", expected_sha256=digest)          # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch
from torch import nn

__all__ = [
    "check_output_path", "file_sha256", "load_checkpoint", "save_checkpoint", "state_sha256", "write_file_atomically",
]


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes as 64 hex digits, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def state_sha256(model: nn.Module) -> str:
    """SHA-256 of a model's weights and buffers as 64 hex digits: every tensor's name, dtype, shape and bytes.

    Two models have the same digest exactly when their state dicts hold the same names and bit-identical
    tensors; unlike a checkpoint file's hash it does not depend on how the file was written.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        plain = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{plain.dtype}|{tuple(plain.shape)}|".encode())
        digest.update(plain.reshape(-1).view(torch.uint8).numpy().tobytes())  # raw bytes, also for bfloat16
    return digest.hexdigest()


def check_output_path(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Make sure ``path`` can be written, before any work is spent on what goes in it.

    Missing folders are created; a probe file is written into the folder and removed again.

    Args:
        path: The file that will be written.
        overwrite: Allow replacing an existing file.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: If ``path`` is a folder, exists (without ``overwrite``), or its folder cannot
            be created or written; the message names the path and the fix.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"output {path} is a folder; give a file name inside it, e.g. {path / 'model.pt'}")
    if path.exists() and not overwrite:
        raise ValueError(f"output {path} already exists; choose another file name, or pass --force to replace it")
    blocking_file = next((folder for folder in path.parents if folder.exists() and not folder.is_dir()), None)
    if blocking_file is not None:
        raise ValueError(
            f"cannot write output {path}: {blocking_file} is a file, not a folder; choose another output path"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".probe")
        os.close(descriptor)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(
            f"cannot write output {path}: its folder {path.parent} cannot be created or written ({reason}); "
            "choose another output path"
        ) from None
    return path


def write_file_atomically(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``.

    The bytes are flushed to disk before the rename, and the file gets ordinary permissions
    (``0666`` minus the umask), so a crash never leaves a half-written ``path`` and other users
    can read the result. Missing folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp creates files readable by the owner only
        os.replace(temporary, path)  # atomic on POSIX and Windows
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_checkpoint(
    model: nn.Module, path: str | os.PathLike, *, metadata: dict[str, Any], half_precision: bool = False
) -> str:
    """Save ``{"state_dict", "metadata"}`` to ``path`` atomically and return its SHA-256.

    Args:
        model: The model whose ``state_dict`` (moved to the CPU) is saved.
        path: Target file, conventionally ending in ``.pt``; missing folders are created.
        metadata: JSON-compatible dict (str keys; str, numbers, bools, None, lists, dicts),
            e.g. the model name, its arguments, the dataset and the final metrics.
        half_precision: Store floating-point tensors as float16 (half the file size);
            ``load_state_dict`` casts them back to the model's float32.

    Returns:
        The SHA-256 hex digest of the written file.
    """
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a dict; got {type(metadata).__name__}")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"metadata must be JSON-compatible (it is loaded with weights_only=True): {error}"
        ) from error
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path {path} is a folder; give a file name inside it, e.g. {path / 'model.pt'}")
    state_dict = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    if half_precision:
        state_dict = {
            name: tensor.half() if tensor.is_floating_point() else tensor for name, tensor in state_dict.items()
        }
    payload = {"state_dict": state_dict, "metadata": metadata}
    write_file_atomically(path, lambda file: torch.save(payload, file))
    return file_sha256(path)


def load_checkpoint(path: str | os.PathLike, *, expected_sha256: str | None = None) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, verifying its hash first.

    Only tensors and plain containers are unpickled (``weights_only=True``), onto the CPU.
    A truncated or garbled file is refused, but a flipped byte inside the tensor data can
    load silently with wrong weights: pass the hash that :func:`save_checkpoint` returned
    (or a manifest lists) as ``expected_sha256`` to rule that out.

    Args:
        path: The ``.pt`` file.
        expected_sha256: If given, the file's SHA-256 must match before anything is loaded.

    Returns:
        ``{"state_dict": ..., "metadata": ...}``; use ``model.load_state_dict(c["state_dict"])``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: On a hash mismatch, or a truncated, corrupt or foreign file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    fix = f"restore {path} from where it came (a copy, or git), or save it again with save_checkpoint"
    if expected_sha256 is not None:
        found = file_sha256(path)
        if found != expected_sha256.strip().lower():
            raise ValueError(
                f"checkpoint {path} has sha256 {found} but {expected_sha256} was expected; "
                f"the file is incomplete, corrupt or a different version: {fix}"
            )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file can fail in many ways inside the unpickler
        if "weights only load failed" in str(error).lower():
            reason = "it is corrupt or holds Python objects other than tensors and plain containers"
        else:
            reason = f"it is truncated or corrupt ({type(error).__name__})"
        raise ValueError(f"cannot read checkpoint {path}: {reason}; {fix}") from None
    if not isinstance(checkpoint, dict) or set(checkpoint) != {"state_dict", "metadata"}:
        raise ValueError(
            f"{path} is not a segedu checkpoint: expected a dict with keys 'state_dict' and "
            "'metadata' (as written by segedu.training.checkpoints.save_checkpoint)"
        )
    return checkpoint


def _current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask
