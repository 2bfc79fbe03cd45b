"""segedu.analysis.touching_objects against brute-force loops on tiny hand-made maps."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from segedu.analysis.touching_objects import OUTCOMES, gap_pixels, nearby_pairs, pair_outcome


def _scene() -> tuple[torch.Tensor, torch.Tensor]:
    """Five objects on a 9 x 12 map: 1 and 2 (class 1) two pixels apart, 3 (class 1) touching 2 at a corner,
    4 (class 2) one pixel from 1, 5 (class 1) far away."""
    instances = torch.zeros(9, 12, dtype=torch.int64)
    instances[1:4, 1:3] = 1
    instances[1:4, 4:6] = 2  # column 3 is the one-pixel gap between 1 and 2: distance 2
    instances[4:6, 6:8] = 3  # (3, 5) and (4, 6) meet at a corner: distance sqrt(2)
    instances[5:7, 1:3] = 4  # row 4 between 1 and 4, but 4 has another class
    instances[8, 11] = 5
    mask = torch.zeros_like(instances)
    for object_id, class_index in {1: 1, 2: 1, 3: 1, 4: 2, 5: 1}.items():
        mask[instances == object_id] = class_index
    return instances, mask


def _pixels(instances: torch.Tensor, object_id: int) -> list[tuple[int, int]]:
    height, width = instances.shape
    return [(y, x) for y in range(height) for x in range(width) if int(instances[y, x]) == object_id]


def _loop_pairs(instances: torch.Tensor, mask: torch.Tensor, max_distance: float) -> list[tuple[int, int, int, float]]:
    ids = sorted(int(value) for value in instances.unique() if int(value) != 0)
    pairs = []
    for first, second in itertools.combinations(ids, 2):
        first_pixels, second_pixels = _pixels(instances, first), _pixels(instances, second)
        if int(mask[first_pixels[0]]) != int(mask[second_pixels[0]]):
            continue
        distance = min(math.dist(a, b) for a in first_pixels for b in second_pixels)
        if 2.0 <= distance + 1e-9 and distance <= max_distance + 1e-9:
            pairs.append((first, second, int(mask[first_pixels[0]]), distance))
    return pairs


def test_gap_pixels_match_a_loop():
    instances, _ = _scene()
    gaps = gap_pixels(instances, within=2.0)
    ids = [1, 2, 3, 4, 5]
    for y in range(instances.shape[0]):
        for x in range(instances.shape[1]):
            nearest = sorted(min(math.dist((y, x), pixel) for pixel in _pixels(instances, object_id))
                             for object_id in ids)
            expected = int(instances[y, x]) == 0 and nearest[0] <= 2.0 and nearest[1] <= 2.0
            assert bool(gaps[y, x]) == expected, (y, x)


def test_the_one_pixel_gap_is_a_gap_and_open_background_is_not():
    instances, _ = _scene()
    gaps = gap_pixels(instances, within=1.0)
    assert bool(gaps[1:4, 3].all())  # the column between objects 1 and 2
    assert not bool(gaps[0, 11]) and not bool(gaps[instances > 0].any())


def test_fewer_than_two_objects_have_no_gap():
    instances = torch.zeros(5, 5, dtype=torch.int64)
    instances[1, 1] = 7
    assert not bool(gap_pixels(instances).any())


@pytest.mark.parametrize("max_distance", [1.0, 2.0, 3.0, 4.0, 10.0])
def test_nearby_pairs_match_a_loop(max_distance):
    instances, mask = _scene()
    found = [(pair["first"], pair["second"], pair["class"], pair["distance"])
             for pair in nearby_pairs(instances, mask, max_distance=max_distance)]
    expected = _loop_pairs(instances, mask, max_distance)
    assert [row[:3] for row in found] == [row[:3] for row in expected]
    assert [row[3] for row in found] == pytest.approx([row[3] for row in expected], abs=1e-5)


def test_nearby_pairs_skip_touching_pairs_and_other_classes():
    instances, mask = _scene()
    pairs = nearby_pairs(instances, mask, max_distance=4.0)
    assert {"first": 1, "second": 2, "class": 1, "distance": pytest.approx(2.0)} in pairs
    assert not any({pair["first"], pair["second"]} == {2, 3} for pair in pairs)  # corner contact: sqrt(2)
    assert not any(4 in (pair["first"], pair["second"]) for pair in pairs)  # class 2 has no partner


def test_a_perfect_prediction_keeps_the_pair_apart():
    instances, mask = _scene()
    pair = {"first": 1, "second": 2, "class": 1, "distance": 2.0}
    assert pair_outcome(mask.clone(), instances, pair) == "kept apart"  # the true mask


def test_painting_one_gap_pixel_joins_the_pair():
    instances, mask = _scene()
    prediction = mask.clone()
    prediction[2, 3] = 1  # one pixel of the gap column
    pair = {"first": 1, "second": 2, "class": 1, "distance": 2.0}
    assert pair_outcome(prediction, instances, pair) == "joined"


def test_a_diagonal_bridge_does_not_join_under_4_connectivity():
    instances = torch.zeros(5, 7, dtype=torch.int64)
    instances[1:4, 0:2] = 1
    instances[1:4, 4:6] = 2
    mask = (instances > 0).long()
    prediction = mask.clone()
    prediction[1, 2] = 1
    prediction[2, 3] = 1  # (1, 2) and (2, 3) touch only at a corner
    pair = nearby_pairs(instances, mask)[0]
    assert pair_outcome(prediction, instances, pair) == "kept apart"
    prediction[1, 3] = 1
    assert pair_outcome(prediction, instances, pair) == "joined"


def test_a_half_found_object_is_missed():
    instances, mask = _scene()
    prediction = mask.clone()
    prediction[1:3, 4:6] = 0  # 4 of object 2's 6 pixels lost: 1/3 found
    pair = {"first": 1, "second": 2, "class": 1, "distance": 2.0}
    assert pair_outcome(prediction, instances, pair) == "missed"
    assert pair_outcome(prediction, instances, pair, found_share=0.3) == "kept apart"
    prediction[2, 3] = 1
    prediction[2, 4] = 1
    assert pair_outcome(prediction, instances, pair, found_share=0.3) == "joined"
    assert pair_outcome(torch.zeros_like(mask), instances, pair) == "missed"


def test_outcomes_agree_with_a_brute_force_flood_fill():
    generator = torch.Generator().manual_seed(0)
    instances = torch.zeros(6, 9, dtype=torch.int64)
    instances[1:5, 0:3] = 1
    instances[1:5, 5:8] = 2
    mask = (instances > 0).long()
    pair = nearby_pairs(instances, mask)[0]
    seen = set()
    for _ in range(60):
        prediction = torch.where(torch.rand(6, 9, generator=generator) < 0.6, 1, 0)
        painted = {(y, x) for y in range(6) for x in range(9) if int(prediction[y, x]) == 1}
        shares = [sum(pixel in painted for pixel in _pixels(instances, i)) / 12 for i in (1, 2)]
        if min(shares) < 0.5:
            expected = "missed"
        else:
            start = [pixel for pixel in _pixels(instances, 1) if pixel in painted]
            reached, frontier = set(start), list(start)
            while frontier:
                y, x = frontier.pop()
                for step in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                    if step in painted and step not in reached:
                        reached.add(step)
                        frontier.append(step)
            expected = "joined" if any(pixel in reached for pixel in _pixels(instances, 2)) else "kept apart"
        assert pair_outcome(prediction, instances, pair) == expected
        seen.add(expected)
    assert seen == set(OUTCOMES)


def test_bad_inputs_say_what_to_fix():
    instances, mask = _scene()
    pair = {"first": 1, "second": 2, "class": 1}
    with pytest.raises(ValueError, match="within must be a positive"):
        gap_pixels(instances, within=0)
    with pytest.raises(ValueError, match="instances must be an integer tensor"):
        gap_pixels(instances.float())
    with pytest.raises(ValueError, match="max_distance must be a positive"):
        nearby_pairs(instances, mask, max_distance=-1.0)
    with pytest.raises(ValueError, match="mask must be an integer tensor shaped like instances"):
        nearby_pairs(instances, mask[:, :5])
    split = mask.clone()
    split[1, 1] = 2
    with pytest.raises(ValueError, match="object 1 covers pixels of several classes"):
        nearby_pairs(instances, split)
    with pytest.raises(ValueError, match="prediction must be an integer tensor shaped like instances"):
        pair_outcome(mask.float(), instances, pair)
    with pytest.raises(ValueError, match="found_share must be a number in"):
        pair_outcome(mask, instances, pair, found_share=1.5)
    with pytest.raises(ValueError, match="pair must be a dict"):
        pair_outcome(mask, instances, (1, 2))
    with pytest.raises(ValueError, match="object 9 .* is not in instances"):
        pair_outcome(mask, instances, {"first": 1, "second": 9, "class": 1})
    with pytest.raises(ValueError, match="two different objects"):
        pair_outcome(mask, instances, {"first": 1, "second": 1, "class": 1})
