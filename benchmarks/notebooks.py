"""Run time and peak memory of each lesson notebook, each run in a fresh process.

A notebook is executed by a separate Python process (``python -m benchmarks.notebooks
PATH``) that starts its own kernel, so each measurement includes starting the kernel, as a
learner's "Run all" does. Peak memory is the largest resident set size (RSS) of that process and
the kernel it started, read from the operating system's accounting of finished child processes.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.timing import Timing, summarize

__all__ = ["NotebookRun", "benchmark_notebooks", "execute_notebook", "measure_notebook"]


@dataclass(frozen=True)
class NotebookRun:
    """Repeated runs of one notebook.

    Attributes:
        name: File name without ``.ipynb``.
        seconds: Run time (kernel start to last cell).
        peak_rss_bytes: The largest peak RSS of any of the runs.
    """

    name: str
    seconds: Timing
    peak_rss_bytes: int


def _max_rss_bytes(usage: resource.struct_rusage) -> int:
    """``ru_maxrss`` in bytes (Linux reports KiB, macOS bytes)."""
    return int(usage.ru_maxrss) * (1 if sys.platform == "darwin" else 1024)


def execute_notebook(path: Path, *, timeout: int = 300) -> dict[str, float]:
    """Execute the notebook at ``path`` without saving it; return seconds and peak RSS.

    Meant to run in a fresh process (see :func:`measure_notebook`): the peak RSS is this
    process's own and that of its finished children (the kernel).
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    peak = max(
        _max_rss_bytes(resource.getrusage(resource.RUSAGE_SELF)),
        _max_rss_bytes(resource.getrusage(resource.RUSAGE_CHILDREN)),
    )
    return {"seconds": seconds, "peak_rss_bytes": peak}


def measure_notebook(path: Path, *, timeout: int = 300) -> dict[str, float]:
    """Execute ``path`` once in a fresh Python process; return its seconds and peak RSS.

    Raises:
        FileNotFoundError: If there is no such notebook.
        RuntimeError: If the notebook fails (the child's last error lines are included).
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    command = [sys.executable, "-m", "benchmarks.notebooks", str(path), "--timeout", str(timeout)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        tail = "\n".join(finished.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{path.name} failed to run (exit status {finished.returncode}):\n{tail}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def benchmark_notebooks(paths: list[Path], *, repeats: int = 3, progress: bool = True) -> list[NotebookRun]:
    """Run every notebook ``repeats`` times (in turn, so runs of one notebook are spread out)."""
    from tqdm.auto import tqdm

    if repeats < 3:
        raise ValueError(f"repeats must be at least 3 so that the median is meaningful; got {repeats}")
    results: dict[Path, list[dict[str, float]]] = {path: [] for path in paths}
    with tqdm(total=repeats * len(paths), desc="notebooks", unit="run", disable=not progress) as bar:
        for _ in range(repeats):
            for path in paths:
                bar.set_postfix_str(Path(path).stem)
                results[path].append(measure_notebook(path))
                bar.update(1)
    return [
        NotebookRun(
            name=Path(path).stem,
            seconds=summarize([run["seconds"] for run in runs]),
            peak_rss_bytes=int(max(run["peak_rss_bytes"] for run in runs)),
        )
        for path, runs in results.items()
    ]


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Execute one notebook; print its seconds and peak RSS as JSON.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--timeout", type=int, default=300)
    arguments = parser.parse_args()
    print(json.dumps(execute_notebook(arguments.path, timeout=arguments.timeout)))


if __name__ == "__main__":
    _main()
