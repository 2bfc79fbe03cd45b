"""Checks for lesson 04 (the price of keeping full resolution).

Each check calls the learner's function on a few cases and compares it with a measurement:
:func:`segedu.analysis.costs.count_macs` on real layers, the bytes autograd saves for a real
:class:`~segedu.models.FullResolutionNet`, the receptive field of a stack of layers by the
recurrence of :func:`segedu.analysis.receptive_field.stack_receptive_field` or measured with
gradients, and the effective receptive field of plain stacks. Hints name the likely mistake; they
never print the expected answer (a prediction's check prints the measurement it compares with).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import torch
from torch import nn

from segedu.analysis.costs import activation_memory, count_macs
from segedu.analysis.receptive_field import (
    centred_share,
    effective_receptive_field,
    measured_receptive_field,
    stack_receptive_field,
)
from segedu.course.exercises._verdict import check_cases, choice_hint, right, wrong
from segedu.models import FullResolutionNet

__all__ = [
    "ERF_DEPTH_CHOICES",
    "NEVER_SAVED_CHOICES",
    "SHARES_EXERCISE_GROWTH",
    "WINDOW_EXERCISE_DILATIONS",
    "check_conv_macs",
    "check_dilated_window_prediction",
    "check_erf_depth_answer",
    "check_layers_after_pooling",
    "check_macs_saved_by_downsampling",
    "check_never_saved_answer",
    "check_saved_bytes_per_pixel",
    "check_saved_bytes_prediction",
    "check_saved_shares_prediction",
    "erf_depth_seed_shares",
    "erf_depth_shares",
    "layer_outputs_saved",
]

# (height, width, in_channels, out_channels): small, so the reference layers run in milliseconds.
_CONV_CASES = ((8, 8, 3, 16), (12, 20, 16, 16), (5, 7, 32, 4))


def _is_whole_number(answer: Any) -> bool:
    return isinstance(answer, int) and not isinstance(answer, bool)


def _conv_macs_measured(height: int, width: int, in_channels: int, out_channels: int) -> int:
    conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
    return count_macs(conv, (1, in_channels, height, width))


def check_conv_macs(conv_macs: Callable[[int, int, int, int], int]) -> bool:
    """``conv_macs(height, width, in_channels, out_channels)``: MACs of one same-padded 3x3 conv."""
    return check_cases(
        conv_macs,
        _CONV_CASES,
        _conv_macs_mistake,
        success="a 3x3 conv costs H * W * C_in * C_out * 9 MACs: proportional to the number of pixels, so a quarter "
        "of the pixels with twice the input and twice the output channels costs the same.",
        returns="a whole number of MACs",
    )


def _conv_macs_mistake(answer: Any, height: int, width: int, in_channels: int, out_channels: int) -> str | None:
    expected = _conv_macs_measured(height, width, in_channels, out_channels)
    if answer == expected:
        return None
    case = f"a {height}x{width} map, {in_channels} -> {out_channels} channels"
    if answer == expected // 9:
        return f"for {case} you forgot the 3x3 = 9 weights each output value multiplies."
    if answer == 2 * expected:
        return f"for {case} you counted FLOPs (2 per multiply-accumulate); count MACs."
    return (
        f"for {case} you returned {answer!r}, which is not what count_macs measures. How many output "
        "values are there, and how many multiply-accumulates does each one need?"
    )


NEVER_SAVED_CHOICES = {
    "a": "the conv's output",
    "b": "BatchNorm's output",
    "c": "the ReLU's output",
    "d": "none: autograd saves all three",
}
_OUTPUT_OF_CHOICE = {"a": "conv", "b": "batch_norm", "c": "relu"}


def layer_outputs_saved() -> dict[str, bool]:
    """Which outputs of a conv -> BatchNorm -> ReLU layer autograd saves, measured in training mode.

    The layer (3 -> 4 channels, 8x8 input) is followed by a second conv, as in FullResolutionNet.
    Forward hooks record the storage of each module's output; ``saved_tensors_hooks`` records
    the storages autograd saves.

    Returns:
        ``{"conv": ..., "batch_norm": ..., "relu": ...}``: ``True`` where that output is saved.
    """
    with torch.random.fork_rng():  # the learner's random state is left as it was
        torch.manual_seed(0)
        layer = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.Conv2d(4, 4, 3, padding=1))
        image = torch.rand(1, 3, 8, 8)
    outputs: dict[str, torch.Tensor] = {}  # kept alive, so no address is reused meanwhile
    for name, module in zip(("conv", "batch_norm", "relu"), layer):
        module.register_forward_hook(lambda _module, _inputs, output, name=name: outputs.setdefault(name, output))
    saved: list[torch.Tensor] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved.append(tensor)
        return tensor

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        layer.train()(image)
    saved_storages = {tensor.untyped_storage().data_ptr() for tensor in saved}
    return {name: output.untyped_storage().data_ptr() in saved_storages for name, output in outputs.items()}


def check_never_saved_answer(answer: Any) -> bool:
    """``answer``: the letter of :data:`NEVER_SAVED_CHOICES` naming the output PyTorch's autograd never saves.

    The check measures it with :func:`layer_outputs_saved`, prints the measurement and explains.
    """
    hint = choice_hint(answer, NEVER_SAVED_CHOICES)
    if hint is not None:
        return wrong(hint)
    saved = layer_outputs_saved()
    print("measured on a conv -> BatchNorm -> ReLU layer in training mode: "
          + ", ".join(f"{NEVER_SAVED_CHOICES[letter]} {'saved' if saved[name] else 'not saved'}"
                      for letter, name in _OUTPUT_OF_CHOICE.items()))
    never_saved = [letter for letter, name in _OUTPUT_OF_CHOICE.items() if not saved[name]]
    measured_answer = never_saved[0] if len(never_saved) == 1 else "d" if not never_saved else None
    if measured_answer != "b":  # the explanation below would not hold: report what was measured instead
        if measured_answer is None:
            return wrong("this measurement found more than one output that is not saved; see the line above.")
        verdict_for = right if answer == measured_answer else wrong
        return verdict_for(f"this measurement says {measured_answer}) {NEVER_SAVED_CHOICES[measured_answer]}.")
    if answer == "b":
        return right(
            "In PyTorch, BatchNorm's output is never saved. The ReLU could keep its input or its output "
            "(1[x > 0] = 1[y > 0]); it keeps its output, which the next conv's weight gradient reads anyway, so one "
            "tensor serves both and BatchNorm's output need not be kept. PyTorch's BatchNorm backward reads its own "
            "input (the conv's output). So each layer keeps two full-resolution maps, not three. That is PyTorch's "
            "choice, not a law: BatchNorm's backward can also be written to read its output. InPlace-ABN (Rota Bulò "
            "et al., CVPR 2018) follows BatchNorm with an invertible activation (leaky ReLU, not ReLU, whose zeros "
            "cannot be undone), keeps only the activation's output and recovers BatchNorm's output from it, so it "
            "keeps one map per layer."
        )
    if answer == "a":
        return wrong("the conv's output is BatchNorm's input, and PyTorch's BatchNorm backward reads its input: it "
                     "recomputes (x - mean) / std. (The conv's own backward reads its input x, for dL/dw = g * x.) "
                     "A BatchNorm that reads its output instead exists (InPlace-ABN), but it is not PyTorch's.")
    if answer == "c":
        return wrong("in PyTorch the ReLU's backward reads its own output y: dL/dx = g * [y > 0] needs where y is "
                     "positive (its input would do too, but y is also the next conv's input, which that conv's "
                     "weight gradient needs, so keeping y saves a map).")
    return wrong("autograd keeps only what some backward formula reads. In PyTorch the conv's backward reads its input "
                 "(dL/dw = g * x); the ReLU's reads its output (dL/dx = g * [y > 0]); BatchNorm's reads its input "
                 "(it recomputes (x - mean) / std). Which output does none of them read?")


# (in_channels, width, depth, batch_norm); in_channels is 1 or 3, as FullResolutionNet requires.
_SAVED_CASES = ((3, 16, 18, True), (1, 8, 3, True), (3, 8, 3, False), (1, 4, 1, False))


def _saved_bytes_per_pixel_measured(in_channels: int, width: int, depth: int, batch_norm: bool) -> Fraction:
    """Bytes per input pixel that autograd saves for a FullResolutionNet in training mode (float32)."""
    model = FullResolutionNet(in_channels, 2, width=width, depth=depth, batch_norm=batch_norm)
    small, large = (
        activation_memory(model, (1, in_channels, side, side), backward=True) for side in (8, 16)
    )
    return Fraction(large - small, 16 * 16 - 8 * 8)  # the slope: fixed BatchNorm statistics drop out


def check_saved_bytes_prediction(prediction: Any) -> bool:
    """``prediction``: bytes per pixel autograd saves for FullRes-18 without BatchNorm, predicted before measuring.

    The network is ``FullResolutionNet(3, 4, width=16, depth=18, batch_norm=False)`` in training mode,
    float32, one image. The check measures the slope of
    :func:`segedu.analysis.costs.activation_memory` (``backward=True``), prints it and compares.
    """
    if prediction is ... or prediction is None:
        return wrong("write your prediction first: replace the `...` with a number of bytes per pixel.")
    if isinstance(prediction, bool) or not isinstance(prediction, (int, float, Fraction)) or prediction < 0:
        return wrong(f"you wrote {prediction!r}; write a number of bytes per pixel (>= 0).")
    measured = _saved_bytes_per_pixel_measured(3, 16, 18, False)
    print(f"measured: autograd saves {float(measured):g} bytes per pixel for FullRes-18 without BatchNorm")
    if prediction == measured:
        return right(
            "without BatchNorm each layer keeps one full-resolution map, the ReLU's output, which is also the "
            "next conv's input (stored once), plus the image the first conv reads: 3 x 4 + 18 x 16 x 4 bytes. "
            "Nothing saves the conv's output any more: with BatchNorm it was kept as BatchNorm's input."
        )
    with_batch_norm = _saved_bytes_per_pixel_measured(3, 16, 18, True)
    if prediction == with_batch_norm:
        return wrong(
            "that is what autograd saves *with* BatchNorm (the line measured earlier in the lesson). Without "
            "BatchNorm, which module would still need the conv's output?"
        )
    if prediction * 4 == measured:
        return wrong("each float32 value takes 4 bytes.")
    if prediction == measured - 4 * 3:
        return wrong("the first conv needs its input (the 3-channel image) for its weight gradient: it is saved too.")
    if prediction > measured and (prediction - measured) % (4 * 16) == 0:
        return wrong(
            "you counted too many feature maps: a tensor that two modules save (a ReLU's output is also the "
            "next conv's input) is stored once."
        )
    return wrong(
        f"your prediction {prediction!r} is not what autograd saves. For one layer list what each module saves "
        "(conv: its input; ReLU: its output), count a tensor that two modules save once, add the image, and "
        "multiply by 4 bytes."
    )


def check_saved_bytes_per_pixel(saved_bytes_per_pixel: Callable[[int, int, int, bool], float]) -> bool:
    """``saved_bytes_per_pixel(in_channels, width, depth, batch_norm)``: autograd's bytes per pixel.

    The network is ``FullResolutionNet(in_channels, num_classes, width=width, depth=depth,
    batch_norm=batch_norm)`` in training mode, float32, one image; the answer is compared with the
    slope of :func:`segedu.analysis.costs.activation_memory` (``backward=True``) between two sizes.
    """
    return check_cases(
        saved_bytes_per_pixel,
        _SAVED_CASES,
        _saved_bytes_mistake,
        success=(
            "per pixel autograd keeps the input image, and per layer the conv's output (BatchNorm's "
            "input) and the ReLU's output (which the next conv also needs, stored once). BatchNorm's "
            "output is never kept: ReLU's gradient needs only where its own output is positive."
        ),
        returns="a number of bytes per pixel",
    )


def _saved_bytes_mistake(answer: Any, in_channels: int, width: int, depth: int, batch_norm: bool) -> str | None:
    if isinstance(answer, bool) or not isinstance(answer, (int, float, Fraction)):
        return f"you returned {answer!r}; return a number of bytes per pixel."
    expected = _saved_bytes_per_pixel_measured(in_channels, width, depth, batch_norm)
    if answer == expected:
        return None
    case = f"for in_channels={in_channels}, width={width}, depth={depth}, batch_norm={batch_norm}"
    if answer * 4 == expected:
        return f"{case}: each float32 value takes 4 bytes."
    if answer == expected - 4 * in_channels:
        return f"{case}: the first conv needs its input (the image) for its weight gradient, so it is saved too."
    if answer > expected and (answer - expected) % (4 * width) == 0:
        return (
            f"{case} you counted too many feature maps: a tensor that two layers save (a ReLU's output is "
            "also the next conv's input) is stored once, and an output that no rule names is not saved."
        )
    return (
        f"{case} you returned {answer!r} bytes per pixel; autograd saves a different amount. For one layer, "
        "list what each module saves (conv: its input; BatchNorm: its input; ReLU: its output), count a "
        "tensor that two modules save once, then add the layers up."
    )


def check_layers_after_pooling(layers_after_pooling: Callable[[int, int], int]) -> bool:
    """``layers_after_pooling(size, pools)``: fewest stride-1 3x3 layers after ``pools`` 2x2 poolings seeing >= size."""
    return check_cases(
        layers_after_pooling,
        [(3, 0), (37, 0), (2, 1), (16, 2), (100, 2), (200, 3), (1024, 4), (1000, 5)],
        _layers_after_pooling_mistake,
        success=(
            "after p poolings the window is 2**p (1 + 2L): every 3x3 layer adds 2 * 2**p pixels, so each "
            "pooling roughly halves the number of layers needed to see an object."
        ),
        returns="a whole number of layers",
    )


def _window_after_pooling(pools: int, layers: int) -> int:
    return stack_receptive_field([(2, 2)] * pools + [(3, 1)] * layers) if pools + layers else 1


def _layers_after_pooling_mistake(answer: Any, size: int, pools: int) -> str | None:
    if not _is_whole_number(answer) or answer < 0:
        return f"for a {size}-pixel window after {pools} pooling(s) you returned {answer!r}; return a whole number >= 0."
    window = _window_after_pooling(pools, answer)
    case = f"for a {size}-pixel window after {pools} pooling(s)"
    if window < size:
        return (
            f"{case}: {answer} layers see only {window} pixels. After a 2x2 pooling neighbouring inputs "
            "are 2 pixels apart, so each later 3x3 layer adds more than 2 pixels."
        )
    if answer > 0 and _window_after_pooling(pools, answer - 1) >= size:
        return f"{case}: {answer} layers see {window} pixels, but fewer layers already see {size}."
    return None


def _conv_output_bytes(height: int, width: int, in_channels: int, out_channels: int) -> int:
    conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
    return activation_memory(conv, (1, in_channels, height, width))


# Exercise 4: the layers after the step down have 3/2 of the channels (a gentler growth than VGG's doubling).
SHARES_EXERCISE_GROWTH = Fraction(3, 2)


def _shares_saved_measured() -> tuple[Fraction, Fraction]:
    """Shares of a 3x3 layer's MACs and output bytes saved by one 2x downsampling that widens 8 -> 12 channels."""
    later = int(8 * SHARES_EXERCISE_GROWTH)
    full_macs, half_macs = _conv_macs_measured(16, 16, 8, 8), _conv_macs_measured(8, 8, later, later)
    full_bytes, half_bytes = _conv_output_bytes(16, 16, 8, 8), _conv_output_bytes(8, 8, later, later)
    return Fraction(full_macs - half_macs, full_macs), Fraction(full_bytes - half_bytes, full_bytes)


