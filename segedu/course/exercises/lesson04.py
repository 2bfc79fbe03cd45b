"""Checks for lesson 04 (the price of keeping full resolution).

Each check compares the learner's answer with a measurement: :func:`segedu.analysis.costs.count_macs`
on the U-Net's deepest conv and a full-resolution one, how many outputs of a conv -> BatchNorm -> ReLU
layer autograd saves, the receptive field of a dilated :class:`~segedu.models.FullResolutionNet` measured
with gradients, and the effective receptive field of plain stacks. Hints name the likely mistake; they
never print the expected answer (a prediction's check prints the measurement it compares with).
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import torch
from torch import nn

from segedu.analysis.costs import count_macs
from segedu.analysis.receptive_field import centred_share, effective_receptive_field, measured_receptive_field
from segedu.course.exercises._verdict import choice_hint, right, wrong
from segedu.models import FullResolutionNet

__all__ = [
    "DEEPEST_UNET_CONV",
    "ERF_DEPTH_CHOICES",
    "FULL_RES_CONV",
    "MAPS_KEPT_CHOICES",
    "WINDOW_EXERCISE_BLOCK",
    "WINDOW_EXERCISE_BLOCKS",
    "WINDOW_EXERCISE_DILATIONS",
    "check_deepest_conv_ratio",
    "check_dilated_window_prediction",
    "check_erf_depth_answer",
    "check_maps_kept_answer",
    "erf_depth_seed_shares",
    "erf_depth_shares",
    "layer_outputs_saved",
]

# Exercise 1 at a 1024x1024 input, as (height, width, in_channels, out_channels): the U-Net's deepest 3x3 conv
# (1/16 of the side, 256 channels in and out) and a FullRes-18 layer (every pixel, 16 channels).
DEEPEST_UNET_CONV = (64, 64, 256, 256)
FULL_RES_CONV = (1024, 1024, 16, 16)


def _is_whole_number(answer: Any) -> bool:
    return isinstance(answer, int) and not isinstance(answer, bool)


def _conv_macs_measured(height: int, width: int, in_channels: int, out_channels: int) -> int:
    """count_macs of a same-padded 3x3 nn.Conv2d, on the meta device (shapes only, no arithmetic)."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, device="meta")
    return count_macs(conv, (1, in_channels, height, width))


def check_deepest_conv_ratio(prediction: Any) -> bool:
    """``prediction``: MACs of the U-Net's deepest 3x3 conv over those of a FullRes-18 layer, at 1024x1024.

    The shapes are :data:`DEEPEST_UNET_CONV` and :data:`FULL_RES_CONV`. The check counts both with
    :func:`~segedu.analysis.costs.count_macs` on real ``nn.Conv2d`` layers, prints the counts and compares.
    """
    if prediction is ... or prediction is None:
        return wrong("write your prediction first: replace the `...` with a number.")
    if isinstance(prediction, bool) or not isinstance(prediction, numbers.Real):
        return wrong(f"you wrote {prediction!r}; write a number, such as 0.25 or 1 / 8.")
    deepest, full = _conv_macs_measured(*DEEPEST_UNET_CONV), _conv_macs_measured(*FULL_RES_CONV)
    print(f"count_macs: the U-Net's deepest conv (64x64, 256 -> 256 channels) {deepest:,} MACs; "
          f"a FullRes-18 layer (1024x1024, 16 -> 16) {full:,} MACs")

    def near(value: float) -> bool:
        return math.isclose(float(prediction), value, rel_tol=1e-3)

    if near(deepest / full):
        return right(
            "the ratio is 1. A 3x3 conv costs H x W x C_in x C_out x 9 MACs: one dot product over 3 x 3 x C_in inputs per "
            "output value. 1/16 of the side is 1/256 of the pixels; 16 times the channels in and 16 times out is "
            "256 times the MACs per pixel. They cancel: halving the map while doubling the channels keeps a "
            "layer's MACs, so the U-Net's deepest conv costs as much as a 16 -> 16 FullRes-18 layer (every one but "
            "its first, which reads only the 3 image channels)."
        )
    if near(1 / 256):
        return wrong("you counted the pixels (1/256 of them) but not the channels: each dot product is 16 times "
                     "longer, and there are 16 times as many output channels.")
    if near(256):
        return wrong("you counted the channels (16 x 16 = 256 times) but not the pixels: 1/16 of the side is how "
                     "many of the pixels?")
    if near(1 / 16) or near(16):
        return wrong("count both factors: the pixels shrink with the square of the side, and the channels grow "
                     "16 times on the input and 16 times on the output.")
    return wrong(f"your prediction {prediction} is not the measured ratio. How do a 3x3 conv's MACs grow with the "
                 "number of pixels, with C_in and with C_out?")


