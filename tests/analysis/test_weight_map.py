"""segedu.analysis.weight_map against brute-force loops on tiny instance maps."""

from __future__ import annotations

import math

import pytest
import torch

from segedu.analysis.weight_map import border_weight, carve_separation, instance_distances, unet_weight_map


def _two_objects() -> torch.Tensor:
    instances = torch.zeros(7, 9, dtype=torch.int64)
    instances[1:4, 1:3] = 1
    instances[2:6, 5:8] = 2
    instances[6, 0] = 4  # ids need not be consecutive
    return instances


def _loop_distance(instances: torch.Tensor, object_id: int, y: int, x: int) -> float:
    return min(math.hypot(y - i, x - j) for i in range(instances.shape[0]) for j in range(instances.shape[1])
               if int(instances[i, j]) == object_id)


def test_distances_match_a_loop():
    instances = _two_objects()
    distances, ids = instance_distances(instances)
    assert ids == [1, 2, 4]
    for row, object_id in enumerate(ids):
        for y in range(instances.shape[0]):
            for x in range(instances.shape[1]):
                assert float(distances[row, y, x]) == pytest.approx(_loop_distance(instances, object_id, y, x), abs=1e-5)


def test_border_weight_matches_the_formula_on_background_only():
    instances = _two_objects()
    weight = border_weight(instances, w0=10.0, sigma=2.0)
    distances, _ = instance_distances(instances)
    for y in range(instances.shape[0]):
        for x in range(instances.shape[1]):
            d1, d2 = sorted(float(value) for value in distances[:, y, x])[:2]
            expected = 10.0 * math.exp(-((d1 + d2) ** 2) / (2 * 2.0**2)) if instances[y, x] == 0 else 0.0
            assert float(weight[y, x]) == pytest.approx(expected, abs=1e-5)


def test_where_all_also_weights_object_pixels_near_another_object():
    instances = _two_objects()
    everywhere = border_weight(instances, sigma=2.0, where="all")
    assert float(everywhere[2, 5]) > 0.0 and float(border_weight(instances, sigma=2.0)[2, 5]) == 0.0


def test_gap_pixels_weigh_more_than_open_background():
    instances = _two_objects()
    weight = border_weight(instances, sigma=2.0)
    assert float(weight[2, 4]) > float(weight[0, 8])  # between the objects vs a far corner


def test_fewer_than_two_objects_give_no_border_term():
    instances = torch.zeros(5, 5, dtype=torch.int64)
    instances[1:3, 1:3] = 1
    assert float(border_weight(instances).abs().sum()) == 0.0
    assert torch.equal(unet_weight_map(instances), torch.ones(5, 5))


def test_class_weights_are_added():
    instances = _two_objects()
    mask = (instances > 0).long()
    combined = unet_weight_map(instances, mask, class_weights=[0.5, 2.0], sigma=2.0)
    expected = torch.tensor([0.5, 2.0])[mask] + border_weight(instances, sigma=2.0)
    assert torch.allclose(combined, expected)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="instances"):
        instance_distances(torch.zeros(2, 3, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="sigma"):
        border_weight(_two_objects(), sigma=0.0)
    with pytest.raises(ValueError, match="where"):
        border_weight(_two_objects(), where="edges")
    with pytest.raises(ValueError, match="mask"):
        unet_weight_map(_two_objects(), class_weights=[1.0, 2.0])


def test_carve_separation_matches_a_pixel_loop() -> None:
    generator = torch.Generator().manual_seed(0)
    instances = torch.randint(0, 4, (9, 11), generator=generator)  # many objects touching each other
    carved = carve_separation(instances)
    expected = instances.clone()
    for y in range(9):
        for x in range(11):
            neighbours = [(y + dy, x + dx) for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))
                          if 0 <= y + dy < 9 and 0 <= x + dx < 11]
            if instances[y, x] > 0 and any(0 < instances[ny, nx] != instances[y, x] for ny, nx in neighbours):
                expected[y, x] = 0
    assert torch.equal(carved, expected) and not torch.equal(carved, instances)  # the loop carves something
    assert torch.equal(instances, torch.randint(0, 4, (9, 11), generator=torch.Generator().manual_seed(0)))  # unchanged


def test_carved_objects_no_longer_touch_and_the_line_is_weighted() -> None:
    touching = torch.zeros(6, 8, dtype=torch.int64)
    touching[1:4, 0:2] = 1
    touching[2:5, 2:5] = 2  # shares a vertical edge with object 1
    carved = carve_separation(touching)
    assert float(border_weight(touching)[(touching > 0)].max()) == 0.0  # nothing between them to weight
    line = (touching > 0) & (carved == 0)
    assert int(line.sum()) == 4  # two pixels on each side of the shared edge
    # The carved line now carries the border term: at least 10 exp(-(1 + 2)^2 / 50), d1 = 1 and d2 = 2 across it.
    assert float(border_weight(carved)[line].min()) == pytest.approx(10 * math.exp(-9 / 50), abs=1e-4)


def test_carve_separation_refuses_a_float_map() -> None:
    with pytest.raises(ValueError, match="integer tensor of shape"):
        carve_separation(torch.zeros(4, 4))
