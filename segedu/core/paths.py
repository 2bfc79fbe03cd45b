"""Where segedu keeps the files it generates (dataset caches, downloads).

One folder holds everything, chosen in this order:

1. the environment variable ``SEGEDU_DATA_DIR``, when it is set;
2. ``<checkout>/data`` when segedu runs from a source checkout (the folder above the
   package holds ``pyproject.toml``), so a course checkout is self-contained;
3. ``~/.cache/segedu`` otherwise (an installed package).

Example:
    >>> from segedu.core.paths import data_dir, ensure_writable
    >>> folder = ensure_writable(data_dir() / "digits")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["DATA_DIR_VARIABLE", "data_dir", "ensure_writable"]

DATA_DIR_VARIABLE = "SEGEDU_DATA_DIR"


def data_dir() -> Path:
    """Return the folder for segedu's data files (it may not exist yet).

    Returns:
        The path from ``SEGEDU_DATA_DIR``, else ``<checkout>/data`` in a source checkout,
        else ``~/.cache/segedu``. Nothing is created: see :func:`ensure_writable`.
    """
    from_environment = os.environ.get(DATA_DIR_VARIABLE, "").strip()
    if from_environment:
        return Path(from_environment).expanduser()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    return Path.home() / ".cache" / "segedu"


def ensure_writable(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` if needed and check that files can be written in it.

    The check really writes (and removes) a temporary file, because permission bits alone
    do not tell the truth (read-only mounts, administrator accounts, network drives).

    Args:
        directory: The folder that must be writable.

    Returns:
        The folder as a :class:`~pathlib.Path`.

    Raises:
        PermissionError: One line naming the folder, the reason and the fix. When a regular
            file stands where the folder (or one of its parents) should be, the message says
            so and suggests another folder, since no permission change can help then.
    """
    folder = Path(directory).expanduser()
    blocker = _file_in_the_way(folder)
    if blocker is not None:
        raise PermissionError(_file_in_the_way_message(folder, blocker))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise PermissionError(
            f"cannot write to the data folder {folder} ({reason}); "
            f"set {DATA_DIR_VARIABLE} to a writable folder or run `chmod u+w {folder}`"
        ) from error
    return folder


def _file_in_the_way(folder: Path) -> Path | None:
    """The path of ``folder`` or of its nearest existing parent when that is not a folder, else ``None``."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def _file_in_the_way_message(folder: Path, blocker: Path) -> str:
    """One line: which file blocks ``folder``, and which folder to use instead."""
    where = "is a file" if blocker == folder else f"cannot be created: {blocker} is a file"
    from_environment = os.environ.get(DATA_DIR_VARIABLE, "").strip()
    cause = ""
    if from_environment and Path(from_environment).expanduser() == blocker:
        cause = f" ({DATA_DIR_VARIABLE}={from_environment} points at that file)"
    suggestion = blocker.parent / "segedu-data"
    return (
        f"the data folder {folder} {where}, not a folder{cause}; set {DATA_DIR_VARIABLE} to a folder "
        f"such as {suggestion}, or move the file {blocker} out of the way"
    )
