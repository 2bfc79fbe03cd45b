"""A description of the machine the numbers come from, printed at the top of every report."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import torch

from segedu.core.device import cpu_name

__all__ = ["Machine", "describe_machine"]


@dataclass(frozen=True)
class Machine:
    """What a reader needs to compare our numbers with theirs."""

    cpu: str
    cores: int
    memory_gib: float
    threads: int
    system: str
    python: str
    torch: str

    def line(self) -> str:
        """One line for the top of the report."""
        return (
            f"{self.cpu}, {self.cores} cores, {self.memory_gib:.0f} GiB RAM, {self.system}; "
            f"Python {self.python}, torch {self.torch}, {self.threads} torch thread(s)"
        )


def _memory_gib() -> float:
    """Total physical memory in GiB (0 where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0


def describe_machine(threads: int) -> Machine:
    """Describe this machine; ``threads`` is the torch thread count the benchmarks use."""
    return Machine(
        cpu=cpu_name(),
        cores=os.cpu_count() or 1,
        memory_gib=round(_memory_gib(), 1),
        threads=threads,
        system=f"{platform.system()} {platform.machine()}",
        python=platform.python_version(),
        torch=torch.__version__,
    )