MAPS_KEPT_CHOICES = {
    "a": "one",
    "b": "two",
    "c": "three",
}
_COUNT_OF_CHOICE = {"a": 1, "b": 2, "c": 3}


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


def check_maps_kept_answer(answer: Any) -> bool:
    """``answer``: the letter of :data:`MAPS_KEPT_CHOICES`: how many of a layer's three outputs autograd keeps.

    The check measures it with :func:`layer_outputs_saved`, prints the measurement and explains.
    """
    hint = choice_hint(answer, MAPS_KEPT_CHOICES)
    if hint is not None:
        return wrong(hint)
    saved = layer_outputs_saved()
    print("measured on a conv -> BatchNorm -> ReLU layer in training mode: "
          + ", ".join(f"{name} output {'saved' if kept else 'not saved'}" for name, kept in saved.items()))
    measured_answer = {count: letter for letter, count in _COUNT_OF_CHOICE.items()}[sum(saved.values())]
    if measured_answer != "b" or saved["batch_norm"]:  # the explanation below would not hold
        verdict_for = right if answer == measured_answer else wrong
        return verdict_for(f"this measurement says {measured_answer}) {MAPS_KEPT_CHOICES[measured_answer]}.")
    if answer == "b":
        return right(
            "two. The ReLU's output is the next conv's input, which that conv's dL/dw reads, so it is kept; the "
            "ReLU reads its mask from it (1[y > 0] = 1[x > 0]), one tensor serving both. BatchNorm reads its input, "
            "the conv's output, so that is kept too. Nothing reads BatchNorm's output. That is PyTorch's choice, not "
            "a law: InPlace-ABN (Rota Bulò et al., CVPR 2018) writes BatchNorm's backward to read its output and "
            "uses an invertible activation (leaky ReLU) whose output gives that back, so it keeps one map per layer."
        )
    if answer == "a":
        return wrong("the ReLU's output must be kept (the next conv's dL/dw reads it), but BatchNorm's backward, as "
                     "given, reads its own input, the conv's output: which other output must stay?")
    return wrong("a tensor is kept only if some backward formula reads it. The ReLU can take its mask from its own "
                 "output, which the next conv keeps anyway. Which formula then still reads BatchNorm's output?")


# Exercise 3: a block of rates repeated, as some networks do instead of doubling the rate forever.
WINDOW_EXERCISE_BLOCK = (1, 2, 4)
WINDOW_EXERCISE_BLOCKS = 4
WINDOW_EXERCISE_DILATIONS = WINDOW_EXERCISE_BLOCK * WINDOW_EXERCISE_BLOCKS


@functools.cache
def _measured_block_windows(block_counts: tuple[int, ...] = (1, 2, WINDOW_EXERCISE_BLOCKS)) -> dict[int, int]:
    """Number of repeated blocks -> window of the stack, measured with gradients."""
    windows = {}
    for blocks in block_counts:
        with torch.random.fork_rng():  # the learner's random state is left as it was
            torch.manual_seed(0)
            model = FullResolutionNet(3, 2, width=16, depth=3 * blocks, dilations=WINDOW_EXERCISE_BLOCK * blocks)
        windows[blocks] = measured_receptive_field(model, in_channels=3, input_size=72, samples=4)
    return windows


