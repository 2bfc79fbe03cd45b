"""One call at the top of every lesson notebook makes its outputs repeatable."""

from __future__ import annotations

__all__ = ["LESSON_THREADS", "setup_lesson"]

# Results of some CPU kernels depend on the number of threads; every lesson uses the same count
# when its stored outputs are made and when they are checked, so a re-run prints the same numbers.
# One thread: the lessons are small, and `make test` runs two notebooks at once on two cores,
# where more threads per process would fight over the cores and run many times slower.
LESSON_THREADS = 1


def setup_lesson(seed: int = 0, *, threads: int = LESSON_THREADS) -> None:
    """Seed every random generator, fix the CPU thread count and set plotting defaults.

    Args:
        seed: Seed for Python, NumPy and PyTorch.
        threads: CPU threads PyTorch may use.
    """
    import matplotlib.pyplot as plt
    import torch

    from segedu.core.seeding import seed_everything

    torch.set_num_threads(threads)
    seed_everything(seed)
    plt.rcParams.update({"figure.dpi": 80, "image.interpolation": "nearest", "axes.titlesize": 10})
