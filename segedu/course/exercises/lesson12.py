"""Checks for the exercises of lesson 12 (train your own segmenter).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    check_outcome_prediction,
    read_letters,
    returns_nothing,
    right,
    wrong,
)

__all__ = [
    "AUGMENTATIONS",
    "GAP_OUTCOMES",
    "LEARNS_BELOW",
    "RATE_OUTCOMES",
    "VALIDATION_BORROWED",
    "check_gap_prediction",
    "check_rate_prediction",
    "check_safe_augmentations",
    "check_validation_mean_iou",
    "classify_gap_narrowing",
    "classify_rate_run",
    "paired_t_interval",
]

# --- 2 · predict, then run: whether and how augmentation narrows the train-validation gap -------

GAP_OUTCOMES = ("by raising validation", "by lowering training", "both", "neither")

# The t distribution's 97.5% point for 1 to 9 degrees of freedom (a t table), for 2 to 10 paired seeds.
_T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def paired_t_interval(differences: Sequence[float]) -> tuple[float, float]:
    """The 95% t-interval of the mean of paired differences (one per seed).

    Args:
        differences: One difference per seed, e.g. augmented minus plain (2 to 10 values).

    Returns:
        ``(low, high)``: the mean minus and plus the t point times the standard error (``ddof=1``).
    """
    values = [float(value) for value in differences]
    if not 2 <= len(values) <= 10:
        raise ValueError(f"pass 2 to 10 paired differences; got {len(values)}")
    count = len(values)
    mean = sum(values) / count
    spread = (sum((value - mean) ** 2 for value in values) / (count - 1)) ** 0.5
    half_width = _T_975[count - 1] * spread / count**0.5
    return mean - half_width, mean + half_width


def classify_gap_narrowing(
    plain_train: Sequence[float], augmented_train: Sequence[float],
    plain_val: Sequence[float], augmented_val: Sequence[float],
) -> str:
    """Name how augmentation moved the final scores, per seed: one of :data:`GAP_OUTCOMES`.

    Args:
        plain_train, augmented_train: The final training score of each seed, without and with augmentation.
        plain_val, augmented_val: The same seeds' final validation scores, in the same order.

    Returns:
        ``"by lowering training"`` if the 95% t-interval of the paired training differences (augmented minus
        plain) lies below 0, ``"by raising validation"`` if that of the validation differences lies above 0,
        ``"both"`` if both hold, ``"neither"`` if neither does.
    """
    if not len(plain_train) == len(augmented_train) == len(plain_val) == len(augmented_val):
        raise ValueError("pass one score per seed for every arm and split")
    _, train_high = paired_t_interval([after - before for before, after in zip(plain_train, augmented_train)])
    val_low, _ = paired_t_interval([after - before for before, after in zip(plain_val, augmented_val)])
    lowered, raised = train_high < 0, val_low > 0
    if lowered and raised:
        return "both"
    if lowered:
        return "by lowering training"
    if raised:
        return "by raising validation"
    return "neither"


_GAP_MEANINGS = {
    "by lowering training": (
        "in every seed the augmented arm's final training score is lower than plain's, by 0.23 on average (its "
        "95% t-interval lies below 0), while the validation differences go up in five seeds and down in five, "
        "and their interval holds 0. Without augmentation the network learns its 32 scenes almost by heart; "
        "augmented scenes are harder to memorise, so the training score drops, and the gap narrows from the "
        "training side. A smaller gap is not by itself a better model: at this budget the ten seeds' 95% "
        "interval of the validation change (-0.029 to +0.015) excludes a loss larger than about 0.03 and a gain "
        "larger than about 0.015"
    ),
    "by raising validation": (
        "the validation differences (augmented minus plain) lie above 0 in their 95% t-interval, while the "
        "training score did not fall detectably: the augmented scenes taught the network something about unseen "
        "scenes"
    ),
    "both": "the training score fell detectably and the validation score rose detectably (both 95% t-intervals "
            "exclude 0)",
    "neither": "neither the fall of the training score nor a rise of the validation score is detectable: both "
               "95% t-intervals hold 0",
}


def check_gap_prediction(prediction: Any, outcome: str) -> bool:
    """Compare a recorded prediction with how augmentation narrowed the train-validation gap in the stored study.

    Args:
        prediction: The learner's guess, one of :data:`GAP_OUTCOMES`, recorded before the figure.
        outcome: What happened, from :func:`classify_gap_narrowing` (measured in the lesson).

    Returns:
        ``True`` once a prediction is recorded, whether it names the outcome or not.
    """
    return check_outcome_prediction(prediction, outcome, _GAP_MEANINGS, happened="the gap narrowed")


# --- 3 · predict, then run: a constant learning rate of 0.3 -----------------------------------

RATE_OUTCOMES = ("blows up", "stalls", "learns")

LEARNS_BELOW = 0.95  # "learns": the last 5 losses average below this share of the start's on those batches

_RATE_MEANINGS = {
    "learns": (
        "'learns' means only that the training loss fell below what the starting network scores on the same "
        "batches. 0.3 is sixty times the three-minute recipe's peak (5e-3), and Adam's first step moves every "
        "weight by about the rate itself, yet nothing blew up. Batch norm could explain it (not tested here): it follows 18 of this "
        "U-Net's 23 convolution layers (all but the 4 transposed ones and the 1 x 1 output layer), and it makes their "
        "output all but blind to the length of their weights, so a huge step makes those weights longer instead of blowing the output up. Batch norm's own scale "
        "and shift, γ and β, are not protected this way: Adam moves them by about 0.3 a step. A 20-step fall is not a good model: in the stored study 0.3 ends 120 steps at "
        "a validation mean IoU of 0.087 to 0.108 over ten seeds, next to the all-background 0.085, and 3e-3 beats "
        "it in nine seeds of ten, on validation and on the training loss of the last 10 steps"
    ),
    "blows up": (
        "some loss jumped to more than 3 times the starting network's loss on its batch, and the last five "
        "still averaged above the start's: the steps overshot and the network did not find its way back"
    ),
    "stalls": "the run neither learned (its last five losses averaged 0.95 times the starting network's loss on "
              "the same batches or more) nor blew up (no loss above 3 times the start's on its batch with the last "
              "five still above the start's): the steps neither helped nor hurt much",
}


def classify_rate_run(losses: Sequence[float], start_losses: Sequence[float]) -> str:
    """Name what a short run did to its training loss: one of :data:`RATE_OUTCOMES`.

    Every batch has a difficulty of its own (one easy first batch can make a whole run look stalled),
    so each loss is compared with the loss of the *starting* network, before any update, on the same batch.

    Args:
        losses: The loss of every step, in order (at least 6 values).
        start_losses: The starting network's loss on the same batches, in the same order.

    Returns:
        ``"learns"`` if the mean of the last 5 losses is below :data:`LEARNS_BELOW` (0.95) times the
        starting network's mean on those 5 batches; otherwise ``"blows up"`` if some loss exceeded 3 times
        the starting network's on its batch and the mean of the last 5 is still above the start's (it
        jumped far up and stayed up); otherwise ``"stalls"``.
    """
    if len(losses) < 6:
        raise ValueError(f"pass the loss of at least 6 steps; got {len(losses)}")
    if len(start_losses) != len(losses):
        raise ValueError(f"pass the starting network's loss on the same {len(losses)} batches; "
                         f"got {len(start_losses)} values")
    run = [float(value) for value in losses]
    start = [float(value) for value in start_losses]
    last, start_last = sum(run[-5:]) / 5, sum(start[-5:]) / 5
    if last < LEARNS_BELOW * start_last:
        return "learns"
    if any(value > 3 * reference for value, reference in zip(run, start)) and last > start_last:
        return "blows up"
    return "stalls"


def check_rate_prediction(prediction: Any, outcome: str) -> bool:
    """Compare a recorded prediction with what a constant learning rate of 0.3 did to the loss.

    Args:
        prediction: The learner's guess, one of :data:`RATE_OUTCOMES`, recorded before the run.
        outcome: What happened, from :func:`classify_rate_run` (measured in the lesson).

    Returns:
        ``True`` once a prediction is recorded, whether it names the outcome or not.
    """
    return check_outcome_prediction(prediction, outcome, _RATE_MEANINGS, happened="the run")


# --- 1 · which augmentations keep a digit scene plausible and correctly labelled ----------------

AUGMENTATIONS = {
    "a": "mirror image and mask left-right (the same flip for both)",
    "b": "rotate image and mask by the same 10 degrees (the mask resampled by nearest neighbour, the corners "
         "filled with 0 in the image and 255 in the mask)",
    "c": "add random noise of standard deviation 0.02 to every pixel of the image, clipped to 0-1 (the mask untouched)",
    "d": "rotate image and mask by 180 degrees",
    "e": "multiply every pixel of the image by one random factor between 0.9 and 1.1 (clipped to 1)",
}
_SAFE = {"b", "c", "e"}
_WHY = {
    "a": "the mask is mirrored with the image, so no label becomes wrong, but a mirrored 2, 3, 4, 5, 6, 7 "
         "or 9 is not a digit anyone writes: the scene is no longer plausible, and the network would spend its "
         "training on shapes no writer produces (flips suit shapes, cells or street scenes, not text)",
    "b": "a digit written 10 degrees slanted is still that digit (people slant their writing more than that), "
         "and the mask turns with the image, resampled by nearest neighbour, so every pixel keeps the class of "
         "what it shows; the corners brought in are marked 255 and skipped by the loss. Unlike a half-turn (d), "
         "a small rotation changes no digit into another",
    "c": "the generator already adds pixel noise (standard deviation up to 0.05) to every scene, and draws "
         "stroke cores at a grey level of 0.7 to 1.0 on backgrounds of 0 to 0.3; a little more noise changes no "
         "pixel's class and leaves every stroke far brighter than its background, and the mask is untouched",
    "d": "rotating by 180 degrees turns a 6 into a 9 (and a 9 into a 6) while its mask still says 6: "
         "the transform changes the class, so the label becomes false",
    "e": "a brightness change is what another pen or scanner produces: no pixel changes its class and the mask "
         "is not touched. The generator draws backgrounds at a grey level from 0 to 0.3 and stroke cores at a "
         "level from 0.7 to 1.0, then adds pixel noise (standard deviation up to 0.05); a factor of 0.9 to 1.1 puts "
         "backgrounds at up to 0.33 and stroke cores at 0.63 or more, still far apart; clipping at 1 only flattens "
         "the brightest stroke pixels, which stay far brighter than the background, so the strokes keep their shape",
}


def check_safe_augmentations(answer: Any) -> bool:
    """Check the letters of :data:`AUGMENTATIONS` that keep every scene a plausible, correctly labelled digit scene.

    Args:
        answer: A set (or list, or string such as ``"ab"``) of letters.

    Returns:
        ``True`` for exactly the augmentations that keep scenes plausible and their labels correct.
    """
    if answer is ... or answer is None:
        return wrong("record your answer first: replace the `...` with a set of letters, e.g. {'a', 'b'}.")
    letters, hint = read_letters(answer, AUGMENTATIONS, "are not among the augmentations")
    if hint is not None:
        return wrong(hint)
    if letters == _SAFE:
        return right("a small rotation, a little noise and a small brightness change are what another hand, pen or "
                     "scanner produces: the digits stay plausible and no counted pixel changes its class. A mirror "
                     "keeps the labels but makes digits no one writes (implausible scenes), and a half-turn turns a "
                     "6 into a 9 under a mask that still says 6 (false labels). Whether safe augmentations help is "
                     "section 3's question.")
    misses = [f"{letter} is {'safe' if letter in _SAFE else 'not safe'}: {_WHY[letter]}"
              for letter in sorted(letters ^ _SAFE)]
    return wrong("; ".join(misses) + ".")


# --- 3 · write the validation step: eval mode, no gradients, one confusion matrix -------------------


def _checker_model_and_scenes() -> tuple[Any, Any]:
    """A small seeded U-Net whose batch-norm running statistics differ from any one batch's, and 8 scenes."""
    import torch

    from segedu.core.seeding import seed_everything
    from segedu.datasets import DigitScenes
    from segedu.models import UNet

    scenes = DigitScenes("val", length=8)
    seed_everything(0)
    model = UNet(1, 11, base_channels=4)
    images = torch.stack([scenes[index][0] for index in range(len(scenes))])  # (8, 1, 64, 64)
    with torch.no_grad():
        model.train()
        model(images * 3.0)  # moves the running statistics away from the scenes' own
    return model, scenes