def check_dilated_window_prediction(prediction: Any) -> bool:
    """``prediction``: the receptive field (pixels) of 3x3 layers with :data:`WINDOW_EXERCISE_DILATIONS`.

    That is :data:`WINDOW_EXERCISE_BLOCKS` repeats of the block :data:`WINDOW_EXERCISE_BLOCK`. The check
    builds stacks of 1, 2 and 4 blocks (``FullResolutionNet(..., dilations=...)``), measures their windows
    with gradients (:func:`~segedu.analysis.receptive_field.measured_receptive_field`), prints them and
    compares the prediction with the 4-block window.
    """
    if prediction is ... or prediction is None:
        return wrong("write your prediction first: replace the `...` with a whole number of pixels.")
    if not _is_whole_number(prediction) or prediction < 1:
        return wrong(f"you wrote {prediction!r}; the window is a whole number of pixels (>= 1).")
    windows = _measured_block_windows()
    measured = windows[WINDOW_EXERCISE_BLOCKS]
    print("measured with gradients, blocks of dilations (1, 2, 4): "
          + ", ".join(f"{blocks} block{'s' * (blocks > 1)} {window} pixels" for blocks, window in windows.items()))
    dilations = WINDOW_EXERCISE_DILATIONS
    block_window = windows[1]
    if prediction == measured:
        return right(
            "the window grows linearly with the number of blocks. Every 3x3 layer with dilation d adds 2d pixels "
            "(d on each side) wherever it sits, so each block adds 2 x (1 + 2 + 4) = 14 pixels: 4 blocks see "
            "1 + 4 x 14 = 57. Only rates that keep doubling make the window exponential in depth."
        )
    if prediction == 2 ** (len(dilations) + 1) - 1:
        return wrong("2^(L+1) - 1 holds only while the dilations keep doubling (1, 2, 4, 8, ...); these restart at 1 "
                     "in every block.")
    if prediction == WINDOW_EXERCISE_BLOCKS * block_window:
        return wrong(f"the blocks' windows overlap: a second block on a {block_window}-pixel window widens it by "
                     f"{block_window - 1} pixels, not {block_window}.")
    if prediction == 1 + 2 * len(dilations):
        return wrong(f"that is the window of {len(dilations)} ordinary 3x3 layers; a layer with dilation d reaches d "
                     "pixels each way.")
    if prediction == 1 + sum(dilations):
        return wrong("a 3x3 layer with dilation d widens the window by d on *each* side.")
    if prediction == 2 * sum(dilations):
        return wrong("off by one: before any layer the window is the centre pixel itself.")
    if prediction > 2 * measured:
        return wrong(f"your prediction {prediction} is far wider than the measured window. Does a block multiply the "
                     "window by a factor, or add a fixed number of pixels?")
    return wrong(
        f"your prediction {prediction} is not the measured window. Add up what each layer adds to the window, "
        "starting from the one centre pixel."
    )


ERF_DEPTH_CHOICES = {
    "a": "it falls",
    "b": "it stays about the same (changes by less than 0.02)",
    "c": "it grows",
}
# Changes of the share smaller than this count as "about the same" (choice b).
_ERF_SAME_MARGIN = 0.02


def erf_depth_shares() -> dict[int, float]:
    """Exercise 4's measurement: depth -> mean over the seeds of :func:`erf_depth_seed_shares`."""
    return {depth: sum(values) / len(values) for depth, values in erf_depth_seed_shares().items()}


def erf_depth_seed_shares() -> dict[int, tuple[float, ...]]:
    """Exercise 4's measurement, seed by seed: depth -> share of the gradient in the centred half-side square.

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
