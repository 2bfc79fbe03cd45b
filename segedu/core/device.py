"""Choose the device (CPU, CUDA or Apple's MPS) that a model trains and predicts on, and name the CPU."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

__all__ = ["cpu_name", "select_device"]


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's marketing name (Linux's /proc/cpuinfo), else what the platform module knows.

    Training records carry it: a CPU run is repeatable bit for bit on the same kind of CPU and library
    build, and only up to small differences elsewhere.
    """
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def select_device(device: str | torch.device | None = None) -> torch.device:
    """The device to train on: the one asked for, else CUDA, then Apple's MPS, then the CPU.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, a ``torch.device``, or ``None``
            to choose automatically.

    Returns:
        A ``torch.device`` that is available on this machine.
    """
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device={device!r} is not a device name; use 'cpu', 'cuda', 'mps' or None"
        ) from error
    available = {
        "cuda": torch.cuda.is_available,
        "mps": torch.backends.mps.is_available,
    }
    if chosen.type in available and not available[chosen.type]():
        raise ValueError(
            f"device={device!r} was requested but {chosen.type} is not available on this machine; "
            "pass device=None to pick the best available one, or device='cpu'"
        )
    return chosen
