"""U-Net's weight map: extra loss weight on the thin gaps between neighbouring objects.

Ronneberger, Fischer & Brox (MICCAI 2015, eq. 2) train with a per-pixel weight

    ``w(x) = w_c(x) + w0 * exp(-(d1(x) + d2(x))**2 / (2 * sigma**2))``

where ``w_c`` balances the class frequencies, ``d1(x)`` is "the distance to the border of the
nearest cell" and ``d2(x)`` the distance to the border of the second nearest; the paper uses
``w0 = 10`` and ``sigma ~ 5`` pixels. A pixel squeezed between two objects has small ``d1 + d2``
and a large weight, so the network is pushed to draw the separating line that a per-pixel loss
would otherwise sacrifice.

Here the objects are the labelled instances of an instance map (``0`` = no object, ``1..N`` one id
per object, e.g. :meth:`segedu.datasets.ShapesScenes.sample`). segedu measures the distance to the
*object*, not to its border: the Euclidean distance between pixel centres to the object's nearest
pixel, 0 inside the object. That is one reading of eq. 2, and it matters for object pixels: with
``where="all"`` (not the default) every pixel gets the border term, and since an object pixel has
``d1 = 0``, ``d1 + d2`` is just the distance to the nearest *other* object, so whole small objects
near a neighbour light up, not only the line where two objects meet. ``where="background"`` (the
default) gives the border term to background pixels only: in the paper's labels touching cells
never touch, because a thin separation border of background is carved between them with
morphological operations (its section 3 and Fig. 3c), so its weight falls on background. segedu's
scenes carry no such borders: where objects touch with no gap, only ``where="all"`` weights the line
between them. :func:`carve_separation` carves a border into an instance map, to show what it changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["border_weight", "carve_separation", "instance_distances", "unet_weight_map"]

_WHERE = ("background", "all")


def _check_instances(instances: Tensor) -> None:
    if not isinstance(instances, Tensor) or instances.ndim != 2 or instances.is_floating_point():
        shape = tuple(instances.shape) if isinstance(instances, Tensor) else type(instances).__name__
        raise ValueError(f"instances must be an integer tensor of shape (H, W); got {shape}")
    if bool((instances < 0).any()):
        raise ValueError("instances must be 0 (no object) or a positive object id; found negative values")


def instance_distances(instances: Tensor) -> tuple[Tensor, list[int]]:
    """Distance from every pixel to each object of an instance map.

    Args:
        instances: Integer map, 0 for no object, a positive id per object.

    Returns:
        ``(distances, ids)``: float32 distances ``(N, H, W)`` in pixels, ``distances[n, y, x]``
        being the Euclidean distance from pixel ``(y, x)`` to the nearest pixel of object
        ``ids[n]`` (0 on the object itself), and the ``N`` object ids in increasing order.

    Shape:
        - instances: ``(H, W)``.
    """
    _check_instances(instances)
    height, width = instances.shape
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    pixels = torch.stack([ys.flatten(), xs.flatten()], dim=1).double()  # (H*W, 2)
    ids = [int(value) for value in instances.unique() if int(value) != 0]
    distances = torch.empty(len(ids), height, width, dtype=torch.float32)
    for row, object_id in enumerate(ids):
        members = pixels[(instances == object_id).flatten()]  # (M, 2)
        nearest = torch.cdist(pixels, members).amin(dim=1)  # (H*W,)
        distances[row] = nearest.reshape(height, width).float()
    return distances, ids


def border_weight(
    instances: Tensor, *, w0: float = 10.0, sigma: float = 5.0, where: str = "background"
) -> Tensor:
    """The border term ``w0 * exp(-(d1 + d2)**2 / (2 sigma**2))`` of U-Net's eq. 2.

    Args:
        instances: Integer map, 0 for no object, a positive id per object.
        w0: Largest extra weight (the paper: 10), >= 0.
        sigma: Width of the fall-off in pixels (the paper: about 5), > 0.
        where: ``"background"`` (only pixels outside every object) or ``"all"`` (every pixel; inside an
            object ``d1 = 0``, so ``d1 + d2`` is the distance to the nearest other object).

    Returns:
        Float32 map ``(H, W)``; all zeros when the map holds fewer than two objects.

    Shape:
        - instances: ``(H, W)``.
    """
    if not w0 >= 0 or not sigma > 0:
        raise ValueError(f"need w0 >= 0 and sigma > 0; got w0={w0}, sigma={sigma}")
    if where not in _WHERE:
        raise ValueError(f"where must be one of {_WHERE}; got {where!r}")
    distances, ids = instance_distances(instances)
    if len(ids) < 2:
        return torch.zeros(instances.shape, dtype=torch.float32)
    nearest_two = distances.topk(2, dim=0, largest=False).values  # (2, H, W): d1, d2
    total = nearest_two.sum(dim=0)  # (H, W)
    weight = w0 * torch.exp(-(total**2) / (2.0 * sigma**2))
    if where == "background":
        weight = weight * (instances == 0)
    return weight.float()


def unet_weight_map(
    instances: Tensor,
    mask: Tensor | None = None,
    *,
    class_weights: Tensor | Sequence[float] | None = None,
    w0: float = 10.0,
    sigma: float = 5.0,
    where: str = "background",
) -> Tensor:
    """U-Net's per-pixel loss weight ``w(x) = w_c(x) + border term`` (Ronneberger et al. 2015, eq. 2).

    Args:
        instances: Integer map, 0 for no object, a positive id per object.
        mask: Class index per pixel; needed with ``class_weights``.
        class_weights: ``w_c`` per class, ``(K,)``, e.g. from
            :func:`segedu.training.class_balance.median_frequency_weights`; ``None`` means 1 everywhere.
        w0: Largest extra weight of the border term.
        sigma: Fall-off of the border term in pixels.
        where: Which pixels get the border term: ``"background"`` or ``"all"``.

    Returns:
        Float32 weights ``(H, W)``, to multiply the per-pixel loss with.

    Shape:
        - instances, mask: ``(H, W)``.
    """
    border = border_weight(instances, w0=w0, sigma=sigma, where=where)  # (H, W)
    if class_weights is None:
        return 1.0 + border
    if mask is None or not isinstance(mask, Tensor) or mask.shape != instances.shape:
        raise ValueError("class_weights need the class mask, a tensor of the same shape (H, W) as instances")
    weights = torch.as_tensor(class_weights, dtype=torch.float32)
    if weights.ndim != 1 or int(mask.max()) >= weights.shape[0] or int(mask.min()) < 0:
        raise ValueError(f"class_weights must hold one weight per class in mask (0..{int(mask.max())}); "
                         f"got shape {tuple(weights.shape)}")
    return weights[mask.long()] + border


def carve_separation(instances: Tensor) -> Tensor:
    """Carve a line of background between touching objects, as the U-Net paper's labels have (its Fig. 3c).

    Every object pixel with a 4-neighbour that belongs to another object becomes background (0), so
    objects that touched are then at least two pixels apart. The paper carves its borders with
    morphological operations; this is the simplest version of that, for a demonstration.

    Args:
        instances: Integer map, 0 for no object, a positive id per object.

    Returns:
        A new instance map (the input is not changed).

    Shape:
        - instances: ``(H, W)``; returns ``(H, W)``.
    """
    _check_instances(instances)
    contact = torch.zeros_like(instances, dtype=torch.bool)  # (H, W)
    for rows, columns in ((1, 0), (0, 1)):  # vertical, then horizontal neighbours
        first = instances[: instances.shape[0] - rows, : instances.shape[1] - columns]
        second = instances[rows:, columns:]
        touching = (first > 0) & (second > 0) & (first != second)  # two different objects side by side
        contact[: instances.shape[0] - rows, : instances.shape[1] - columns] |= touching
        contact[rows:, columns:] |= touching
    return torch.where(contact, torch.zeros_like(instances), instances)
