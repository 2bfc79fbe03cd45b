"""Checks for the exercises of lesson 06 (upsampling).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from segedu.analysis.upsampling import bed_of_nails, checkerboard_pattern, nearest_upsample
from segedu.course.exercises._verdict import call_answer, check_cases, read_letters, right, wrong

__all__ = [
    "CHECKERBOARD_LAYERS",
    "DOUBLING_STATEMENTS",
    "check_bed_of_nails",
    "check_checkerboard_prediction",
    "check_conv_matrix_shape_prediction",
    "check_doubling_layer",
    "check_doubling_statements",
    "check_flat_kernel",
    "check_transposed_output_size",
    "compare_checkerboard_prediction",
]


def _torch_output_size(size: int, kernel_size: int, stride: int, padding: int, output_padding: int) -> int:
    """The output side PyTorch's transposed convolution really produces."""
    weight = torch.zeros(1, 1, kernel_size, kernel_size)
    output = F.conv_transpose2d(
        torch.zeros(1, 1, size, size), weight, stride=stride, padding=padding, output_padding=output_padding
    )
    return output.shape[-1]


# Cases where the output has at least one pixel: (size, kernel_size, stride, padding, output_padding).
# PyTorch allows output_padding only below the stride.
_SIZE_CASES = [
    (size, kernel_size, stride, padding, output_padding)
    for size in (1, 3, 4, 7)
    for kernel_size in (1, 2, 3, 4, 5)
    for stride in (1, 2, 3)
    for padding in (0, 1, 2)
    for output_padding in range(stride)
    if (size - 1) * stride + kernel_size - 2 * padding + output_padding >= 1
]


_MEASURE = (
    "run F.conv_transpose2d on a zero image with the other settings fixed and this one at 0, 1 and 2 "
    "(output_padding must stay below the stride, so use stride 3), and see how the output side changes."
)

# Formulas learners often write, each with the hint it deserves; the hints explain, they do not give the formula.
_KNOWN_SIZE_MISTAKES: list[tuple[Callable[[int, int, int, int, int], int], str]] = [
    (
        lambda size, kernel_size, stride, padding, output_padding: (size - 1) * stride + kernel_size,
        f"your function ignores padding and output_padding: {_MEASURE}",
    ),
    (
        lambda size, kernel_size, stride, padding, output_padding: (size - 1) * stride + kernel_size + output_padding,
        f"your function ignores padding. In a transposed convolution padding does not add rows: {_MEASURE}",
    ),
    (
        lambda size, kernel_size, stride, padding, output_padding: (size - 1) * stride - 2 * padding + kernel_size,
        f"your function ignores output_padding: {_MEASURE}",
    ),
    (
        lambda size, kernel_size, stride, padding, output_padding: (
            (size - 1) * stride + 2 * padding + kernel_size + output_padding
        ),
        f"padding makes a transposed convolution's output smaller, not larger: {_MEASURE}",
    ),
    (
        lambda size, kernel_size, stride, padding, output_padding: (
            (size - 1) * stride - padding + kernel_size + output_padding
        ),
        f"padding changes the side, but not by `padding`: it acts at both ends of the side ({_MEASURE})",
    ),
    (
        lambda size, kernel_size, stride, padding, output_padding: (size + 2 * padding - kernel_size) // stride + 1,
        "that is the size formula of an ordinary convolution, which shrinks; the transposed one goes the "
        "other way: stamps land `stride` apart and each is `kernel_size` wide.",
    ),
]


def check_transposed_output_size(function: Callable[[int, int, int, int, int], int]) -> bool:
    """Check ``function(size, kernel_size, stride, padding, output_padding)`` against PyTorch's output sizes.

    A function that agrees everywhere with a common wrong formula (padding ignored, an ordinary
    convolution's formula, ...) gets that mistake's hint; any other wrong function gets the first
    case where it differs from PyTorch.
    """
    answers = []
    for case in _SIZE_CASES:
        found, problem = call_answer(function, *case)
        if problem is not None:
            break  # check_cases reports it
        answers.append(found)
    else:
        for formula, hint in _KNOWN_SIZE_MISTAKES:
            if answers != [_torch_output_size(*case) for case in _SIZE_CASES] and all(
                found == formula(*case) for found, case in zip(answers, _SIZE_CASES)
            ):
                return wrong(hint)
    return check_cases(
        function,
        _SIZE_CASES,
        _output_size_mistake,
        success=(
            "output = (size - 1) * stride - 2 * padding + kernel_size + output_padding, as PyTorch computes it."
        ),
        returns="a whole number",
    )


