"""What a model costs: parameters, multiply-accumulates (MACs) and activation memory.

Lessons compare architectures (a full-resolution network, FCN, SegNet, U-Net) by three numbers:

- **parameters**: how many numbers the model learns (``count_parameters``);
- **MACs**: multiply-accumulate operations in one forward pass, counted for the layers that do
  almost all the work: ``nn.Conv2d``, ``nn.ConvTranspose2d`` and ``nn.Linear``
  (``count_macs``, ``macs_by_layer``; ``conv_macs`` is the formula for one convolution).
  One MAC is one ``a * b`` added to a running sum, so
  FLOPs are roughly ``2 * MACs``. Biases, normalisation, activations and pooling are not
  counted: they cost one operation per element, tiny next to a convolution;
- **activation memory**: bytes of intermediate results (``activation_memory``,
  ``activation_memory_by_layer``), either produced during a forward pass or kept by autograd
  for the backward pass.

Every measurement runs one forward pass on an all-zeros input of the given shape, watching each
leaf module with :func:`segedu.analysis.hooks.recording` (nothing is left attached afterwards),
and restores the model's buffers (for example BatchNorm running statistics), so the model is
left exactly as it was. The pencil-and-paper costs of plain conv stacks, computed without a
model, are in :mod:`segedu.analysis.stack_costs` and use the same :func:`conv_macs`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from segedu.analysis.hooks import recording

__all__ = [
    "activation_memory",
    "activation_memory_by_layer",
    "conv_macs",
    "cost_report",
    "count_macs",
    "count_parameters",
    "macs_by_layer",
]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of learnable numbers in ``model`` (a parameter shared by two layers counts once).

    Args:
        model: Any module.
        trainable_only: Count only parameters with ``requires_grad=True`` (not frozen ones).

    Returns:
        The total number of parameter elements.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# ----------------------------------------------------------------------------------------------
# Helpers for running one measuring forward pass
# ----------------------------------------------------------------------------------------------


def _check_input_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(input_shape)
    if not shape or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in shape):
        raise ValueError(
            "input_shape must be positive ints including the batch size, e.g. (1, 3, 32, 32); "
            f"got {input_shape!r}"
        )
    return shape


def _example_input(
    model: nn.Module, input_shape: Sequence[int], dtype: torch.dtype | None
) -> Tensor:
    """All-zeros input on the model's device (zeros need no random numbers: no global state)."""
    shape = _check_input_shape(input_shape)
    tensors = list(itertools.chain(model.parameters(), model.buffers()))
    device = tensors[0].device if tensors else torch.device("cpu")
    model_dtypes = {t.dtype for t in tensors if t.is_floating_point()}
    if dtype is None:  # follow the model
        dtype = model_dtypes.pop() if len(model_dtypes) == 1 else torch.float32
    elif model_dtypes and model_dtypes != {dtype}:
        found = ", ".join(sorted(str(d) for d in model_dtypes))
        raise ValueError(
            f"dtype={dtype} must match the model's floating-point parameters ({found}); "
            f"convert the model with model.to({dtype}) or pass that dtype"
        )
    return torch.zeros(shape, dtype=dtype, device=device)


