"""Checks for the exercises of lesson 18 (touching objects: U-Net's weight map).

Every check prints ``Correct! ...`` or ``Not yet: <hint>`` and returns ``True`` or ``False``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from segedu.course.exercises._verdict import (
    borrowed_names,
    call_answer,
    choice_hint,
    recorded_miss,
    returns_nothing,
    right,
    wrong,
)

__all__ = [
    "CONTACT_SCENE",
    "CONTACT_TOLERANCE",
    "COST_OUTCOMES",
    "COST_TOLERANCE",
    "GAP_OUTCOMES",
    "MISSED_OUTCOMES",
    "WEIGHT_MAP_BORROWED",
    "check_contact_weights",
    "check_study_prediction",
    "check_weight_map",
    "contact_weights",
    "study_outcomes",
    "weight_map_cases",
    "weight_map_study_scores",
]

# --- 1 · write the weight map -------------------------------------------------------------------------------

WEIGHT_MAP_BORROWED = ("unet_weight_map", "border_weight")  # segedu's versions: they would do the exercise


def weight_map_cases() -> list[tuple[str, Any, float, float]]:
    """The maps the weight-map check tries, as ``(name, instances (H, W), w0, sigma)``.

    Section 2's tiny map, test scenes 18 and 31 (several objects of several classes), scene 31 again with
    other ``w0`` and ``sigma``, a map with one object and a map with none.
    """
    import torch

    from segedu.datasets import ShapesScenes

    tiny = torch.zeros(6, 8, dtype=torch.int64)
    tiny[1:4, 0:2] = 1
    tiny[2:5, 4:7] = 2
    scenes = ShapesScenes("test", length=1000)
    one_object = torch.zeros(8, 8, dtype=torch.int64)
    one_object[2:5, 3:6] = 4
    return [
        ("section 2's tiny map", tiny, 10.0, 5.0),
        ("test scene 18", scenes.sample(18)["instances"], 10.0, 5.0),
        ("test scene 31", scenes.sample(31)["instances"], 10.0, 5.0),
        ("test scene 31 with w0 = 4 and sigma = 2", scenes.sample(31)["instances"], 4.0, 2.0),
        ("a map with one object", one_object, 10.0, 5.0),
        ("a map with no object", torch.zeros(5, 7, dtype=torch.int64), 10.0, 5.0),
    ]


def _weight_map_slip(found: Any, instances: Any, w0: float, sigma: float) -> str | None:
    """Name the likely slip behind a wrong weight map, or ``None`` if none of the known ones fits."""
    import torch

    from segedu.analysis.weight_map import instance_distances

    distances, ids = instance_distances(instances)  # (N, H, W)
    if len(ids) < 2:
        return None
    d1, d2 = distances.sort(dim=0).values[:2]  # (H, W) each
    background = (instances == 0).float()  # (H, W)

    def term(total: Any, spread: float) -> Any:
        return w0 * torch.exp(-(total**2) / spread)

    slips = [
        (term(d1 + d2, 2 * sigma**2) * background,
         "your map is the border term alone: w(x) also has w_c(x), which is 1 on every pixel here."),
        (1 + term(d1 + d2, 2 * sigma**2),
         "your map gives the border term to object pixels too: here it goes to background pixels only "
         "(where instances == 0), segedu's default reading of the paper."),
        (1 + term(d1 + d2, sigma**2) * background,
         "the exponent divides by 2 sigma^2, not sigma^2."),
        (1 + term((d1**2 + d2**2) ** 0.5, 2 * sigma**2) * background,
         "add the two distances first, then square the sum: (d1 + d2)^2, not d1^2 + d2^2."),
        (1 + term(distances[0] + distances[1], 2 * sigma**2) * background,
         "you used the first two objects' distances. At each pixel d1 and d2 are the two smallest of all the "
         "objects' distances: sort (or topk) along the objects' dimension."),
    ]
    for map_of_slip, hint in slips:
        if torch.allclose(found.double(), map_of_slip.double(), atol=1e-4):
            return hint
    return None


def check_weight_map(function: Any) -> bool:
    """Check ``function(instances, w0, sigma)``: U-Net's weight map with ``w_c = 1``, border term on background.

    It is compared with :func:`segedu.analysis.weight_map.unet_weight_map` (``where="background"``) on the
    maps of :func:`weight_map_cases`; the first map it gets wrong ends the check with a hint that names the
    likely slip, or the first pixel that differs. A function that calls segedu's ``unet_weight_map`` or
    ``border_weight`` (:data:`WEIGHT_MAP_BORROWED`) is sent back to write the formula.

    Args:
        function: The learner's ``my_weight_map(instances, w0, sigma)`` returning an ``(H, W)`` tensor.
    """
    import torch

    from segedu.analysis.weight_map import instance_distances, unet_weight_map

    borrowed = borrowed_names(function, WEIGHT_MAP_BORROWED)
    if borrowed:
        return wrong(f"your function calls segedu's {' and '.join(borrowed)}, which computes the map for you: "
                     "write it from instance_distances and the formula.")
    for name, instances, w0, sigma in weight_map_cases():
        found, hint = call_answer(function, instances.clone(), w0, sigma)
        if hint is not None:
            if len(instance_distances(instances)[1]) < 2:
                hint += (f" (on {name}). With fewer than two objects there is no second distance d2: the "
                         "border term has nothing to separate, so w(x) = w_c = 1 on every pixel.")
            return wrong(hint)
        if found is ... or found is None:
            return wrong(returns_nothing("an (H, W) tensor of weights"))
        if not isinstance(found, torch.Tensor) or tuple(found.shape) != tuple(instances.shape):
            shape = tuple(found.shape) if isinstance(found, torch.Tensor) else type(found).__name__
            return wrong(f"return a tensor of shape (H, W), one weight per pixel; on {name} "
                         f"{tuple(instances.shape)} you returned {shape}.")
        expected = unet_weight_map(instances, w0=w0, sigma=sigma)  # (H, W)
        if torch.allclose(found.double(), expected.double(), atol=1e-4):
            continue
        slip = _weight_map_slip(found, instances, w0, sigma)
        if slip is None and len(instance_distances(instances)[1]) < 2:
            slip = ("with fewer than two objects there is no second distance d2 and nothing to separate: "
                    "segedu adds no border term, so w(x) = w_c = 1 on every pixel.")
        if slip is None:
            y, x = divmod(int((found.double() - expected.double()).abs().argmax()), instances.shape[1])
            slip = (f"at pixel ({y}, {x}) your weight is {float(found[y, x]):.3f}, the formula gives "
                    f"{float(expected[y, x]):.3f}. Check d1 and d2 there: the distances to the nearest and the "
                    "second-nearest object.")
        return wrong(f"on {name} (w0 = {w0:g}, sigma = {sigma:g}): {slip}")
    return right("your map equals segedu's unet_weight_map on section 2's tiny map, test scenes 18 and 31 (also "
                 "with w0 = 4, sigma = 2) and maps with one object and none: at each pixel the two smallest "
                 "object distances d1 and d2, the border term w0 exp(-(d1 + d2)^2 / (2 sigma^2)) on background "
                 "pixels, plus w_c = 1 everywhere.")


# --- 2 · predict a number: the weight of a pixel where two triangles touch ---------------------------------

CONTACT_SCENE = 5  # the test scene whose two triangles touch (section 1's picture)
CONTACT_TOLERANCE = 0.1  # a predicted weight within this of segedu's counts


def _beside(first: Any, second: Any) -> Any:
    """Pixels of ``first`` with a pixel of ``second`` directly above, below, left or right: (H, W) bool."""
    neighbour = second.clone()
    neighbour[1:] |= second[:-1]
    neighbour[:-1] |= second[1:]
    neighbour[:, 1:] |= second[:, :-1]
    neighbour[:, :-1] |= second[:, 1:]
    return first & neighbour


@lru_cache(maxsize=1)
def contact_weights() -> dict[str, Any]:
    """The weight map on the contact line of test scene 5's two touching triangles (w_c = 1, w0 = 10, sigma = 5).

    Returns:
        ``pixels`` (how many triangle pixels share an edge with the other triangle) and, per reading
        (``"background"``, ``"all"``), the smallest and largest weight on those pixels as a pair of floats.
    """
    from segedu.analysis.weight_map import unet_weight_map
    from segedu.datasets import ShapesScenes

    scene = ShapesScenes("test", length=1000).sample(CONTACT_SCENE)
    instances, mask = scene["instances"], scene["mask"]  # (64, 64) each
    triangles = [object_id for object_id in instances.unique().tolist()[1:]
                 if int(mask[instances == object_id][0]) == 3]  # class 3: triangle
    first, second = (instances == object_id for object_id in triangles)
    contact = _beside(first, second) | _beside(second, first)  # (64, 64) bool: the contact line
    found: dict[str, Any] = {"pixels": int(contact.sum())}
    for reading in ("background", "all"):
        weights = unet_weight_map(instances, w0=10.0, sigma=5.0, where=reading)[contact]
        found[reading] = (float(weights.min()), float(weights.max()))
    return found


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and np.isfinite(value)


def check_contact_weights(background_weight: Any, all_weight: Any) -> bool:
    """Compare two predicted weights of a pixel on the contact line of test scene 5's touching triangles.

    Args:
        background_weight: The predicted weight w(x) of such a pixel with ``where="background"``.
        all_weight: Its predicted weight with ``where="all"``.

    Returns:
        ``True`` if both are within :data:`CONTACT_TOLERANCE` of segedu's weight map.
    """
    for value in (background_weight, all_weight):
        if value is ... or value is None:
            return wrong("record both predictions first: replace each `...` with a number (a weight, like 1.0).")
        if not _number(value):
            return wrong(f"record each prediction as a number, like 1.0; got {value!r}.")
    found = contact_weights()
    background, every = found["background"][1], found["all"][1]
    hints = []
    if abs(background_weight - background) > CONTACT_TOLERANCE:
        hints.append(f"with where=\"background\" you said {background_weight}: the border term goes to background "
                     "pixels only. Which class does a contact pixel carry in the mask, and what is left of w(x) "
                     "without the border term?")
    if abs(all_weight - every) > CONTACT_TOLERANCE:
        if abs(all_weight - 11.0) <= CONTACT_TOLERANCE:
            advice = ("d1 = 0 (the pixel is on its own triangle), but d2 is not 0: how far is the other triangle's "
                      "nearest pixel?")
        else:
            advice = ("every pixel now gets the border term. Take d1 to the pixel's own triangle and d2 to the "
                      "other triangle's nearest pixel, then w = 1 + 10 exp(-(d1 + d2)^2 / 50).")
        hints.append(f"with where=\"all\" you said {all_weight}: {advice}")
    if hints:
        return wrong("; ".join(hints))
    return right(f"on all {found['pixels']} contact pixels w(x) is {background:.2f} with where=\"background\" and "
                 f"{every:.2f} = 1 + 10 exp(-1/50) with where=\"all\" (d1 = 0, d2 = 1). Neither reading can part the "
                 "triangles: with \"background\" nothing where they meet is weighted, and with \"all\" the heavy "
                 "contact pixels' target is triangle, so their weight pushes the network to paint the contact as "
                 "triangle, which joins the two. No loss on this mask can teach a line that is not in the target; "
                 "the paper's labels have one, a thin separation border of background carved between touching "
                 "cells (its Fig. 3c), and segedu's labels carve none.")


# --- 3 · predict, then run: what the weight map did in the stored study -----------------------------------

GAP_OUTCOMES = ("higher in every seed", "higher in some seeds", "higher in no seed")
COST_OUTCOMES = ("lower by more than 0.02", "within 0.02", "higher by more than 0.02")
COST_TOLERANCE = 0.02  # a seed-mean mean-IoU difference within this counts as "within 0.02"
MISSED_OUTCOMES = ("more in every seed", "more in some seeds", "more in no seed")


@lru_cache(maxsize=1)
def weight_map_study_scores() -> dict[str, Any]:
    """Section 3's stored study (``weight_map_study``), per arm and seed.

    Returns:
        ``seeds`` (list of str) and, per arm (``"cross_entropy"``, ``"weight_map"``), numpy arrays
        ``(seeds,)``: ``gap recall`` (of the gap pixels, all background, the share predicted background),
        ``mean IoU`` (all test pixels), ``band mean IoU`` (within 2 pixels of a class boundary), and the
        counts of nearby pairs ``joined``, ``kept apart`` and ``missed``.
    """
    import torch

    from segedu.course.experiments import load_experiment
    from segedu.training.metrics import mean_iou

    def score(matrix: list[list[float]]) -> float:
        return float(mean_iou(torch.tensor(matrix, dtype=torch.float64)))

    runs = load_experiment("weight_map_study")["results"]["runs"]
    seeds = sorted(runs["cross_entropy"], key=int)
    scores: dict[str, Any] = {"seeds": seeds}
    for arm, arm_runs in runs.items():
        gap = [np.array(arm_runs[seed]["gap_confusion"], dtype=float) for seed in seeds]  # (K, K) each
        scores[arm] = {
            "gap recall": np.array([matrix[0, 0] / matrix[0].sum() for matrix in gap]),
            "mean IoU": np.array([score(arm_runs[seed]["confusion"]) for seed in seeds]),
            "band mean IoU": np.array([score(arm_runs[seed]["band_confusion"]) for seed in seeds]),
            **{outcome: np.array([arm_runs[seed]["outcome_counts"][outcome] for seed in seeds])
               for outcome in ("joined", "kept apart", "missed")},
        }
    return scores


def study_outcomes() -> tuple[str, str, str]:
    """The stored study's outcomes: one each of :data:`GAP_OUTCOMES`, :data:`COST_OUTCOMES`, :data:`MISSED_OUTCOMES`."""
    scores = weight_map_study_scores()
    higher = int((scores["weight_map"]["gap recall"] > scores["cross_entropy"]["gap recall"]).sum())
    gap = GAP_OUTCOMES[0] if higher == len(scores["seeds"]) else GAP_OUTCOMES[2] if higher == 0 else GAP_OUTCOMES[1]
    cost = float((scores["weight_map"]["mean IoU"] - scores["cross_entropy"]["mean IoU"]).mean())
    cost_outcome = (COST_OUTCOMES[0] if cost < -COST_TOLERANCE else COST_OUTCOMES[2] if cost > COST_TOLERANCE
                    else COST_OUTCOMES[1])
    more = int((scores["weight_map"]["missed"] > scores["cross_entropy"]["missed"]).sum())
    missed = (MISSED_OUTCOMES[0] if more == len(scores["seeds"]) else MISSED_OUTCOMES[2] if more == 0
              else MISSED_OUTCOMES[1])
    return gap, cost_outcome, missed