def _reference_scores(model: Any, scenes: Any) -> dict[str, float]:
    """The right score (segedu's ``evaluate``) and the two slips the hints name."""
    import torch

    from segedu.training.evaluation import evaluate
    from segedu.training.metrics import confusion_matrix, mean_iou

    scores = {"right": float(evaluate(model, scenes, num_classes=11)["mean_iou"])}
    images = torch.stack([scenes[index][0] for index in range(len(scenes))])  # (N, 1, H, W)
    masks = torch.stack([scenes[index][1] for index in range(len(scenes))])  # (N, H, W)
    state = {key: value.clone() for key, value in model.state_dict().items()}
    with torch.no_grad():
        model.train()  # the slip: batch norm normalises with this batch's own statistics
        train_mode = model(images).argmax(dim=1)  # (N, H, W)
    model.load_state_dict(state)  # a forward pass in train mode moved the running statistics: undo it
    model.eval()
    scores["train mode"] = float(mean_iou(confusion_matrix(train_mode, masks, 11, ignore_index=255)))
    with torch.no_grad():
        per_scene = [mean_iou(confusion_matrix(model(images[index:index + 1]).argmax(dim=1), masks[index:index + 1],
                                               11, ignore_index=255)) for index in range(len(images))]
    scores["mean of per-scene scores"] = float(sum(per_scene) / len(per_scene))
    model.train()
    return scores


