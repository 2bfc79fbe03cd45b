"""score_runs scores a stored seed study by region, against brute-force loops over the confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segedu.analysis.shortcut_scores import REGIONS, region_confusion, region_iou, score_runs, wrong_pixels
from segedu.training.metrics import confusion_matrix, mean_iou


def _run(seed: int, parameters: int, classes: int = 3) -> dict:
    """A run scored from random predictions: the band is a random half of the pixels."""
    generator = torch.Generator().manual_seed(seed)
    target = torch.randint(classes, (2, 8, 8), generator=generator)
    prediction = torch.where(torch.rand(2, 8, 8, generator=generator) < 0.7, target,
                             torch.randint(classes, (2, 8, 8), generator=generator))
    band = torch.rand(2, 8, 8, generator=generator) < 0.5
    curve = [[25 * (point + 1), 1.0 / (point + 1) + 0.01 * seed] for point in range(8)]
    return {"confusion": confusion_matrix(prediction, target, classes).tolist(),
            "band_confusion": confusion_matrix(prediction[band], target[band], classes).tolist(),
            "loss_curve": curve, "parameters": parameters, "_data": (prediction, target, band)}


def _study() -> dict:
    return {"a": {str(seed): _run(seed, 100) for seed in range(3)},
            "b": {str(seed): _run(10 + seed, 120) for seed in range(3)}}


def test_regions_match_a_brute_force_count() -> None:
    run = _run(0, 1)
    prediction, target, band = run["_data"]
    for region, mask in (("all pixels", torch.ones_like(band)), ("band", band), ("interior", ~band)):
        wrong = sum(int(p != t) for p, t, m in zip(prediction.flatten(), target.flatten(), mask.flatten()) if m)
        assert wrong_pixels(run, region) == wrong
        expected = confusion_matrix(prediction[mask], target[mask], 3)
        assert torch.equal(region_confusion(run, region), expected)
        assert region_iou(run, region) == pytest.approx(mean_iou(expected))


def test_score_runs_pairs_by_seed_and_reads_the_late_loss() -> None:
    scores = score_runs(_study())
    assert scores.seeds == ("0", "1", "2") and scores.variants == ("a", "b")
    assert scores.parameters == {"a": 100, "b": 120}
    for region in REGIONS:
        expected = np.array([region_iou(_study()["a"][seed], region) - region_iou(_study()["b"][seed], region)
                             for seed in scores.seeds])
        assert np.allclose(scores.paired(region, "a", "b"), expected)
        ahead = [seed for seed, value in zip(scores.seeds, expected) if value > 0]
        assert scores.ahead(region, "a", "b") == ahead
        verdict = ("a > b in every seed" if len(ahead) == 3 else "b > a in every seed" if not ahead
                   else "not separated")
        assert scores.verdict(region, "a", "b") == verdict
    assert np.allclose(scores.late_loss["a"], [np.mean([1 / 5, 1 / 6, 1 / 7, 1 / 8]) + 0.01 * s for s in range(3)])
    assert scores.late_steps == (101, 200)
    assert "+20%" in scores.score_table() and "2 of 3" not in scores.score_table()
    assert scores.paired_table([("a", "b")]).count("\n") == len(REGIONS)


def test_verdict_names_the_leader() -> None:
    study = _study()
    scores = score_runs({"a": study["a"], "same": study["a"]})
    assert scores.verdict("band", "a", "same") == "not separated"  # ties in every seed: nobody ahead


def test_score_runs_rejects_unpaired_seeds_and_bad_regions() -> None:
    study = _study()
    del study["b"]["2"]
    with pytest.raises(ValueError, match="same seeds"):
        score_runs(study)
    with pytest.raises(ValueError, match="region must be one of"):
        region_confusion(_run(0, 1), "edges")