def check_study_prediction(gap_prediction: Any, cost_prediction: Any, missed_prediction: Any) -> bool:
    """Compare three predictions recorded before section 3's table with the stored study.

    They pass once all three are recorded (a guess about a measurement is not graded on being right):
    three matches say ``Correct!``, a miss says ``Recorded; the result differs:`` and which part differs.

    Args:
        gap_prediction: One of :data:`GAP_OUTCOMES`: the weight-map model's background recall on the gap
            pixels against plain cross-entropy's of the same seed.
        cost_prediction: One of :data:`COST_OUTCOMES`: the seed mean of the paired difference in mean IoU,
            weight map minus plain cross-entropy.
        missed_prediction: One of :data:`MISSED_OUTCOMES`: how many of the 112 nearby pairs the weight-map
            model misses (one object less than half found) against plain cross-entropy of the same seed.

    Returns:
        ``True`` once all three predictions are recorded, whether they name what the study measured or not.
    """
    for prediction, choices in ((gap_prediction, GAP_OUTCOMES), (cost_prediction, COST_OUTCOMES),
                                (missed_prediction, MISSED_OUTCOMES)):
        hint = choice_hint(prediction, choices)
        if hint is not None:
            return wrong(hint)
    scores = weight_map_study_scores()
    plain, weighted = scores["cross_entropy"], scores["weight_map"]
    gap_outcome, cost_outcome, missed_outcome = study_outcomes()
    recall_change = weighted["gap recall"] - plain["gap recall"]
    cost = weighted["mean IoU"] - plain["mean IoU"]
    band = weighted["band mean IoU"] - plain["band mean IoU"]
    missed = weighted["missed"] - plain["missed"]
    seeds = ", ".join(scores["seeds"])
    measured = (f"per seed {seeds}, the gap pixels' background recall changed by "
                f"{' '.join(f'{value:+.3f}' for value in recall_change)} and mean IoU by "
                f"{' '.join(f'{value:+.3f}' for value in cost)} (seed mean {cost.mean():+.3f}; band mean IoU "
                f"{' '.join(f'{value:+.3f}' for value in band)}); missed pairs changed by "
                f"{' '.join(f'{int(value):+d}' for value in missed)} of 112")
    why = ("The border term makes a gap pixel painted as object cost up to 1 + w0 exp(-4/50), about 10.2 times a "
           "plain pixel (a background pixel has d1, d2 >= 1), so the loss pulls those pixels toward background. They "
           "are under 1% of all pixels, so what they gain can hardly move mean IoU: any change in mean IoU comes from "
           "the rest of the picture, and is read against the spread of the paired differences over the seeds. The map "
           "also weighs the background ring around objects near others, not only the gaps (362 of scene 18's pixels "
           "weigh more than 2, 38 of them gap pixels), so a likely reason for the extra missed pairs (not tested "
           "here) is that the model paints less object next to another one")
    verdicts = []
    if gap_prediction != gap_outcome:
        verdicts.append(f"you predicted the gap recall {gap_prediction!r}; it was {gap_outcome!r}")
    if cost_prediction != cost_outcome:
        verdicts.append(f"you predicted mean IoU {cost_prediction!r}; it came out {cost_outcome!r}")
    if missed_prediction != missed_outcome:
        verdicts.append(f"you predicted missed pairs {missed_prediction!r}; they came out {missed_outcome!r}")
    if not verdicts:
        return right(f"the gap recall was {gap_outcome}, mean IoU {cost_outcome} and missed pairs "
                     f"{missed_outcome}: {measured}. {why}.")
    return recorded_miss(f"{'; '.join(verdicts)}: {measured}. {why}.")
