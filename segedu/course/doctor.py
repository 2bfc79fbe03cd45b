"""``segedu doctor``: check that this machine can run the course, and say how to fix it if not.

Each check returns a :class:`Check` row. A row with ``ok=False`` is a problem and carries a
one-line fix; ``segedu doctor`` prints the table and exits with status 1 if any row failed.
"""

from __future__ import annotations

import importlib
import platform
import sys
from dataclasses import dataclass

__all__ = ["Check", "run_checks", "format_table", "main"]

# (import name, shown name). Everything here is a hard dependency of the lessons.
_PACKAGES: tuple[tuple[str, str], ...] = (
    ("torch", "torch"),
    ("torchvision", "torchvision"),
    ("numpy", "numpy"),
    ("matplotlib", "matplotlib"),
    ("ipywidgets", "ipywidgets"),
    ("jupyterlab", "JupyterLab"),
    ("tqdm", "tqdm"),
)
_FIX_INSTALL = "run `make lab` (or `pip install -e .`) from the segedu folder to install it"


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table.

    Attributes:
        name: What was checked, e.g. ``"torch"``.
        value: What was found, e.g. ``"2.14.1"``.
        ok: ``False`` when this is a problem the learner must fix.
        fix: One line saying how to fix it (empty when ``ok``).
    """

    name: str
    value: str
    ok: bool = True
    fix: str = ""


def _check_python() -> Check:
    version = platform.python_version()
    ok = sys.version_info >= (3, 10)
    return Check("Python", version, ok, "" if ok else "install Python 3.10 or newer")


def _check_package(module: str, shown: str) -> Check:
    try:
        imported = importlib.import_module(module)
    except Exception as error:  # a broken install can raise more than ImportError
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return Check(shown, f"missing ({reason})", False, f"{shown} cannot be imported: {_FIX_INSTALL}")
    return Check(shown, str(getattr(imported, "__version__", "installed")))


def _check_device() -> Check:
    try:
        import torch

        from segedu.core.device import select_device
    except Exception:
        return Check("device", "unknown (torch missing)", False, f"torch cannot be imported: {_FIX_INSTALL}")
    device = select_device()
    if device.type == "cuda":
        description = f"cuda ({torch.cuda.get_device_name(device)})"
    elif device.type == "mps":
        description = "mps (Apple GPU)"
    else:
        description = "cpu"
    threads = torch.get_num_threads()
    return Check("device", f"{description}, {threads} CPU thread{'' if threads == 1 else 's'}")


def _check_data_folder() -> Check:
    from segedu.core.paths import data_dir, ensure_writable

    folder = data_dir()
    try:
        ensure_writable(folder)
    except (OSError, ValueError) as error:
        return Check("data folder", f"{folder} (not writable)", False, str(error).splitlines()[0])
    return Check("data folder", f"{folder} (writable)")


def _check_datasets() -> Check:
    try:
        from segedu.datasets.summary import datasets_ready

        ready, message = datasets_ready()
    except Exception as error:
        return Check("offline datasets", f"error: {error}", False, f"reinstall segedu: {_FIX_INSTALL}")
    return Check("offline datasets", message, ready, "" if ready else message)


def run_checks() -> list[Check]:
    """Run every check and return the rows in display order."""
    rows = [_check_python()]
    rows += [_check_package(module, shown) for module, shown in _PACKAGES]
    rows += [_check_device(), _check_data_folder(), _check_datasets()]
    return rows


def format_table(rows: list[Check]) -> str:
    """Format the rows as an aligned text table followed by one fix line per problem."""
    width = max(len(row.name) for row in rows)
    lines = [f"{'check'.ljust(width)}  status  found", "-" * (width + 40)]
    for row in rows:
        lines.append(f"{row.name.ljust(width)}  {'ok    ' if row.ok else 'PROBLEM'} {row.value}")
    problems = [row for row in rows if not row.ok]
    lines.append("")
    if problems:
        lines.append(f"{len(problems)} problem(s):")
        lines += [f"  - {row.name}: {row.fix}" for row in problems]
    else:
        lines.append("All good: open the lessons with `make lab` (the student edition: `make student`, then "
                     "`make lab LAB_DIR=build/student`).")
    return "\n".join(lines)


def main() -> int:
    """Print the doctor's table; return 0 when everything is fine, 1 otherwise."""
    rows = run_checks()
    print(format_table(rows))
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
