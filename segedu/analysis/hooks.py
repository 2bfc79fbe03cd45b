"""Record what named layers of a model see or produce during one forward pass.

The one hook recorder of the package: every analysis and widget that looks inside a model uses
:func:`record` (run the model once and keep some layers' tensors) or :func:`recording` (keep them
while your own code runs the model, e.g. with gradients). Layers are named by their qualified
module names from ``model.named_modules()``, e.g. ``"down2"`` or ``"up1.up"``; nothing in the
model changes, and every hook is removed afterwards, even when the forward pass raises.
Measurements that need every call of every layer (MAC counting, activation bytes) pass a
``callback`` to :func:`recording` instead of keeping tensors.

Example:
    >>> from segedu.models import UNet
    >>> model = UNet(3, 4, base_channels=4).eval()
    >>> outputs = record(model, torch.rand(1, 3, 32, 32), ["inc", "down1"])
    >>> {name: tuple(value.shape) for name, value in outputs.items()}
    {'inc': (1, 4, 32, 32), 'down1': (1, 8, 16, 16)}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["LayerCallback", "layer_names", "record", "recording"]

LayerCallback = Callable[[str, nn.Module, tuple[Any, ...], Any], None]
"""``callback(name, module, inputs, output)``, called after every call of a recorded layer."""


def layer_names(model: nn.Module, *, leaves_only: bool = True) -> list[str]:
    """Qualified names of ``model``'s sub-modules in definition order (only leaves by default).

    A model without sub-modules (e.g. a bare ``nn.Conv2d``) is its own only leaf, named ``""``.
    """
    if leaves_only and next(model.children(), None) is None:
        return [""]
    return [
        name
        for name, module in model.named_modules()
        if name and (not leaves_only or next(module.children(), None) is None)
    ]


def _modules_by_name(model: nn.Module, layers: Sequence[str] | None) -> dict[str, nn.Module]:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    modules = dict(model.named_modules())
    if layers is None:
        return {name: modules[name] for name in layer_names(model)}  # "" is the model itself
    if isinstance(layers, str):
        raise ValueError(f"layers must be a list of names, not the string {layers!r}; write [{layers!r}]")
    unknown = [name for name in layers if name not in modules or not name]
    if unknown:
        known = ", ".join(repr(name) for name in layer_names(model, leaves_only=False)[:12])
        raise ValueError(f"model has no layer named {unknown[0]!r}; its layers include {known}, ...")
    return {name: modules[name] for name in layers}


@contextmanager
def recording(
    model: nn.Module,
    layers: Sequence[str] | None = None,
    *,
    inputs: bool = False,
    callback: LayerCallback | None = None,
) -> Iterator[dict[str, Any]]:
    """Keep the tensors of ``layers`` while the ``with`` block runs ``model``.

    Args:
        model: Any module.
        layers: Qualified module names; ``None`` records every leaf module.
        inputs: Keep what each layer receives instead of what it returns (one tensor, or the
            tuple of positional arguments when a layer takes several, like U-Net's ``Up``).
        callback: Instead of keeping tensors, call ``callback(name, module, inputs, output)``
            after every call of every layer, in execution order (a layer that runs twice is
            reported twice; ``inputs`` is the tuple of positional arguments). Nothing is kept,
            so the yielded dict stays empty; ``inputs=True`` cannot be combined with it.

    Yields:
        A dict filled during the forward pass: layer name -> tensor (or tuple of tensors, e.g.
        SegNet's pooling values and indices), in the order the layers ran. A layer that runs
        twice keeps its last call.

    Example:
        >>> calls = []
        >>> with recording(model, callback=lambda name, module, args, out: calls.append(name)):
        ...     model(x)
    """
    if callback is not None and inputs:
        raise ValueError("pass either inputs=True or a callback (it receives the inputs too), not both")
    recorded: dict[str, Any] = {}

    def keep(name: str, value: Any) -> None:
        recorded.pop(name, None)  # re-insert so the dict keeps execution order
        recorded[name] = value[0] if isinstance(value, tuple) and len(value) == 1 else value

    handles = []
    for name, module in _modules_by_name(model, layers).items():
        if callback is not None:
            handles.append(module.register_forward_hook(
                lambda module, args, out, name=name: callback(name, module, args, out)  # type: ignore[misc]
            ))
        elif inputs:
            handles.append(module.register_forward_pre_hook(lambda _m, args, name=name: keep(name, args)))
        else:
            handles.append(module.register_forward_hook(lambda _m, _args, out, name=name: keep(name, out)))
    try:
        yield recorded
    finally:
        for handle in handles:
            handle.remove()


def record(
    model: nn.Module,
    x: Tensor,
    layers: Sequence[str] | None = None,
    *,
    inputs: bool = False,
    grad: bool = False,
) -> dict[str, Any]:
    """Run ``model(x)`` once and return the tensors of ``layers`` (see :func:`recording`).

    Args:
        model: Any module; its train/eval mode is left as it is.
        x: The input batch.
        layers: Qualified module names; ``None`` records every leaf module.
        inputs: Keep each layer's input instead of its output.
        grad: Keep the autograd graph (off by default: recording costs no gradient memory).

    Returns:
        Layer name -> tensor (or tuple of tensors), in execution order.
    """
    with recording(model, layers, inputs=inputs) as recorded, torch.set_grad_enabled(grad):
        model(x)
    return recorded
