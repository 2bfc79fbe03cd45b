"""The course at a glance: every lesson, what it teaches and how long it takes to study and to run.

This table is the single source for the lesson list shown in ``00_welcome.ipynb``, the README and
``docs/teaching.md``; tests check that it names exactly the notebooks in ``notebooks/`` and that the
README and the guide quote it. The study time is the one each lesson states in its header; the run
time is measured by ``make notebooks``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Lesson", "LESSONS", "lesson_table_markdown", "total_study_minutes"]


@dataclass(frozen=True)
class Lesson:
    """One notebook of the course.

    Attributes:
        notebook: File name in ``notebooks/``.
        title: Short title.
        objectives: What the learner can do afterwards.
        topic: What the lesson is about, in one line (the welcome's short table).
        study_time: Time to read the lesson, run it and do its exercises, as its header states it
            (e.g. ``"about 45 min"``).
        run_seconds: CPU seconds (user + system, kernel start included) that executing the whole notebook
            with ``jupyter nbconvert --execute`` took on a 2-core Intel Xeon virtual machine, rounded up; the
            lessons use one thread, so a quiet laptop needs about as many wall-clock seconds. ``None`` until
            measured.
    """

    notebook: str
    title: str
    objectives: str
    study_time: str
    run_seconds: int | None = None
    topic: str = ""


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "00_welcome.ipynb",
        "Welcome",
        "Find your way around the course, run cells, use a widget, check your set-up.",
        topic="How the course works, and your set-up",
        study_time="about 20 min",
        run_seconds=13,
    ),
    Lesson(
        "01_what_is_segmentation.ipynb",
        "What semantic segmentation is",
        "Say what a segmentation model predicts (a class for every pixel), tell classification (and "
        "multi-label classification), detection, semantic and instance segmentation apart, and know the "
        "tensor shapes in and out.",
        topic="A class for every pixel: tasks and tensor shapes",
        study_time="about 70 min (optional part about 30 more)",
        run_seconds=18,
    ),
    Lesson(
        "02_one_hot_and_argmax.ipynb",
        "One-hot, argmax and the per-pixel loss",
        "Encode a mask as one channel per class, turn a network's scores into a map with softmax and "
        "argmax, compute the per-pixel cross-entropy with ignore_index, and derive its gradient with respect "
        "to the scores, p − onehot(y).",
        topic="One channel per class, argmax, per-pixel cross-entropy",
        study_time="about 75 min (optional part about 25 more)",
        run_seconds=11,
    ),
    Lesson(
        "03_classifiers_lose_location.ipynb",
        "Pooling coarsens location; the classifier head gives up the grid",
        "Show what pooling forgets and how good a mask can be drawn back from a pooled grid of labels, "
        "load a small classifier trained end to end on which shapes are present (by the course's experiment "
        "script), and measure how well a linear probe reads position from each layer with FC and "
        "global-average-pooling heads.",
        topic="Where a classifier loses location",
        study_time="about 90 min",
        run_seconds=20,
    ),
    Lesson(
        "04_cost_of_full_resolution.ipynb",
        "The price of keeping full resolution",
        "Measure parameters, multiply-accumulates and activation memory of a network without downsampling "
        "against an encoder-decoder, widen the receptive field with dilated convolutions at a constant cost per "
        "layer, measure the effective receptive field with gradients, and explain why segmentation networks "
        "downsample, then upsample.",
        topic="What full resolution costs; dilated convolutions",
        study_time="about 110 min",
        run_seconds=15,
    ),
    Lesson(
        "05_downsampling.ipynb",
        "Downsampling",
        "Compare strided convolution, max pooling and average pooling by what each keeps, measure their aliasing, "
        "measure how much a one-pixel shift changes downsampled features, and build anti-aliased max pooling "
        "(blur before subsampling).",
        topic="Strided convolution or pooling: aliasing and blur",
        study_time="about 130 min (optional parts about 30 more)",
        run_seconds=13,
    ),
    Lesson(
        "06_upsampling.ipynb",
        "Upsampling",
        "Build nearest, bed of nails, max-unpooling and bilinear upsampling by hand, see a transposed convolution "
        "as stamping and as the transpose of a hand-built convolution matrix, and avoid checkerboard artifacts.",
        topic="Upsampling by hand; transposed convolution; checkerboards",
        study_time="about 80–100 min (optional part about 20 more)",
        run_seconds=12,
    ),
    Lesson(
        "07_fcn.ipynb",
        "FCN: fully convolutional networks",
        "Train a small classifier on crops and write its fully connected layers as convolutions, build FCN-32s, "
        "16s and 8s and write FCN-16s's forward pass from its parts, compare the shipped FCN-32s and FCN-8s over "
        "all pixels, near boundaries and object by object.",
        topic="FCN-32s, 16s and 8s and their skip fusion",
        study_time="about 105 min",
        run_seconds=18,
    ),
    Lesson(
        "08_fcn_skips.ipynb",
        "Switching FCN's skips off: what the cost measures",
        "Write the forward hook that zeroes a skip and check it against skip_branches_off, predict and measure what "
        "zeroing FCN-8s's pool4 and pool3 skips costs; read a stored three-seed study of FCN-8s trained in stages "
        "against all at once; design the control that holds only pool3 back and predict what it loses, then predict "
        "and read, with the two-test rule, a 2 × 2 of runs that varies when pool3 starts and its summed learning "
        "rate; say what the cost of switching a skip off measures.",
        topic="Ablating FCN-8s's skips: what the cost measures",
        study_time="about 120 min (85 to read, 35 for the exercises)",
        run_seconds=20,
    ),
    Lesson(
        "09_segnet.ipynb",
        "SegNet",
        "Keep max-pooling indices and unpool with them, follow SegNet's shapes and where segedu departs from the "
        "paper, work out and measure what the indices cost in memory, measure how sparse a trained decoder's "
        "unpooled maps are, and read SegNet trained from scratch with and without them (six paired seeds).",
        topic="SegNet: unpooling with max-pooling indices",
        study_time="about 110 min (75 to read, 35 for the exercises)",
        run_seconds=11,
    ),
    Lesson(
        "10_unet.ipynb",
        "U-Net",
        "Trace the U with its concatenated skips, compute valid-padding sizes (572 to 388), the crop and "
        "overlap-tile, and measure what the skips buy from a stored study that trains the same U with and without "
        "them (five seeds).",
        topic="U-Net: concatenated skips, valid padding, overlap-tile",
        study_time="about 105 min",
        run_seconds=25,
    ),
    Lesson(
        "11_comparing_shortcuts.ipynb",
        "Comparing shortcut connections",
        "One small encoder-decoder trained with four shortcuts (none, FCN-style sum, SegNet indices, U-Net "
        "concatenation) on equal budgets and paired seeds, scored over all pixels, in the boundary band and in "
        "the interior, with a control that unpools to a fixed pixel instead of using the indices.",
        topic="Four shortcut connections: one training budget, sizes differ",
        study_time="about 105 min (65 to read and run, 40 for the exercises)",
        run_seconds=11,
    ),
    Lesson(
        "12_feature_map_explorer.ipynb",
        "Feature-map explorer",
        "Look inside trained models layer by layer, probe a pixel's class scores and receptive field, record "
        "activations with forward hooks, and measure which channels mark a class (channel–class IoU) and which the "
        "network needs (silencing).",
        topic="Inside trained models: hooks, probes, silenced channels",
        study_time="about 105 min (optional parts about 15 more)",
        run_seconds=15,
    ),
    Lesson(
        "13_train_your_own.ipynb",
        "Train your own segmenter",
        "Write the per-pixel training loop and predict what a forgotten zero_grad() does to .grad, train a U-Net "
        "from scratch live and set it beside the same network after a full recipe, write its validation step, "
        "save, load and verify a checkpoint, and (optionally) see what soft Dice and the bias start add and read a "
        "learning-rate range test for what it can and cannot tell.",
        topic="Training loop, a live run, validation, checkpoints",
        study_time="about 60 min (optional part about 30 more)",
        run_seconds=30,
    ),
    Lesson(
        "14_augmentation_and_overfitting.ipynb",
        "Augmentation and overfitting",
        "Augment image and mask with one random draw: write a paired crop and flip from scratch (checked against "
        "torchvision) and apply a warp's field with grid_sample (checked against segedu's warp); judge which "
        "augmentations keep a digit scene plausible and correctly labelled; read learning curves of ten seeds on "
        "32 scenes and say which final score augmentation moves; and test explanations of why the training score "
        "falls against three stored control runs.",
        topic="Paired augmentation, learning curves, overfitting",
        study_time="about 100 min",
        run_seconds=13,
    ),
    Lesson(
        "15_losses_for_imbalance.ipynb",
        "Losses for imbalanced classes",
        "Derive why a class weight tilts unsure pixels toward its class, predict what class weights do to mean "
        "IoU, then measure on U-Nets trained with plain cross-entropy and two class weightings (1,600 steps, six "
        "paired seeds, every verdict provisional) what they do to misses, the halo, mean accuracy and mean IoU; "
        "optionally, add log w to the same-seed plain networks' logits at prediction and set it beside training with "
        "the weights, read three controls and set soft Dice, cross-entropy + Dice and focal loss beside plain "
        "cross-entropy.",
        topic="Class weights: the tilt and the trade it makes",
        study_time="about 120 min (optional part about 50 more)",
        run_seconds=8,
    ),
    Lesson(
        "16_atrous_convolution.ipynb",
        "Atrous convolution",
        "Write a 3x3 atrous convolution and check it against PyTorch, see which pixels a stack of them never reads "
        "(gridding) and why rates with no common factor can still leave holes, and write and apply the exact rule "
        "for a stack that reads its whole window (an optional appendix compares it with Wang et al.'s HDC rule).",
        topic="Atrous convolution, reach and gridding",
        study_time="about 85 min (optional appendix about 10 more)",
        run_seconds=9,
    ),
    Lesson(
        "17_deeplab.ipynb",
        "DeepLab: output stride, ASPP and a comparison",
        "Measure what DeepLabv3's output stride costs, check that a dropped stride and doubled later rates let the "
        "same weights compute the strided features densely (and where segedu departs from DeepLab), count the "
        "taps a small map keeps and predict ASPP rates that suit it, write out the ASPP head's forward pass, and "
        "compare DeepLabv3 with FCN-32s, FCN-8s, SegNet and U-Net trained with the same budget (steps, batch, "
        "learning rate, schedule; it trails, and the two models with no path from early features to the scores, "
        "FCN-32s and DeepLabv3, come last).",
        topic="Output stride, ASPP and DeepLabv3 beside four models",
        study_time="about 90 min",
        run_seconds=21,
    ),
    Lesson(
        "18_touching_objects.ipynb",
        "Touching objects: U-Net's weight map",
        "Count the same-class objects that touch and those a thin gap apart and the gap pixels' share of a scene, "
        "write U-Net's weight map out from an instance map (distances checked by a brute-force loop) and use it as "
        "per-pixel weights in cross-entropy, explore w0 and sigma, and read a stored five-seed paired study of "
        "whether the weight map keeps thin gaps open and what it costs in mean IoU.",
        topic="Touching objects and U-Net's weight map",
        study_time="about 75 min",
        run_seconds=33,
    ),
)


def total_study_minutes(lessons: Sequence[Lesson] = LESSONS) -> tuple[int, int, int]:
    """Add up the study times the lessons state.

    Args:
        lessons: The lessons to add up, each with a study time such as ``"about 80–100 min (optional part about
            20 more)"``.

    Returns:
        The core study time in minutes at the low and the high end of the stated ranges (a single time counts at
        both), and the optional parts' minutes.

    Raises:
        ValueError: Naming a lesson whose study time does not start with ``"about N min"`` or ``"about A–B min"``.
    """
    low = high = optional = 0
    for lesson in lessons:
        core = re.match(r"about (\d+)(?:–(\d+))? min\b", lesson.study_time)
        if core is None:
            raise ValueError(f"{lesson.notebook}: study time {lesson.study_time!r} does not start with 'about N min'; "
                             "write it as 'about 90 min' or 'about 80–100 min'")
        low += int(core.group(1))
        high += int(core.group(2) or core.group(1))
        optional += sum(int(extra) for extra in re.findall(r"about (\d+) more", lesson.study_time))
    return low, high, optional


def lesson_table_markdown(*, brief: bool = False) -> str:
    """Return the lesson list as a Markdown table: number, linked title, objectives, study time, run time.

    Args:
        brief: Give each lesson's one-line ``topic`` instead of its objectives (the welcome's table).
    """
    heading = "What it is about" if brief else "You will be able to"
    lines = [f"| # | Lesson | {heading} | Study time | Run time |", "|---|---|---|---|---|"]
    for lesson in LESSONS:
        number = lesson.notebook[:2]
        seconds = "not measured" if lesson.run_seconds is None else f"~{lesson.run_seconds} s"
        link = f"[{lesson.title}]({lesson.notebook})"
        what = lesson.topic if brief else lesson.objectives
        lines.append(f"| {number} | {link} | {what} | {lesson.study_time} | {seconds} |")
    return "\n".join(lines)