VALIDATION_BORROWED = ("evaluate", "predict")  # segedu.training.evaluation's functions: they would do the exercise


def check_validation_mean_iou(function: Any) -> bool:
    """Check ``function(model, scenes) -> float``, the mean IoU of ``model`` on ``scenes`` as ``evaluate`` computes it.

    The check runs it on a small U-Net in training mode whose batch-norm running statistics differ from the
    scenes' own, so a forward pass left in training mode gives another score. It also checks that no gradient
    is tracked during the forward passes and that the model is back in training mode afterwards. A function
    that calls segedu's ``evaluate`` or ``predict`` (:data:`VALIDATION_BORROWED`) is sent back to write the steps.

    Args:
        function: The learner's ``validation_mean_iou(model, scenes)``.
    """
    import torch

    borrowed = borrowed_names(function, VALIDATION_BORROWED)
    if borrowed:
        return wrong(f"your function calls segedu's {' and '.join(borrowed)}, which does the steps for you: write them "
                     "yourself with the model, confusion_matrix and mean_iou.")
    model, scenes = _checker_model_and_scenes()
    reference = _reference_scores(model, scenes)
    state = {key: value.clone() for key, value in model.state_dict().items()}
    grad_modes: list[bool] = []
    hook = model.register_forward_hook(lambda module, inputs, output: grad_modes.append(torch.is_grad_enabled()))
    try:
        found, hint = call_answer(function, model, scenes)
    finally:
        hook.remove()
    if hint is not None:
        return wrong(hint)
    if found is ... or found is None:
        return wrong(returns_nothing("the mean IoU"))
    try:
        value = float(found)
    except (TypeError, ValueError):
        return wrong(f"return one number (a float), the mean IoU; got {type(found).__name__}.")
    statistics_moved = any(not torch.equal(state[key], tensor) for key, tensor in model.state_dict().items())
    if statistics_moved or abs(value - reference["train mode"]) < 1e-6 < abs(value - reference["right"]):
        return wrong("you scored in training mode: there batch norm normalises with each batch's own statistics "
                     "(and updates its running ones). Call model.eval() before the forward passes.")
    if abs(value - reference["mean of per-scene scores"]) < 1e-6 < abs(value - reference["right"]):
        return wrong("you averaged one mean IoU per scene. evaluate pools one confusion matrix over all the scenes "
                     "and takes the mean IoU once: a class absent from a scene then does not count as a 0 or as "
                     "missing scene by scene.")
    if abs(value - reference["right"]) > 1e-6:
        return wrong(f"your score is {value:.4f}; evaluate gives {reference['right']:.4f}. Count (true, predicted) "
                     "pairs over every pixel of every scene in one confusion_matrix, then take mean_iou of it.")
    if any(grad_modes):
        return wrong("the score is right, but autograd recorded the forward passes: wrap them in torch.no_grad() "
                     "(scoring needs no gradients, and recording them costs memory).")
    if not model.training:
        return wrong("the score is right, but the model is left in eval mode: put it back with model.train(), "
                     "so that the training that follows uses batch statistics again.")
    return right(f"your score equals evaluate's ({value:.4f}, on an untrained U-Net, so it is tiny): eval mode (batch "
                 "norm's running statistics), no gradients, one confusion matrix over all the scenes, and the model "
                 "back in training mode. fit and train_with_curves score validation the same way.")
