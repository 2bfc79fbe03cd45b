"""Nearly touching objects: the thin background gaps between them and whether a prediction keeps them.

A semantic mask gives every object of a class the same label, so two objects of one class that lie a
pixel or two apart stay two objects only while the background between them is predicted as background.
A per-pixel loss counts those few gap pixels like any others, so painting over them costs little;
U-Net's weight map (:mod:`segedu.analysis.weight_map`) gives them extra weight for that reason.

Distances are those of :func:`segedu.analysis.weight_map.instance_distances`: Euclidean, between pixel
centres, to an object's nearest pixel (0 on the object). Between pixel centres every distance is the
square root of an integer, so "more than sqrt(2) apart" is the same as "at least 2 apart".

The functions:

* :func:`gap_pixels`: background pixels with two objects close by (the pixels the weight map targets);
* :func:`nearby_pairs`: pairs of objects of one class separated by a real gap;
* :func:`pair_outcome`: whether a predicted mask found both objects of a pair and kept them apart.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from segedu.analysis.connected_regions import label_connected_regions
from segedu.analysis.weight_map import instance_distances

__all__ = ["OUTCOMES", "gap_pixels", "nearby_pairs", "pair_outcome"]

OUTCOMES = ("missed", "joined", "kept apart")
_TOLERANCE = 1e-4  # distances are float32; a gap of exactly ``within`` pixels counts


def _check_positive_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive, finite number of pixels; got {value!r}")
    return float(value)


def _check_map(name: str, values: Any, shape: tuple[int, ...]) -> None:
    if not isinstance(values, Tensor) or values.is_floating_point() or tuple(values.shape) != shape:
        got = tuple(values.shape) if isinstance(values, Tensor) else type(values).__name__
        kind = f" {values.dtype}" if isinstance(values, Tensor) and values.is_floating_point() else ""
        raise ValueError(f"{name} must be an integer tensor shaped like instances {shape}; got{kind} {got}")


def gap_pixels(instances: Tensor, within: float = 3.0) -> Tensor:
    """Background pixels whose nearest and second-nearest objects both lie within ``within`` pixels.

    These are the thin gaps between neighbouring objects: a pixel in a gap ``g`` pixels wide lies at
    most ``(g + 1) / 2`` from each side, so ``within=3`` picks every pixel of gaps up to 5 pixels wide
    (and the background next to two objects' close corners).

    Args:
        instances: Integer map, 0 for no object, a positive id per object.
        within: Largest distance, in pixels, to each of the two nearest objects (> 0).

    Returns:
        Boolean map ``(H, W)``; all ``False`` when the map holds fewer than two objects.

    Shape:
        - instances: ``(H, W)``.
        - output: ``(H, W)``.
    """
    within = _check_positive_number("within", within)
    distances, ids = instance_distances(instances)  # (N, H, W); also checks instances
    if len(ids) < 2:
        return torch.zeros(instances.shape, dtype=torch.bool)
    nearest_two = distances.topk(2, dim=0, largest=False).values  # (2, H, W): d1 <= d2
    return (instances == 0) & (nearest_two[1] <= within + _TOLERANCE)


def nearby_pairs(instances: Tensor, mask: Tensor, *, max_distance: float = 4.0) -> list[dict[str, Any]]:
    """Pairs of objects of one class that lie close together yet do not touch.

    The distance of a pair is the smallest distance between a pixel of one and a pixel of the other.
    A pair counts when ``2 <= distance <= max_distance``: at distance 1 the objects share an edge and at
    ``sqrt(2)`` a corner, so no pixel lies between them, while from 2 on each object is surrounded by a
    ring of pixels that are not the other's (the pair is apart even under 8-connectivity). The pixels
    between them are usually background but may belong to an object of another class.

    Args:
        instances: Integer map, 0 for no object, a positive id per object.
        mask: Class index per pixel; every pixel of one object must carry one class.
        max_distance: Largest distance, in pixels, between the two objects (> 0).

    Returns:
        One dict per pair, ordered by ids: ``first`` and ``second`` (the object ids, ``first < second``),
        ``class`` (their common class) and ``distance`` (pixels).

    Shape:
        - instances, mask: ``(H, W)``.
    """
    max_distance = _check_positive_number("max_distance", max_distance)
    distances, ids = instance_distances(instances)  # (N, H, W); also checks instances
    _check_map("mask", mask, tuple(instances.shape))
    classes = []
    for object_id in ids:
        labels = mask[instances == object_id].unique()
        if labels.numel() != 1:
            raise ValueError(f"object {object_id} covers pixels of several classes {labels.tolist()} in mask; "
                             "each object needs one class")
        classes.append(int(labels))
    pairs = []
    for row, first in enumerate(ids):
        members = instances == first  # (H, W)
        for column in range(row + 1, len(ids)):
            if classes[column] != classes[row]:
                continue
            distance = float(distances[column][members].min())
            if distance >= 2.0 - _TOLERANCE and distance <= max_distance + _TOLERANCE:
                pairs.append({"first": first, "second": ids[column], "class": classes[row], "distance": distance})
    return pairs


def pair_outcome(prediction: Tensor, instances: Tensor, pair: dict[str, Any], found_share: float = 0.5) -> str:
    """What a predicted mask did with a pair of objects of one class: ``"missed"``, ``"joined"`` or ``"kept apart"``.

    * ``"missed"``: fewer than ``found_share`` of either object's pixels are predicted as the pair's class;
    * ``"joined"``: both were found and one 4-connected region of pixels predicted as that class holds
      pixels of both objects (:func:`segedu.analysis.connected_regions.label_connected_regions`), so
      the predicted semantic mask shows one object where there are two;
    * ``"kept apart"``: both were found and no such region joins them.

    Args:
        prediction: Predicted class per pixel.
        instances: Integer map, 0 for no object, a positive id per object.
        pair: A dict with ``first``, ``second`` and ``class``, as :func:`nearby_pairs` returns.
        found_share: Share of an object's pixels that must carry its class for it to count as found,
            in ``(0, 1]``.

    Returns:
        One of :data:`OUTCOMES`.

    Shape:
        - prediction, instances: ``(H, W)``.
    """
    if isinstance(found_share, bool) or not isinstance(found_share, (int, float)) or not 0 < found_share <= 1:
        raise ValueError(f"found_share must be a number in (0, 1]; got {found_share!r}")
    if not isinstance(instances, Tensor) or instances.ndim != 2 or instances.is_floating_point():
        got = tuple(instances.shape) if isinstance(instances, Tensor) else type(instances).__name__
        raise ValueError(f"instances must be an integer tensor of shape (H, W); got {got}")
    _check_map("prediction", prediction, tuple(instances.shape))
    if not isinstance(pair, dict) or not {"first", "second", "class"} <= set(pair):
        raise ValueError(f"pair must be a dict with 'first', 'second' and 'class' (see nearby_pairs); got {pair!r}")
    class_index = int(pair["class"])
    painted = prediction == class_index  # (H, W)
    objects = []
    for key in ("first", "second"):
        members = instances == int(pair[key])
        if not bool(members.any()):
            raise ValueError(f"object {pair[key]!r} ({key}) is not in instances")
        objects.append(members)
    if pair["first"] == pair["second"]:
        raise ValueError(f"a pair needs two different objects; got {pair['first']!r} twice")
    if any(float(painted[members].float().mean()) < found_share for members in objects):
        return "missed"
    regions = label_connected_regions(painted)  # (H, W): 0 outside, one id per region
    first_regions = set(regions[objects[0] & painted].tolist())
    second_regions = set(regions[objects[1] & painted].tolist())
    return "joined" if first_regions & second_regions else "kept apart"
