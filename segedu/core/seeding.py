"""Seed every random number generator a lesson or a training run uses."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything"]


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and all GPUs).

    Args:
        seed: Any int.
        deterministic: Also ask PyTorch for deterministic kernels (slower on GPU; ops with no
            deterministic version warn instead of failing) and turn off cuDNN autotuning.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int; got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy's legacy global seed must fit in 32 bits
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
