"""A small, safe on-disk cache for generated arrays: one ``.npz`` plus a ``.json`` sidecar.

Writing is atomic: bytes go to a temporary file in the same folder, are flushed to disk
(``fsync``) and only then renamed over the final name (``os.replace``). A reader therefore
sees either the old complete file or the new complete file, never half of one.

The sidecar records the sha256 of the ``.npz`` and the parameters used to build it. Reading
checks both; any difference (a truncated download, a crash, a different ``size=``) makes
:func:`read_cache` return ``None`` together with the reason, and the caller rebuilds.

The ``.npz`` bytes are deterministic (fixed timestamps inside the zip), so two processes
that build the same cache at once write identical files and cannot disagree.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["read_cache", "sidecar_path", "write_cache"]


def sidecar_path(path: Path) -> Path:
    """The ``.json`` file that describes the cache file ``path``."""
    return path.with_suffix(".json")


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Serialise arrays like ``numpy.savez``, but byte-for-byte reproducibly.

    The arrays are stored uncompressed: a few more megabytes on disk buy a fast load.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(entry, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never seen half-written."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)  # temporary files start private (0o600)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_cache(path: Path, arrays: dict[str, np.ndarray], parameters: dict) -> str:
    """Save ``arrays`` to ``path`` (.npz) and the sidecar (.json); return the sha256 hex digest."""
    data = _npz_bytes(arrays)
    digest = hashlib.sha256(data).hexdigest()
    _write_atomically(path, data)
    sidecar = {"sha256": digest, "parameters": parameters}
    _write_atomically(sidecar_path(path), json.dumps(sidecar, indent=2, sort_keys=True).encode())
    return digest


def read_cache(path: Path, parameters: dict) -> tuple[dict[str, np.ndarray] | None, str]:
    """Load a cache written by :func:`write_cache` if it is complete and matches ``parameters``.

    Returns:
        ``(arrays, "")`` on success, ``(None, reason)`` when the cache is missing (reason
        ``"missing"``), partial, corrupted or built with other parameters.
    """
    sidecar_file = sidecar_path(path)
    if not path.exists() and not sidecar_file.exists():
        return None, "missing"
    try:
        sidecar = json.loads(sidecar_file.read_text())
        data = path.read_bytes()
    except (OSError, ValueError) as error:
        return None, f"unreadable cache ({type(error).__name__}: {error})"
    if not isinstance(sidecar, dict) or sidecar.get("parameters") != parameters:
        return None, "it was built with different parameters"
    digest = hashlib.sha256(data).hexdigest()
    if digest != sidecar.get("sha256"):
        return None, f"sha256 mismatch (file {digest[:12]}..., expected {str(sidecar.get('sha256'))[:12]}...)"
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        return None, f"unreadable arrays ({type(error).__name__}: {error})"
    return arrays, ""