@contextmanager
def _leave_model_unchanged(model: nn.Module) -> Iterator[None]:
    """Restore every buffer (e.g. BatchNorm running statistics) after a measuring pass."""
    snapshots = [(buffer, buffer.detach().clone()) for buffer in model.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, snapshot in snapshots:
                buffer.copy_(snapshot)


def _tensors_in(value: Any) -> Iterator[Tensor]:
    """Every tensor inside a module output (a tensor, or tuples/lists/dicts of them)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


def _each_leaf_call(
    model: nn.Module, example: Tensor, measure: Callable[[nn.Module, tuple[Any, ...], Any], int | None]
) -> list[tuple[str, str, int]]:
    """``(name, layer type, measure(module, inputs, output))`` for every leaf module call of one
    forward pass without autograd, in call order, leaving out calls measured as ``None``.

    The model itself is named ``"(model)"`` (when it has no sub-modules).
    """
    records: list[tuple[str, str, int]] = []

    def keep(name: str, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        value = measure(module, inputs, output)
        if value is not None:
            records.append((name or "(model)", type(module).__name__, value))

    with torch.no_grad(), _leave_model_unchanged(model), recording(model, None, callback=keep):
        model(example)
    return records


# ----------------------------------------------------------------------------------------------
# Multiply-accumulates
# ----------------------------------------------------------------------------------------------


def conv_macs(
    output_values: int, in_channels: int, kernel_size: int | Sequence[int], *, groups: int = 1
) -> int:
    """Multiply-accumulates of a convolution, by the formula (bias not counted).

    Every output value is a dot product over a ``(in_channels / groups, kH, kW)`` window
    (window positions over zero padding count too).

    Args:
        output_values: Number of output elements, ``B * C_out * H_out * W_out``.
        in_channels: Input channels of the convolution.
        kernel_size: ``k`` or ``(kH, kW)``.
        groups: Groups of a grouped convolution.

    Returns:
        ``output_values * (in_channels / groups) * kH * kW``.

    Example:
        >>> conv_macs(1 * 8 * 16 * 16, 3, 3)  # nn.Conv2d(3, 8, 3, padding=1) on (1, 3, 16, 16)
        55296
    """
    sides = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    if groups < 1 or in_channels % groups:
        raise ValueError(f"groups must divide in_channels={in_channels}; got groups={groups}")
    return output_values * (in_channels // groups) * math.prod(sides)


def _layer_macs(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> int | None:
    """MACs of one call of a Conv2d, ConvTranspose2d or Linear layer (biases not counted); None for others."""
    if isinstance(module, nn.ConvTranspose2d):
        # The transpose of a convolution from C_out to C_in channels: every INPUT element is
        # connected to a (C_out/groups, kH, kW) block of the output, one MAC per weight. Stamps
        # that padding later crops away are counted too.
        return conv_macs(inputs[0].numel(), module.out_channels, module.kernel_size, groups=module.groups)
    if isinstance(module, nn.Conv2d):
        return conv_macs(output.numel(), module.in_channels, module.kernel_size, groups=module.groups)
    if isinstance(module, nn.Linear):
        # every output element is a dot product of length in_features.
        return output.numel() * module.in_features
    return None


def macs_by_layer(model: nn.Module, input_shape: Sequence[int]) -> list[tuple[str, str, int]]:
    """Multiply-accumulates of each Conv2d, ConvTranspose2d and Linear call in one forward pass.

    Formulas (biases not counted, see the module docstring):
    ``Conv2d``: ``B * C_out * H_out * W_out * (C_in / groups) * kH * kW``;
    ``ConvTranspose2d``: ``B * C_in * H_in * W_in * (C_out / groups) * kH * kW``;
    ``Linear``: ``batch * in_features * out_features``.

    Args:
        model: The model; it is left unchanged.
        input_shape: Shape of one input batch, e.g. ``(1, 3, 64, 64)``.

    Returns:
        ``(name, layer type, macs)`` in call order; a layer called twice appears twice. The
        model itself is named ``"(model)"``.
    """
    example = _example_input(model, input_shape, dtype=None)
    return _each_leaf_call(model, example, _layer_macs)


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Total multiply-accumulates of one forward pass; the sum of ``macs_by_layer``.

    Args:
        model: The model; it is left unchanged.
        input_shape: Shape of one input batch, e.g. ``(1, 3, 64, 64)``.

    Returns:
        MACs of all Conv2d, ConvTranspose2d and Linear calls (biases not counted). Other layers
        (BatchNorm, activations, pooling, upsampling) are not counted, and a window position over
        zero padding counts all its taps.
    """
    return sum(macs for _, _, macs in macs_by_layer(model, input_shape))


# ----------------------------------------------------------------------------------------------
# Activation memory
# ----------------------------------------------------------------------------------------------


def activation_memory_by_layer(
    model: nn.Module, input_shape: Sequence[int], *, dtype: torch.dtype = torch.float32
) -> list[tuple[str, str, int]]:
    """Bytes of the output tensors of every leaf module call in one forward pass.

    A leaf module is one with no submodules (Conv2d, ReLU, MaxPool2d, ...).

    Args:
        model: The model; it is left unchanged.
        input_shape: Shape of one input batch, e.g. ``(1, 3, 64, 64)``.
        dtype: Floating-point dtype of the input; must match the model's parameters.

    Returns:
        ``(name, layer type, bytes)`` in call order.
    """
    example = _example_input(model, input_shape, dtype)

    def output_bytes(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> int:
        return sum(t.numel() * t.element_size() for t in _tensors_in(output))

    return _each_leaf_call(model, example, output_bytes)


def _saved_for_backward_bytes(model: nn.Module, example: Tensor) -> int:
    """Bytes of the distinct storages autograd saves for backward, parameters and buffers aside."""
    model_storages = {
        t.untyped_storage().data_ptr() for t in itertools.chain(model.parameters(), model.buffers())
    }
    saved_bytes: dict[int, int] = {}  # storage address -> size in bytes
    kept: list[Tensor] = []  # hold every saved tensor, so no address is freed and reused meanwhile

    def pack(tensor: Tensor) -> Tensor:
        kept.append(tensor)
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in model_storages:
            saved_bytes[storage.data_ptr()] = storage.nbytes()  # a saved view keeps all of it
        return tensor

    def unpack(tensor: Tensor) -> Tensor:
        return tensor

    with _leave_model_unchanged(model), torch.enable_grad():
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            model(example)
    return sum(saved_bytes.values())


def activation_memory(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    backward: bool = False,
    dtype: torch.dtype = torch.float32,
) -> int:
    """Activation memory of one pass, in bytes, by one of two definitions.

    ``backward=False`` (forward): the sum of the bytes of every leaf module's output tensors in
    one forward pass, i.e. what would be stored if every intermediate result were kept. An
    upper-bound-style estimate: inference can free results as it goes, and outputs that share
    memory (in-place ReLU, views such as Flatten) are counted again.

    ``backward=True`` (saved for backward): measured with
    ``torch.autograd.graph.saved_tensors_hooks``, the bytes of the distinct tensor storages
    autograd keeps for the backward pass during one forward pass with gradients enabled,
    excluding the model's own parameters and buffers (they exist anyway). This includes the
    input batch if a layer saves it (the first convolution does). Autograd saves only what its
    gradient formulas need (a ReLU keeps its output, a convolution its input), so this can be
    smaller or larger than the forward figure. It is what training must hold between the
    forward and the backward pass, besides the weights (gradients computed during the backward
    pass come on top). Nothing is saved when no parameter requires a gradient.

    Args:
        model: The model; it is left unchanged. Its mode matters for ``backward=True`` (e.g.
            BatchNorm saves different tensors in training and evaluation mode).
        input_shape: Shape of one input batch, e.g. ``(1, 3, 64, 64)``.
        backward: Which definition to use, see above.
        dtype: Floating-point dtype of the input; must match the model's parameters.

    Returns:
        Bytes.
    """
    if not backward:
        layers = activation_memory_by_layer(model, input_shape, dtype=dtype)
        return sum(size for _, _, size in layers)
    example = _example_input(model, input_shape, dtype)
    if example.device.type == "meta":
        # Meta tensors have no storage addresses, so saved tensors cannot be told apart.
        raise ValueError(
            "activation_memory(..., backward=True) needs a model on a real device, not 'meta'; "
            "build it on the CPU, or use backward=False, which works on the meta device"
        )
    return _saved_for_backward_bytes(model, example)


def cost_report(model: nn.Module, input_shape: Sequence[int]) -> dict[str, int]:
    """All the cost numbers of ``model`` for one batch of ``input_shape``, in one dictionary.

    Args:
        model: The model; it is left unchanged.
        input_shape: Shape of one input batch, e.g. ``(1, 3, 64, 64)``.

    Returns:
        ``parameters``, ``trainable_parameters``, ``parameter_bytes``, ``macs``,
        ``activation_bytes_forward`` and ``activation_bytes_saved_for_backward`` (see
        ``activation_memory`` for both definitions).
    """
    example_dtype = _example_input(model, input_shape, dtype=None).dtype
    return {
        "parameters": count_parameters(model),
        "trainable_parameters": count_parameters(model, trainable_only=True),
        "parameter_bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
        "macs": count_macs(model, input_shape),
        "activation_bytes_forward": activation_memory(model, input_shape, dtype=example_dtype),
        "activation_bytes_saved_for_backward": activation_memory(
            model, input_shape, backward=True, dtype=example_dtype
        ),
    }
