"""How many bytes of intermediate results are alive at once during one inference pass.

:func:`segedu.analysis.costs.activation_memory` adds up every layer's output (an upper bound) or
what autograd saves for training. At inference a network needs less: a result can be freed as
soon as nothing refers to it any more. :func:`live_activation_bytes` measures that directly. It
runs one forward pass under ``torch.no_grad()`` inside a ``TorchDispatchMode`` that sees every
tensor each ATen operation returns, adds a storage's bytes when it first appears and takes them
off when the last tensor on it is garbage-collected. The largest running total is the **peak**.

Counted: every storage an operation creates during the pass (feature maps, pooling indices,
temporaries such as batch norm's). Not counted: the model's parameters and buffers, and the
input batch. PyTorch's CPU allocator returns freed memory at once, so on the CPU the peak is what
the pass itself holds; on a GPU the caching allocator may keep more reserved.

Example:
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1))
    >>> live_activation_bytes(net, torch.zeros(1, 3, 8, 8)).peak  # 8*64*4 + 16*64*4: both outputs at once
    6144
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

__all__ = ["LiveMemory", "live_activation_bytes"]


@dataclass(frozen=True)
class LiveMemory:
    """The result of :func:`live_activation_bytes`.

    Attributes:
        peak: The largest number of bytes of intermediate results alive at one time.
        entering: For each watched module, the bytes alive when its ``forward`` was first called.
    """

    peak: int
    entering: dict[str, int]


class _LiveBytes(TorchDispatchMode):
    """Keeps a running total of the bytes of the storages that tensors made inside it still use."""

    def __init__(self, excluded: set[int]) -> None:
        super().__init__()
        self.excluded = excluded  # storage addresses not to count: parameters, buffers, the input
        self.storages: dict[int, list[int]] = {}  # address -> [bytes, live tensors on it]
        self.current = 0
        self.peak = 0

    def _release(self, address: int) -> None:
        entry = self.storages[address]
        entry[1] -= 1
        if entry[1] == 0:  # the last tensor on this storage is gone: its memory is freed
            self.current -= entry[0]
            del self.storages[address]

    def _track(self, tensor: Tensor) -> None:
        storage = tensor.untyped_storage()
        address, size = storage.data_ptr(), storage.nbytes()
        if address in self.excluded or size == 0:
            return
        entry = self.storages.get(address)
        if entry is None:  # a new storage
            entry = self.storages[address] = [size, 0]
            self.current += size
            self.peak = max(self.peak, self.current)
        entry[1] += 1
        weakref.finalize(tensor, self._release, address)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204 (torch's signature)
        output = func(*args, **(kwargs or {}))
        for value in tree_leaves(output):
            if isinstance(value, Tensor):
                self._track(value)
        return output


def live_activation_bytes(model: nn.Module, images: Tensor, *, watch: Mapping[str, nn.Module] | None = None
                          ) -> LiveMemory:
    """Peak bytes of intermediate results alive at once in one ``torch.no_grad()`` forward pass.

    Args:
        model: The model, called as ``model(images)``; it is not changed (run it in eval mode
            for inference, so batch norm does not update its running statistics).
        images: The input batch, e.g. ``(B, C, H, W)``; not counted.
        watch: Optional ``name -> submodule``: for each, the bytes alive when its ``forward``
            starts are reported in :attr:`LiveMemory.entering` (e.g. a decoder's first stage).

    Returns:
        :class:`LiveMemory` with the peak and the watched modules' counts.

    Raises:
        ValueError: If a watched module is never called.
    """
    excluded = {tensor.untyped_storage().data_ptr() for tensor in (*model.parameters(), *model.buffers(), images)}
    tracker = _LiveBytes(excluded)
    entering: dict[str, int] = {}
    handles = []
    for name, module in (watch or {}).items():
        def record(module: nn.Module, inputs: tuple, name: str = name) -> None:
            entering.setdefault(name, tracker.current)
        handles.append(module.register_forward_pre_hook(record))
    try:
        with torch.no_grad(), tracker:
            output = model(images)
            del output
    finally:
        for handle in handles:
            handle.remove()
    missing = sorted(set(watch or {}) - set(entering))
    if missing:
        raise ValueError(f"watched modules {missing} were never called by model(images); pass submodules of model")
    return LiveMemory(peak=tracker.peak, entering=entering)