def _output_size_mistake(
    found: Any, size: int, kernel_size: int, stride: int, padding: int, output_padding: int
) -> str | None:
    expected = _torch_output_size(size, kernel_size, stride, padding, output_padding)
    if found == expected:
        return None
    case = (
        f"size={size}, kernel_size={kernel_size}, stride={stride}, padding={padding}, "
        f"output_padding={output_padding}"
    )
    return f"for {case} PyTorch gives {expected}, your function gives {found!r}."


def check_bed_of_nails(function: Callable[[torch.Tensor, int], Any]) -> bool:
    """Check ``function(x, scale)`` against :func:`segedu.analysis.upsampling.bed_of_nails`."""
    generator = torch.Generator().manual_seed(5)
    shapes_and_scales = (((1, 1, 3, 3), 2), ((2, 3, 4, 5), 3), ((1, 2, 2, 3), 1))
    cases = [(torch.rand(*shape, generator=generator) + 0.5, scale) for shape, scale in shapes_and_scales]  # no zeros
    return check_cases(
        function,
        cases,
        _bed_of_nails_mistake,
        success="every pixel is a nail at the top-left of a block of zeros.",
        returns="a tensor",
    )


def _bed_of_nails_mistake(found: Any, x: torch.Tensor, scale: int) -> str | None:
    expected = bed_of_nails(x, scale)
    if not isinstance(found, torch.Tensor):
        return f"return a tensor; got {type(found).__name__}."
    if found.shape != expected.shape:
        return (
            f"for x of shape {tuple(x.shape)} and scale={scale} the result should have shape "
            f"{tuple(expected.shape)} (B, C, H * scale, W * scale); got {tuple(found.shape)}."
        )
    if torch.allclose(found, expected):
        return None
    if torch.allclose(found, nearest_upsample(x, scale)):
        return "that is nearest upsampling: a bed of nails keeps one pixel per block, the rest zero."
    if torch.equal((found != 0), (expected != 0)):
        return "the nails are in the right places but hold wrong values: copy x there unchanged."
    return (
        "the nails are not where bed_of_nails puts them: each belongs at the top-left corner of its "
        "scale x scale block, with zeros everywhere else. Compare your output with bed_of_nails on a "
        "small x to see which pixels differ."
    )


def _chosen_letters(
    answer: Any, choices: dict[str, str], unknown_hint: str, what: str, example: str
) -> tuple[set[str] | None, str | None]:
    """The letters the learner recorded, or ``(None, hint)`` saying why they cannot be read yet."""
    if answer is None or answer is ...:
        return None, f"record your {what} first: replace the `...` with a set of letters such as {example}."
    letters, hint = read_letters(answer, choices, unknown_hint)
    if hint is None and not letters:
        return None, "choose at least one letter."
    return letters, hint


def _interior_counts(kernel_size: int, stride: int) -> set[int]:
    """The numbers of stamps that output pixels away from the border receive."""
    counts = checkerboard_pattern(kernel_size, stride, 12)  # (H_out, W_out)
    inner = counts[kernel_size:-kernel_size, kernel_size:-kernel_size]
    return set(inner.unique().tolist())


DOUBLING_STATEMENTS: dict[str, str] = {
    "a": "it turns every side n into exactly 2n",
    "b": "output pixels in different stride phases receive different numbers of stamps",
    "c": "every 3x3 kernel makes this layer turn a flat image into a pattern",
    "d": "a learned kernel is free to give the stride phases unequal total weights, so the layer can print a "
         "checkerboard",
    "e": "some output pixels receive no stamp at all",
    "f": "with a kernel size that gives every output pixel the same number of stamps instead (and a padding that "
         "keeps the doubling), every learned kernel keeps a flat image flat",
}
_TRUE_DOUBLING = {"a", "b", "d"}
_WHY_DOUBLING = {
    "a": "true: (n - 1) * 2 - 2 * 1 + 3 + 1 = 2n",
    "b": "true: kernel 3 is not a multiple of stride 2 (checkerboard_pattern in section 4)",
    "c": "false: the tent of section 2 and your kernel of exercise 3 keep it flat",
    "d": "true: only special kernels give the phases equal totals, and nothing in training keeps a kernel special",
    "e": "false: the stamps are 3 wide and 2 apart, so they overlap and every pixel gets at least one",
    "f": "false: equal counts do not make equal totals; unequal weights still give the phases unequal totals "
         "(the random k=4 kernels of section 4)",
}


