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
        PermissionError: One line naming the folder, the reason and the fix.
    """
    folder = Path(directory).expanduser()
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
