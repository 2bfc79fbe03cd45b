"""Checks for the exercises of lesson 13 (train your own segmenter).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    check_outcome_prediction,
    returns_nothing,
    right,
    wrong,
)

__all__ = [
    "LEARNS_BELOW",
    "RATE_OUTCOMES",
    "VALIDATION_BORROWED",
    "check_gradient_ratio",
    "check_rate_prediction",
    "check_validation_mean_iou",
    "classify_rate_run",
]

# --- 1 · predict, then run: two backward() calls without optimizer.zero_grad() ----------------------

_RATIO_SLIPS = (  # (a wrong ratio, why it is wrong); the measured one is 2
    (1.0, "1 would mean the second backward() replaced .grad with its own gradient (or averaged it with the "
          "first, the same gradient). It does neither: autograd adds every backward() call's gradient to what "
          ".grad already holds"),
    (0.0, "0 would mean the second call cleared .grad. Nothing clears it but zero_grad() (or setting .grad to "
          "None); backward() only adds to it"),
    (0.5, "nothing divides by the number of backward() calls: autograd sums their gradients, it does not "
          "average them"),
)


def check_gradient_ratio(prediction: Any, measured: Any) -> bool:
    """Check a predicted ratio: ``.grad`` after two ``backward()`` calls on one batch, over ``.grad`` after one.

    The lesson runs the experiment on its U-Net (same batch twice, no ``zero_grad()`` in between) and passes the
    ratio of the two gradients' norms as ``measured``; the check prints it once a prediction is recorded.

    Args:
        prediction: The learner's number, recorded before the measurement is shown; ``...`` means not yet.
        measured: The ratio the lesson measured (2: ``backward()`` adds to ``.grad``).

    Returns:
        ``True`` when the prediction is within 1% of the measured ratio.
    """
    if prediction is ... or prediction is None:
        return wrong("record your prediction first: replace the `...` with a number.")
    if isinstance(prediction, bool) or not isinstance(prediction, numbers.Real):
        return wrong(f"you wrote {prediction!r}; write a number, such as 3 or 0.25.")
    if isinstance(measured, bool) or not isinstance(measured, numbers.Real) or not math.isfinite(measured):
        return wrong(f"pass the measured ratio (a finite number) as the second argument; got {measured!r}.")
    print(f"measured: after the second backward(), .grad is {measured:.3f} times what it was after the first")
    if math.isclose(float(prediction), float(measured), rel_tol=0.01):
        return right("backward() adds its gradient to what .grad holds, so the same batch twice gives twice the "
                     "gradient. In a loop without zero_grad() every step therefore follows the sum of all gradients "
                     "so far, most computed for weights that have since moved. PyTorch allows it on purpose "
                     "(gradient accumulation: several small batches summed into one step), so the forgotten call "
                     "raises nothing. The next cell shows the sum on two different batches.")
    for value, why in _RATIO_SLIPS:
        if math.isclose(float(prediction), value, abs_tol=1e-9):
            return wrong(f"{why}. What does adding a gradient to itself give?")
    return wrong(f"your prediction {prediction} is not the measured ratio. Does backward() replace, average or "
                 "add to what .grad already holds? Both calls compute the same gradient.")


# --- 3 · predict, then run: a constant learning rate of 0.3 -----------------------------------

RATE_OUTCOMES = ("blows up", "stalls", "learns")

LEARNS_BELOW = 0.95  # "learns": the last 5 losses average below this share of the start's on those batches

_RATE_MEANINGS = {
    "learns": (
        "'learns' means only that the training loss fell below what the starting network scores on the same "
        "batches. 0.3 is sixty times the three-minute recipe's peak (5e-3), and Adam's first step moves every "
        "weight by about the rate itself, yet nothing blew up. Batch norm is the likely reason (the reveal's control: the same U-Net without it blows up): it follows 18 of this "
        "U-Net's 23 convolution layers (all but the 4 transposed ones and the 1 x 1 output layer), and it makes their "
        "output all but blind to the length of their weights, so a huge step makes those weights longer instead of blowing the output up. Batch norm's own scale "
        "and shift, γ and β, are not protected this way: Adam moves them by about 0.3 a step. Learning fast over "
        "20 steps is not the whole story: in the stored study, over 120 steps 3e-3 leads 0.3 on validation in nine "
        "seeds of ten, with every rate still within 0.06 of the all-background 0.085; what happens later, the study does not say"
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


# --- 2 · write the validation step: eval mode, no gradients, one confusion matrix -------------------


def _checker_model_and_scenes() -> tuple[Any, Any]:
    """A small seeded U-Net whose batch-norm running statistics differ from any one batch's, and 8 scenes.

    Every other scene's mask has its 4 leftmost columns marked 255 (ignored), as an augmentation's padding would,
    so a score that counts those pixels fails.
    """
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
    pairs = []
    for index in range(len(scenes)):
        image, mask = scenes[index]
        if index % 2:
            mask = mask.clone()
            mask[:, :4] = 255  # ignored pixels
        pairs.append((image, mask))
    return model, pairs


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