def check_doubling_statements(answer: Any) -> bool:
    """Check which statements about kernel 3, stride 2, padding 1, output_padding 1 are true.

    Args:
        answer: Letters of :data:`DOUBLING_STATEMENTS`, as a set, list or string.
    """
    letters, hint = _chosen_letters(answer, DOUBLING_STATEMENTS, "are not statements of the list", "answer", "{'a', 'c'}")
    if hint is not None:
        return wrong(hint)
    if letters == _TRUE_DOUBLING:
        reasons = "; ".join(f"{letter}: {_WHY_DOUBLING[letter]}" for letter in sorted(DOUBLING_STATEMENTS))
        return right(f"{reasons}. So the layer doubles the size but invites checkerboards; part (b) asks for a "
                     "better choice.")
    notes = []
    for letter in sorted(letters - _TRUE_DOUBLING):
        notes.append(f"{letter} is false: {_WHY_DOUBLING[letter].removeprefix('false: ')}")
    missed = sorted(_TRUE_DOUBLING - letters)
    if missed:
        notes.append(f"you left out {len(missed)} true statement(s): compute the output side from the formula of "
                     "exercise 1, and count the stamps per pixel (checkerboard_pattern)")
    return wrong("; ".join(notes) + ".")


def check_doubling_layer(kernel_size: int, padding: int, output_padding: int = 0) -> bool:
    """Check a stride-2 transposed convolution that exactly doubles every size with evenly overlapping stamps.

    Every output pixel away from the border must receive the same number of stamps, and more than one.

    The layer is ``nn.ConvTranspose2d(..., kernel_size, stride=2, padding, output_padding)``.
    """
    values = (kernel_size, padding, output_padding)
    if any(value is ... or value is None for value in values):
        return wrong("replace each `...`: kernel_size, padding and output_padding are whole numbers.")
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return wrong("set kernel_size, padding and output_padding to whole numbers.")
    for size in (1, 2, 5, 8, 13):
        try:
            found = F.conv_transpose2d(
                torch.zeros(1, 1, size, size),
                torch.zeros(1, 1, kernel_size, kernel_size),
                stride=2,
                padding=padding,
                output_padding=output_padding,
            ).shape[-1]
        except RuntimeError as error:
            message = str(error).splitlines()[0]
            return wrong(f"PyTorch refuses these settings: {message}")
        if found != 2 * size:
            return wrong(
                f"an input of side {size} becomes {found}, not {2 * size}: solve "
                "(size - 1) * 2 - 2 * padding + kernel_size + output_padding = 2 * size."
            )
    counts = _interior_counts(kernel_size, 2)
    if len(counts) > 1:
        return wrong(
            f"the size doubles, but with kernel size {kernel_size} and stride 2 the stamps overlap unevenly: "
            f"output pixels receive {sorted(counts)} stamps (section 4), which makes even a kernel with equal "
            "weights print a checkerboard; choose a kernel size that gives every pixel the same number of "
            "stamps, then solve for padding and output_padding."
        )
    (count,) = counts
    if count == 1:
        return wrong(
            f"the size doubles and every pixel gets one stamp, but kernel-{kernel_size} stamps at stride 2 never "
            "overlap: each output pixel is one input pixel times one weight, with no blending of neighbours "
            "(section 4's 2x2 kernel printed itself every 2 pixels). Choose a kernel whose stamps overlap."
        )
    return right(
        f"kernel_size={kernel_size}, padding={padding}, output_padding={output_padding} doubles every size, and "
        f"every output pixel away from the border receives {count} overlapping stamps, so a kernel with equal "
        "weights, or one started as bilinear, keeps a flat image flat. Even counts lower the risk of a "
        "checkerboard without removing it: learned weights can still give the phases unequal totals (statement f)."
    )