def _is_share(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, Fraction)) and -10 <= value <= 1


def _near(value: float, target: float) -> bool:
    return abs(value - target) <= 0.01


def check_saved_shares_prediction(prediction: Any) -> bool:
    """``prediction``: (share of MACs saved, share of output bytes saved) by a 2x downsampling widening by 1.5.

    The memory measure is the size of the layer's output (one feature map), not what autograd saves.
    A layer of ``C -> C`` channels at ``H x W`` is compared with the same layer at ``H/2 x W/2`` with
    ``1.5C -> 1.5C`` channels (:data:`SHARES_EXERCISE_GROWTH`). The check measures both shares with
    :func:`~segedu.analysis.costs.count_macs` and :func:`~segedu.analysis.costs.activation_memory` on
    real convolutions (8 -> 8 channels at 16x16, 12 -> 12 at 8x8), prints them and compares.
    """
    if prediction is ... or prediction is None or (isinstance(prediction, tuple) and ... in prediction):
        return wrong(
            "write your prediction first: replace the `...` with two numbers, "
            "(share of MACs saved, share of output bytes saved)."
        )
    if not isinstance(prediction, (tuple, list)) or len(prediction) != 2 or not all(map(_is_share, prediction)):
        return wrong(
            f"you wrote {prediction!r}; write two shares, (MACs saved, output bytes saved), each a number "
            "at most 1 (0 means nothing saved; negative means it costs more)."
        )
    macs_share, bytes_share = _shares_saved_measured()
    print(f"measured: the step down saves {float(macs_share):.4f} of the MACs and {float(bytes_share):.4f} of the "
          "output bytes")
    macs_guess, bytes_guess = prediction
    macs_right, bytes_right = _near(macs_guess, macs_share), _near(bytes_guess, bytes_share)
    if macs_right and bytes_right:
        return right(
            "a quarter of the pixels, but each output value now sums over 1.5 times the input channels and there "
            "are 1.5 times as many output channels: the MACs become 1/4 x 1.5 x 1.5 = 0.5625 of what they were, "
            "so 1 - 0.5625 = 0.4375 is saved. The output has a quarter of the pixels and 1.5 times the channels: "
            "1/4 x 1.5 = 0.375 of the bytes remain, 0.625 is saved (autograd keeps two such maps per conv -> "
            "BatchNorm -> ReLU layer, so per layer the same share of what it saves). Compute grows with the square "
            "of the width, memory only linearly: with doubling (2 x 2 / 4 = 1) an encoder keeps its MACs per level constant "
            "while its memory per level halves."
        )
    hints = []
    if not macs_right:
        if _near(macs_guess, 0.5625):
            hints.append("MACs: 0.5625 is the share of the MACs that remains; the question asks for the share saved.")
        elif _near(macs_guess, 0.75):
            hints.append("MACs: 3/4 is the saving at the same width; here C_in and C_out both grow.")
        elif _near(macs_guess, 0):
            hints.append("MACs: nothing is saved when the channels double (1/4 x 2 x 2); here they grow by 1.5.")
        elif _near(macs_guess, 0.625):
            hints.append("MACs: the width enters twice, through C_in and through C_out.")
        else:
            hints.append("MACs: write H * W * C_in * C_out * 9 before and after the step and compare.")
    if not bytes_right:
        if _near(bytes_guess, 0.375):
            hints.append("bytes: 0.375 is the share of the output bytes that remains; the question asks for the "
                         "share saved.")
        elif _near(bytes_guess, 0.75):
            hints.append("bytes: a quarter of the pixels, but the output has 1.5 times the channels.")
        elif _near(bytes_guess, 0.4375):
            hints.append("bytes: a layer's output has C_out channels only; C_in does not enter its size.")
        elif _near(bytes_guess, 0.5):
            hints.append("bytes: half is saved when the channels double; here they grow by 1.5.")
        else:
            hints.append("bytes: a layer's output holds H * W * C_out numbers; compare before and after the step.")
    return wrong(" ".join(hints))


