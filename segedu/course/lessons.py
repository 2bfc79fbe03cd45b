"""The course at a glance: every lesson, what it teaches and how long it takes to study and to run.

This table is the single source for the lesson list shown in ``00_welcome.ipynb``, the README and
``docs/teaching.md``; tests check that it names exactly the notebooks in ``notebooks/`` and that the
README and the guide quote it. The study time is the one each lesson states in its header; the run
time is measured by ``make notebooks``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Lesson", "LESSONS", "lesson_table_markdown"]


@dataclass(frozen=True)
class Lesson:
    """One notebook of the course.

    Attributes:
        notebook: File name in ``notebooks/``.
        title: Short title.
        objectives: What the learner can do afterwards.
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


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "00_welcome.ipynb",
        "Welcome",
        "Find your way around the course, run cells, use a widget, check your set-up.",
        study_time="about 20 min",
        run_seconds=13,
    ),
    Lesson(
        "01_what_is_segmentation.ipynb",
        "What semantic segmentation is",
        "Say what a segmentation model predicts (a class for every pixel), tell classification (and "
        "multi-label classification), detection, semantic and instance segmentation apart, and know the "
        "tensor shapes in and out.",
        study_time="about 55 min",
        run_seconds=12,
    ),
    Lesson(
        "02_one_hot_and_argmax.ipynb",
        "Scores, argmax and the per-pixel loss",
        "Encode a mask as one channel per class, turn a network's scores into a map with softmax and "
        "argmax, compute the per-pixel cross-entropy with ignore_index, and derive its gradient with respect "
        "to the scores, p − onehot(y).",
        study_time="about 75 min",
        run_seconds=11,
    ),
    Lesson(
        "03_classifiers_lose_location.ipynb",
        "Pooling and fully connected layers lose location",
        "Show what pooling forgets and how good a mask can be drawn back from a pooled grid of labels, "
        "train a small classifier end to end on which shapes are present, and measure how well a linear probe "
        "reads position from each layer with FC and global-average-pooling heads.",
        study_time="about 75–90 min",
        run_seconds=30,
    ),
    Lesson(
        "04_cost_of_full_resolution.ipynb",
        "The price of keeping full resolution",
        "Measure parameters, multiply-accumulates and activation memory of a network without downsampling "
        "against an encoder-decoder, and explain why segmentation networks downsample, then upsample.",
        study_time="about 75–90 min",
        run_seconds=19,
    ),
    Lesson(
        "05_downsampling_and_upsampling.ipynb",
        "Downsampling and upsampling",
        "Compare strided convolution and pooling, build every upsampling method from scratch (nearest, "
        "bed of nails, max-unpooling, bilinear, transposed convolution two ways) and avoid checkerboard artifacts.",
        study_time="about 60–90 min",
        run_seconds=15,
    ),
    Lesson(
        "07_fcn.ipynb",
        "FCN: fully convolutional networks",
        "Turn a classifier's fully connected layers into convolutions, build FCN-32s/16s/8s with their "
        "skip fusion and bilinear upsampling, and compare them with the FCN paper's four metrics.",
        study_time="about 120 min",
        run_seconds=37,
    ),
    Lesson(
        "08_segnet.ipynb",
        "SegNet",
        "Keep max-pooling indices and unpool with them, follow SegNet's shapes, measure what the indices "
        "cost next to U-Net's skips, and look inside a trained decoder.",
        study_time="about 75 min",
        run_seconds=27,
    ),
    Lesson(
        "09_unet.ipynb",
        "U-Net",
        "Trace the U with its concatenated skips, compute valid-padding sizes (572 to 388) and the "
        "overlap-tile strategy, and measure what the skips buy in an ablation.",
        study_time="about 120 min",
        run_seconds=32,
    ),
    Lesson(
        "10_comparing_shortcuts.ipynb",
        "Comparing shortcut connections",
        "Compare FCN, SegNet and U-Net on the same test scenes: metrics overall and at boundaries, costs, "
        "confusions; pick a model for a job; tell which differences one training run supports; see where DeepLab goes next.",
        study_time="about 150 min",
        run_seconds=42,
    ),
    Lesson(
        "11_feature_map_explorer.ipynb",
        "Feature-map explorer",
        "Look inside trained models layer by layer, probe a pixel's class scores and receptive field, record "
        "activations with forward hooks, and measure which channels mark a class (class IoU) and which the "
        "network needs (silencing).",
        study_time="about 110 min",
        run_seconds=18,
    ),
    Lesson(
        "12_train_your_own.ipynb",
        "Train your own segmenter",
        "Write the per-pixel training loop, augment image and mask together (flips, crops, elastic "
        "deformation), read training and validation curves for overfitting over three seeds, choose a "
        "learning rate, train a U-Net from scratch live, and save, load and verify a checkpoint.",
        study_time="about 75 min",
        run_seconds=38,
    ),
)


def lesson_table_markdown() -> str:
    """Return the lesson list as a Markdown table (number, linked title, objectives, study time, run time)."""
    lines = ["| # | Lesson | You will be able to | Study time | Run time |", "|---|---|---|---|---|"]
    for lesson in LESSONS:
        number = lesson.notebook[:2]
        seconds = "not measured" if lesson.run_seconds is None else f"~{lesson.run_seconds} s"
        link = f"[{lesson.title}]({lesson.notebook})"
        lines.append(f"| {number} | {link} | {lesson.objectives} | {lesson.study_time} | {seconds} |")
    return "\n".join(lines)