def check_flat_kernel(kernel: Any, *, stride: int = 2) -> bool:
    """Check a 3x3 kernel that, stamped with ``stride`` 2, keeps a flat image of ones flat at 1.

    The kernel must differ from the tent ``bilinear_kernel(3)`` that section 2's widget stamps.

    Args:
        kernel: The learner's kernel, anything ``torch.as_tensor`` turns into a ``(3, 3)`` tensor.
        stride: Stride of the transposed convolution.
    """
    if kernel is None or kernel is ...:
        return wrong("replace the `...` with a 3x3 tensor of kernel weights.")
    try:
        weights = torch.as_tensor(kernel, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return wrong("give the kernel as a 3x3 tensor (or a list of three rows of three numbers).")
    if weights.shape != (3, 3):
        return wrong(f"the kernel must be 3x3; yours has shape {tuple(weights.shape)}.")
    if not torch.isfinite(weights).all():
        return wrong("the kernel has a NaN or an infinite weight.")
    tent = torch.tensor([0.5, 1.0, 0.5], dtype=torch.float64)
    if torch.allclose(weights, tent[:, None] * tent[None, :], atol=1e-6):
        return wrong("that is the tent of section 2; find a different kernel that is flat too.")
    flat = torch.ones(1, 1, 8, 8, dtype=torch.float64)
    output = F.conv_transpose2d(flat, weights[None, None], stride=stride)[0, 0]  # (17, 17)
    interior = output[2:-2, 2:-2]  # every pixel here is reached by all the stamps it can get
    if torch.allclose(interior, torch.ones_like(interior), atol=1e-5):
        return right(
            "every stride phase receives a total weight of 1, so a flat image stays flat at 1 "
            "although the stamps overlap unevenly."
        )
    values = sorted({round(value, 3) for value in interior.flatten().tolist()})
    if interior.max() - interior.min() < 1e-5:
        return wrong(
            f"the output is flat, but at {values[0]} instead of 1: scale the kernel so that each phase's weights sum to 1."
        )
    return wrong(
        f"the flat image comes out with values {values[:6]}: output pixels in different stride phases receive "
        "different total weights. Add up the weights that land on each of the four phases."
    )


# --- predict the shape of the convolution matrix ---------------------------------------------------


def check_conv_matrix_shape_prediction(
    prediction: Any, *, input_side: int = 8, kernel_size: int = 3, stride: int = 2, padding: int = 1
) -> bool:
    """Check a prediction of the shape ``(rows, columns)`` of the matrix C of a one-channel convolution.

    Args:
        prediction: The learner's ``(rows, columns)``, recorded before running ``conv_matrix``.
        input_side: Side of the square one-channel input.
        kernel_size, stride, padding: Of the convolution.
    """
    if prediction is None or prediction is ...:
        return wrong("record your prediction first: replace the `...` with a pair (rows, columns).")
    if (
        not isinstance(prediction, (tuple, list))
        or len(prediction) != 2
        or not all(isinstance(value, int) and not isinstance(value, bool) for value in prediction)
    ):
        return wrong(f"record a pair of whole numbers (rows, columns); got {prediction!r}.")
    output_side = (input_side + 2 * padding - kernel_size) // stride + 1
    rows, columns = output_side**2, input_side**2
    found = tuple(prediction)
    if found == (rows, columns):
        return right(
            f"({rows}, {columns}): the convolution turns {input_side}x{input_side} into {output_side}x{output_side}, "
            f"so C has one row per output pixel ({rows}) and one column per input pixel ({columns}); each row holds "
            f"at most {kernel_size * kernel_size} non-zero weights."
        )
    if found == (columns, rows):
        return wrong("that is the shape of C^T. C maps the flattened input to the flattened output: which is its "
                     "number of columns, which its number of rows?")
    if found in ((output_side, input_side), (input_side, output_side)):
        return wrong("those are sides of the maps. C acts on the *flattened* input: one column per input pixel, "
                     "one row per output pixel.")
    if found[1] == columns:
        return wrong("the columns are right (one per input pixel). For the rows, work out the output's side "
                     "first: (side + 2 * padding - kernel_size) // stride + 1.")
    if found[0] == rows:
        return wrong("the rows are right (one per output pixel). How many pixels does the flattened input have?")
    return wrong("C has one row per pixel of the output and one column per pixel of the input; work out the "
                 "output's side first, then count pixels.")


# --- which layers can print a checkerboard? --------------------------------------------------------

CHECKERBOARD_LAYERS: dict[str, str] = {
    "a": "nearest 2x upsampling, then a 3x3 convolution with any (learned) weights",
    "b": "a transposed convolution with kernel 4 and stride 2, with learned weights",
    "c": "a transposed convolution with kernel 2 and stride 2, with learned weights",
    "d": "fixed bilinear 2x upsampling",
    "e": "a transposed convolution with kernel 3 and stride 2, weights of the tent bilinear_kernel(3)",
}
_CAN_PRINT = {"b", "c"}
_WHY_LAYER = {
    "a": "resize-then-convolve applies the same kernel at every pixel of a flat image, so it stays flat",
    "b": "kernel 4 evens the stamp counts, but learned weights need not give the four stride phases equal "
         "totals, so a milder pattern can appear",
    "c": "kernel 2 stamps do not overlap, yet each of the four stride phases gets its own weight, so unequal "
         "learned weights print a pattern that repeats every 2 pixels",
    "d": "bilinear weights always sum to 1 at every output pixel",
    "e": "the tent gives every stride phase a total weight of 1 although the counts are uneven",
}
_RECORDED: dict[str, Any] = {}
"""The first prediction that :func:`check_checkerboard_prediction` accepted (keys ``"letters"``, ``"reason"``)."""
_MIN_REASON_WORDS = 4


def _recorded(message: str) -> bool:
    """Print ``Recorded: <message>`` and return ``True``: a reasoned prediction passes once recorded, right or not."""
    print(f"Recorded: {message}")
    return True


def check_checkerboard_prediction(prediction: Any, reason: Any) -> bool:
    """Record the layers predicted to print a checkerboard, with a reason, before section 4 runs its experiments.

    The prediction is graded for being recorded with a reason, not for being right: a guess cannot be
    checked honestly before the experiments it predicts. The first readable prediction is kept;
    :func:`compare_checkerboard_prediction` compares it with the measurements afterwards.

    Args:
        prediction: Letters of :data:`CHECKERBOARD_LAYERS`, as a set, list or string.
        reason: One sentence, in the learner's words, saying why.
    """
    letters, hint = _chosen_letters(prediction, CHECKERBOARD_LAYERS, "are not layers of the list", "prediction",
                                    "{'a', 'd'}")
    if hint is not None:
        return wrong(hint)
    if not isinstance(reason, str) or len(reason.split()) < _MIN_REASON_WORDS:
        return wrong(f"add your reason: replace the `...` after `because` with a sentence of at least "
                     f"{_MIN_REASON_WORDS} words (a string) saying why these layers, and not the others.")
    if "letters" in _RECORDED:
        return _recorded(f"{sorted(_RECORDED['letters'])} earlier. The first prediction is kept (restart the "
                         "kernel to record a new one); the cell after section 4's table compares it.")
    _RECORDED.update(letters=frozenset(letters), reason=reason.strip())
    return _recorded(f"{sorted(letters)}, because {reason.strip()!r}. Recording a reasoned prediction is "
                     "what counts here, not being right; run the rest of section 4, and the cell after its table "
                     "compares.")


def compare_checkerboard_prediction() -> bool:
    """Compare the prediction recorded by :func:`check_checkerboard_prediction` with what section 4 showed.

    Prints the comparison and the reason for every layer, whether the prediction was right or not.

    Returns:
        Whether a prediction had been recorded.
    """
    if "letters" not in _RECORDED:
        return wrong("no prediction recorded yet: fill in `can_print` and `because` before section 4's "
                     "experiments and run the check under them.")
    letters = set(_RECORDED["letters"])
    reasons = "; ".join(f"{letter}: {_WHY_LAYER[letter]}" for letter in sorted(CHECKERBOARD_LAYERS)) + "."
    if letters == _CAN_PRINT:
        verdict_line = "it matches what this section showed (random kernels standing in for learned ones)"
    else:
        missed, extra = sorted(_CAN_PRINT - letters), sorted(letters - _CAN_PRINT)
        parts = []
        if extra:
            parts.append(f"{', '.join(extra)} cannot")
        if missed:
            parts.append(f"you left out {', '.join(missed)}, which can")
        verdict_line = f"the layers that can print a pattern are {', '.join(sorted(_CAN_PRINT))}: {'; '.join(parts)}"
    print(f"Your recorded prediction was {sorted(letters)}, because {_RECORDED['reason']!r}: {verdict_line}.\n"
          f"Why, layer by layer: {reasons}")
    return True