def check_macs_saved_by_downsampling(macs_saved: Callable[[int, int, int, int, int], int]) -> bool:
    """``macs_saved(height, width, channels, num_layers, later_channels)``: MACs saved at half size.

    ``num_layers`` 3x3 layers of ``channels -> channels`` at ``height x width`` are compared with the
    same number of layers of ``later_channels -> later_channels`` at ``height/2 x width/2``.
    """
    return check_cases(
        macs_saved,
        [(16, 16, 8, 2, 8), (32, 64, 4, 3, 8), (8, 12, 16, 1, 24), (8, 12, 16, 1, 16), (8, 8, 2, 2, 6)],
        _macs_saved_mistake,
        success="one 2x downsampling multiplies a layer's MACs by 1/4 x (C_later / C)^2: it saves 3/4 at the same "
        "width, nothing when the channels double, and costs more beyond that.",
        returns="a whole number of MACs",
    )


def _macs_saved_mistake(
    answer: Any, height: int, width: int, channels: int, num_layers: int, later_channels: int
) -> str | None:
    full = _conv_macs_measured(height, width, channels, channels) * num_layers
    half = _conv_macs_measured(height // 2, width // 2, later_channels, later_channels) * num_layers
    if answer == full - half:
        return None
    case = (f"{num_layers} layer(s) of {channels} -> {channels} channels at {height}x{width}, "
            f"{later_channels} -> {later_channels} after the step")
    same_width_half = _conv_macs_measured(height // 2, width // 2, channels, channels) * num_layers
    if later_channels != channels and answer == full - same_width_half:
        return f"for {case}: at half size the layers have later_channels in and out; use them."
    if answer == full - full // 2:
        return f"for {case}: halving the side divides the pixels by 4, not 2."
    if answer == half:
        return f"for {case} you returned the MACs that remain; return full minus half-resolution MACs."
    return (
        f"for {case} you returned {answer!r}, which is not the difference count_macs measures between "
        "full and half size. Compute both with your conv_macs and subtract."
    )


# Exercise 5: a stack whose dilations restart after three layers, as some networks repeat a block of rates.
WINDOW_EXERCISE_DILATIONS = (1, 2, 4, 1, 2, 4)


def _measured_exercise_window() -> int:
    with torch.random.fork_rng():  # the learner's random state is left as it was
        torch.manual_seed(0)
        model = FullResolutionNet(3, 2, width=16, depth=len(WINDOW_EXERCISE_DILATIONS),
                                  dilations=WINDOW_EXERCISE_DILATIONS)
    return measured_receptive_field(model, in_channels=3, input_size=64, samples=4)


def check_dilated_window_prediction(prediction: Any) -> bool:
    """``prediction``: the receptive field (pixels) of 3x3 layers with :data:`WINDOW_EXERCISE_DILATIONS`.

    The check builds ``FullResolutionNet(3, 2, depth=6, dilations=WINDOW_EXERCISE_DILATIONS)``,
    measures its window with gradients (:func:`~segedu.analysis.receptive_field.measured_receptive_field`),
    prints it and compares.
    """
    if prediction is ... or prediction is None:
        return wrong("write your prediction first: replace the `...` with a whole number of pixels.")
    if not _is_whole_number(prediction) or prediction < 1:
        return wrong(f"you wrote {prediction!r}; the window is a whole number of pixels (>= 1).")
    measured = _measured_exercise_window()
    print(f"measured with gradients: the centre output pixel sees a {measured} x {measured} window")
    dilations = WINDOW_EXERCISE_DILATIONS
    if prediction == measured:
        return right(
            "every 3x3 layer with dilation d adds 2d pixels (d on each side), wherever it sits in the stack: "
            "1 + 2 x (1 + 2 + 4 + 1 + 2 + 4). Repeating a block of rates adds its window once more, so the "
            "window grows linearly with the number of blocks; only rates that keep doubling make it exponential."
        )
    if prediction == 2 ** (len(dilations) + 1) - 1:
        return wrong("2^(L+1) - 1 holds when the dilations keep doubling (1, 2, 4, 8, 16, 32); these restart at 1.")
    if prediction == 1 + 2 * len(dilations):
        return wrong("that is the window of six ordinary 3x3 layers; a layer with dilation d reaches d pixels each way.")
    if prediction == 1 + sum(dilations):
        return wrong("a 3x3 layer with dilation d widens the window by d on *each* side.")
    if prediction == 2 * sum(dilations):
        return wrong("off by one: before any layer the window is the centre pixel itself.")
    return wrong(
        f"your prediction {prediction} is not the measured window. Add up what each layer adds to the window, "
        "starting from the one centre pixel."
    )


ERF_DEPTH_CHOICES = {
    "a": "it falls: the effective field grows faster than the theoretical window and spreads towards its edges",
    "b": "it stays about the same: the effective field grows in proportion to the theoretical window",
    "c": "it grows: the effective field widens more slowly than the theoretical window",
}
# Changes of the share smaller than this count as "about the same" (choice b).
_ERF_SAME_MARGIN = 0.02


def erf_depth_shares() -> dict[int, float]:
    """Exercise 6's measurement: depth -> mean over the seeds of :func:`erf_depth_seed_shares`."""
    return {depth: sum(values) / len(values) for depth, values in erf_depth_seed_shares().items()}


def erf_depth_seed_shares() -> dict[int, tuple[float, ...]]:
    """Exercise 6's measurement, seed by seed: depth -> share of the gradient in the centred half-side square.

    Plain stride-1 3x3 stacks of 8 and 16 layers at random initialisation (seeds 0, 1, 2; 4 random
    images each); the square's side is the odd number nearest to half the window (9 for 17, 17 for 33).
    Computed once, then cached.
    """
    return dict(_half_square_shares())


@functools.cache
def _half_square_shares(
    depths: tuple[int, ...] = (8, 16), seeds: tuple[int, ...] = (0, 1, 2)
) -> dict[int, tuple[float, ...]]:
    """Per seed, the share of the gradient in the centred half-window square, plain stacks at random initialisation."""
    shares = {}
    for depth in depths:
        values = []
        for seed in seeds:
            with torch.random.fork_rng():  # the learner's random state is left as it was
                torch.manual_seed(seed)
                model = FullResolutionNet(3, 2, width=16, depth=depth)
            field = effective_receptive_field(
                model.features, in_channels=3, input_size=model.receptive_field + 16, samples=4, seed=seed
            )
            values.append(centred_share(field, model.receptive_field // 2 | 1))
        shares[depth] = tuple(values)
    return shares


def check_erf_depth_answer(answer: Any) -> bool:
    """``answer``: the letter of :data:`ERF_DEPTH_CHOICES` that says what depth does to the effective field.

    The question: a plain stride-1 3x3 stack at random initialisation goes from 8 to 16 layers (window
    17 -> 33 pixels); what happens to the share of the gradient in the centred square of half the window's
    side? The check measures it (3 seeds, 4 random images each) and explains.
    """
    hint = choice_hint(answer, ERF_DEPTH_CHOICES)
    if hint is not None:
        return wrong(hint)
    per_seed = erf_depth_seed_shares()
    shares = {depth: sum(values) / len(values) for depth, values in per_seed.items()}
    print("measured share in the centred half-side square, mean of 3 seeds (each seed): "
          + ", ".join(f"{depth} layers {shares[depth]:.2f} ({', '.join(f'{v:.2f}' for v in values)})"
                      for depth, values in per_seed.items())
          + f"; change from 8 to 16 layers {shares[16] - shares[8]:+.2f}")
    change = shares[16] - shares[8]
    measured_answer = "c" if change > _ERF_SAME_MARGIN else "a" if change < -_ERF_SAME_MARGIN else "b"
    if measured_answer != "c":  # the explanation below would not hold: report what was measured instead
        verdict_for = right if answer == measured_answer else wrong
        return verdict_for(f"this measurement says {measured_answer}) {ERF_DEPTH_CHOICES[measured_answer]}.")
    if answer == "c":
        return right(
            "a gradient reaching the input adds up paths through L random layers, each shifting it by -1, 0 or +1 "
            "pixel: like the sum of L random steps it spreads like the square root of L (Luo et al. 2016: close to "
            "a Gaussian), while the theoretical window grows like L. So the effective field fills an ever smaller "
            "part of the window, and a square of half the window holds more and more of the gradient."
        )
    return wrong(
        "the theoretical window grows by 2 pixels per layer, but does the gradient spread that fast? It adds up "
        "paths that each shift by -1, 0 or +1 pixel per layer: how far does a sum of L random steps usually go? "
        "Compare the measured shares above."
    )
