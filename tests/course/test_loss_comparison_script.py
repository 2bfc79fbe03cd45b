"""The loss-comparison script never overwrites the lesson's shipped record unless asked to."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from experiments import _pool_study, loss_comparison
from experiments._pool_study import settings_fingerprint
from segedu.course.experiments import RESULTS_DIR, load_experiment


def test_the_shipped_record_is_protected(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert (RESULTS_DIR / "loss_comparison.json").is_file()
    monkeypatch.setattr(sys, "argv", ["loss_comparison", "--output", str(RESULTS_DIR), "--steps", "1600"])
    with pytest.raises(SystemExit):
        loss_comparison.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err


def test_a_default_run_writes_outside_the_package() -> None:
    arguments = loss_comparison.build_parser().parse_args([])
    assert arguments.output == Path("runs") and not arguments.overwrite and arguments.scenes == "digits"
    assert loss_comparison.SCENES["digits"][3] == "loss_comparison"
    assert loss_comparison.SCENES["shapes"][1:] == (3, 4, "loss_comparison_shapes")


def test_every_loss_name_gives_a_scalar_loss() -> None:
    weights = {"inverse": torch.ones(4), "median": torch.ones(4), "sqrt": torch.ones(4)}
    logits = torch.randn(2, 4, 5, 5, generator=torch.Generator().manual_seed(0))  # (B, K, H, W)
    masks = torch.randint(0, 4, (2, 5, 5), generator=torch.Generator().manual_seed(1))  # (B, H, W)
    for name in loss_comparison.LOSSES + loss_comparison.OPT_IN:
        assert loss_comparison.loss_function(name, weights)(logits, masks).ndim == 0
    with pytest.raises(ValueError, match="unknown loss"):
        loss_comparison.loss_function("lovasz", weights)


def test_losses_selects_a_subset_and_rejects_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    parser = loss_comparison.build_parser()
    assert parser.parse_args([]).losses == loss_comparison.LOSSES
    chosen = parser.parse_args(["--losses", "cross_entropy", "dice", "--seeds", "6", "7"])
    assert chosen.losses == ["cross_entropy", "dice"] and chosen.seeds == [6, 7]
    assert parser.parse_args(["--losses", "weighted_ce_sqrt"]).losses == [loss_comparison.MILD]  # only when named
    assert parser.parse_args(["--losses", "focal"]).losses == [loss_comparison.FOCAL]
    with pytest.raises(SystemExit):
        parser.parse_args(["--losses", "lovasz"])
    assert "invalid choice" in capsys.readouterr().err


def test_main_trains_only_the_chosen_losses(monkeypatch, tmp_path: Path, pool_in_this_process) -> None:
    masks = torch.randint(0, 11, (4, 8, 8), generator=torch.Generator().manual_seed(0))  # (N, H, W)
    images = torch.zeros(4, 1, 8, 8)  # (N, C, H, W)
    trained = []

    def fake_run(job: tuple[str, int]) -> dict:
        trained.append(job)
        return {"confusion": [[0]], "cpu_seconds": 1.0}

    monkeypatch.setattr(loss_comparison, "_pools", lambda: (images, masks, images, masks))
    monkeypatch.setattr(loss_comparison, "one_run", fake_run)
    monkeypatch.setattr(sys, "argv", ["loss_comparison", "--losses", "dice", "cross_entropy", "--seeds", "6", "7",
                                      "--output", str(tmp_path)])
    loss_comparison.main()
    record = json.loads((tmp_path / "loss_comparison.json").read_text())
    assert list(record["results"]["runs"]) == ["cross_entropy", "dice"]  # the study's order
    assert sorted(trained) == [("cross_entropy", 6), ("cross_entropy", 7), ("dice", 6), ("dice", 7)]
    assert record["seeds"] == [6, 7] and "--losses dice cross_entropy" in record["command"]


def test_a_suffix_names_a_variant_record_and_must_be_plain_letters(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["loss_comparison", "--suffix", "Fresh-1"])
    with pytest.raises(SystemExit):
        loss_comparison.main()  # refuses before any training
    assert "'Fresh-1'" in capsys.readouterr().err
    assert loss_comparison.build_parser().parse_args(["--suffix", "fresh"]).suffix == "fresh"


def test_peak_lr_changes_the_rate_and_refuses_nonsense(monkeypatch, tmp_path: Path, capsys,
                                                      pool_in_this_process) -> None:
    assert loss_comparison.build_parser().parse_args([]).peak_lr == loss_comparison.DEFAULT_PEAK_LR == 0.003
    monkeypatch.setattr(sys, "argv", ["loss_comparison", "--peak-lr", "3", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        loss_comparison.main()  # refuses before any training
    error = capsys.readouterr().err
    assert "--peak-lr must be between 0 and 1" in error and "got 3.0" in error
    masks = torch.randint(0, 11, (4, 8, 8), generator=torch.Generator().manual_seed(0))  # (N, H, W)
    images = torch.zeros(4, 1, 8, 8)  # (N, C, H, W)
    seen = []
    monkeypatch.setattr(loss_comparison, "_pools", lambda: (images, masks, images, masks))
    monkeypatch.setattr(loss_comparison, "one_run",
                        lambda job: seen.append(loss_comparison.SETTINGS["peak_lr"]) or {"confusion": [[0]], "cpu_seconds": 1.0})
    monkeypatch.setitem(loss_comparison.SETTINGS, "peak_lr", loss_comparison.DEFAULT_PEAK_LR)
    monkeypatch.setattr(sys, "argv", ["loss_comparison", "--losses", "dice", "--seeds", "0", "--peak-lr", "0.01",
                                      "--suffix", "lrhigh", "--output", str(tmp_path)])
    loss_comparison.main()
    record = json.loads((tmp_path / "loss_comparison_lrhigh.json").read_text())
    assert seen == [0.01] and record["settings"]["peak_lr"] == 0.01 and "--peak-lr 0.01" in record["command"]


def test_weighted_start_moves_only_the_weighted_losses_start(monkeypatch, tmp_path: Path,
                                                              pool_in_this_process) -> None:
    masks = torch.randint(0, 11, (6, 16, 16), generator=torch.Generator().manual_seed(0))  # (N, H, W)
    masks[:, :8] = 0  # background is the common class
    images = torch.rand(6, 1, 16, 16)  # (N, C, H, W)
    starts = {}

    def no_training(model, *arguments, **options) -> list:
        starts[len(starts)] = model.outc.bias.detach().clone()
        return []

    monkeypatch.setattr(loss_comparison, "_pools", lambda: (images, masks, images, masks))
    monkeypatch.setattr(_pool_study, "train_on_pool", no_training)
    monkeypatch.setattr(loss_comparison, "PARTS_DIR", tmp_path / "parts")
    monkeypatch.setitem(loss_comparison.SETTINGS, "picture_scenes", [0])
    monkeypatch.setattr(sys, "argv", ["loss_comparison", "--losses", "cross_entropy", "weighted_ce_inverse",
                                      "--seeds", "0", "--weighted-start", "--output", str(tmp_path)])
    loss_comparison.main()
    plain, weighted = starts[0], starts[1]
    frequencies = torch.bincount(masks.flatten(), minlength=11).double() / masks.numel()
    weights = loss_comparison.inverse_frequency_weights(masks, 11).double()
    expected = (frequencies * weights / (frequencies * weights).sum()).log()
    assert torch.allclose(plain.double(), frequencies.log(), atol=1e-5)
    assert torch.allclose(weighted.double(), expected, atol=1e-5)
    record = json.loads((tmp_path / "loss_comparison.json").read_text())
    assert "log(frequency x weight)" in record["settings"]["prior_bias"]
    fingerprint = settings_fingerprint(loss_comparison.SETTINGS)  # the settings these runs used
    assert sorted(path.name for path in (tmp_path / "parts").glob("*.json")) == [
        f"cross_entropy_0_400_{fingerprint}.json", f"ownstart_weighted_ce_inverse_0_400_{fingerprint}.json"]


def _untrained_study(monkeypatch, tmp_path: Path, *arguments: str) -> tuple[list, torch.Tensor, torch.Tensor]:
    """Run the study's main() on four random 16 x 16 scenes (background the common class) with training replaced by
    nothing; return the models it built, in order, and the images and masks it scored."""
    masks = torch.randint(0, 11, (4, 16, 16), generator=torch.Generator().manual_seed(1))  # (N, H, W)
    masks[:, :8] = 0  # background is the common class
    images = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(2))  # (N, C, H, W)
    models = []

    def no_training(model, *arguments, **options) -> list:
        models.append(model)
        return []

    monkeypatch.setattr(loss_comparison, "SETTINGS", dict(loss_comparison.SETTINGS, picture_scenes=[0]))
    monkeypatch.setattr(loss_comparison, "_pools", lambda: (images, masks, images, masks))
    monkeypatch.setattr(_pool_study, "train_on_pool", no_training)
    monkeypatch.setattr(loss_comparison, "PARTS_DIR", tmp_path / "parts")
    monkeypatch.setattr(sys, "argv", ["loss_comparison", *arguments, "--output", str(tmp_path)])
    loss_comparison.main()
    return models, images, masks


def test_untilt_divides_the_class_weights_out_of_the_weighted_models_only(monkeypatch, tmp_path: Path,
                                                                          pool_in_this_process) -> None:
    models, images, masks = _untrained_study(  # own start: the tilt shows before training
        monkeypatch, tmp_path, "--losses", "cross_entropy", "weighted_ce_median", "--seeds", "0", "--untilt",
        "--weighted-start", "--suffix", "untilt")
    record = json.loads((tmp_path / "loss_comparison_untilt.json").read_text())
    runs = record["results"]["runs"]
    assert "untilted_confusion" not in runs["cross_entropy"]["0"]
    weights = loss_comparison.median_frequency_weights(masks, 11)  # (11,)
    with torch.no_grad():
        probabilities = models[1].eval()(images).softmax(dim=1)  # (N, 11, H, W)
    untilted = (probabilities / weights.view(1, -1, 1, 1)).argmax(dim=1)  # argmax of p_c / w_c, (N, H, W)
    by_hand = [[0] * 11 for _ in range(11)]
    for truth, guess in zip(masks.flatten().tolist(), untilted.flatten().tolist()):
        by_hand[truth][guess] += 1
    assert runs["weighted_ce_median"]["0"]["untilted_confusion"] == by_hand
    assert runs["weighted_ce_median"]["0"]["untilted_confusion"] != runs["weighted_ce_median"]["0"]["confusion"]
    assert "untilted_confusion" in record["settings"]["untilt"]
    fingerprint = settings_fingerprint(loss_comparison.SETTINGS)  # the settings these runs used
    assert sorted(path.name for path in (tmp_path / "parts").glob("*.json")) == [
        f"cross_entropy_0_400_{fingerprint}.json", f"ownstart_untilt_weighted_ce_median_0_400_{fingerprint}.json"]


def test_tilt_multiplies_the_class_weights_into_plain_cross_entropy_only(monkeypatch, tmp_path: Path,
                                                                        pool_in_this_process) -> None:
    models, images, masks = _untrained_study(monkeypatch, tmp_path, "--losses", "cross_entropy", "weighted_ce_median",
                                             "--seeds", "0", "--tilt", "--suffix", "tilt")
    runs = json.loads((tmp_path / "loss_comparison_tilt.json").read_text())["results"]["runs"]
    assert not any(key.startswith("tilted") for key in runs["weighted_ce_median"]["0"])
    with torch.no_grad():
        probabilities = models[0].eval()(images).softmax(dim=1)  # (N, 11, H, W), plain cross-entropy's model
    for recipe, weigh in (("inverse", loss_comparison.inverse_frequency_weights),
                          ("median", loss_comparison.median_frequency_weights)):
        tilted = (probabilities * weigh(masks, 11).view(1, -1, 1, 1)).argmax(dim=1)  # argmax of w_c p_c, (N, H, W)
        by_hand = [[0] * 11 for _ in range(11)]
        for truth, guess in zip(masks.flatten().tolist(), tilted.flatten().tolist()):
            by_hand[truth][guess] += 1
        assert runs["cross_entropy"]["0"][f"tilted_{recipe}_confusion"] == by_hand
    assert runs["cross_entropy"]["0"]["tilted_inverse_confusion"] != runs["cross_entropy"]["0"]["confusion"]


def test_the_mild_weights_are_the_square_root_of_the_inverse_weights() -> None:
    inverse, sqrt = torch.tensor([0.5, 2.0, 8.0]), torch.tensor([0.5, 2.0, 8.0]).sqrt()
    logits = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    masks = torch.randint(0, 3, (2, 4, 4), generator=torch.Generator().manual_seed(1))
    weights = {"inverse": inverse, "median": inverse, "sqrt": sqrt}
    mild = loss_comparison.loss_function(loss_comparison.MILD, weights)(logits, masks)
    by_hand = torch.nn.functional.cross_entropy(logits, masks, weight=sqrt)  # torch's weighted mean
    torch.testing.assert_close(mild, by_hand)


def test_the_focal_arm_is_cross_entropy_scaled_by_one_minus_p_true_squared() -> None:
    logits = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))  # (B, K, H, W)
    masks = torch.randint(0, 3, (2, 4, 4), generator=torch.Generator().manual_seed(1))  # (B, H, W)
    focal = loss_comparison.loss_function(loss_comparison.FOCAL, {})(logits, masks)
    log_p_true = torch.log_softmax(logits, dim=1).gather(1, masks[:, None])[:, 0]  # (B, H, W)
    by_hand = (-(1 - log_p_true.exp()) ** 2 * log_p_true).mean()  # gamma 2, every pixel labelled
    torch.testing.assert_close(focal, by_hand)


def test_the_focal_record_pairs_focal_loss_with_cross_entropy_rerun_on_the_same_machine() -> None:
    record = load_experiment("loss_comparison_focal")
    assert record["seeds"] == [0, 1, 2, 3, 4, 5] and "--losses cross_entropy focal" in record["command"]
    settings = record["settings"]  # the main study's settings at 1,600 steps (other tests change the module's SETTINGS)
    assert (settings["steps"], settings["peak_lr"], settings["batch_size"], settings["threads"]) == (1600, 0.003, 16, 1)
    assert settings["model"].startswith("get_model('unet', in_channels=1, num_classes=11, base_channels=8)")
    assert "untilt" not in settings and "weighted_start" not in settings
    runs = record["results"]["runs"]
    assert set(runs) == {"cross_entropy", "focal"} and all(list(arm) == [str(s) for s in range(6)] for arm in runs.values())
    pixels = record["settings"]["test_scenes"] * 64 * 64
    for arm in runs.values():
        for run in arm.values():
            assert sum(map(sum, run["confusion"])) == pixels  # every test pixel scored once


def test_the_tilt_record_rescores_the_very_networks_lesson_15_compares() -> None:
    """`loss_comparison_tilt` retrains plain cross-entropy's six 1,600-step seeds: the same runs, bit for bit, as the
    records lesson 15 reads (seeds 0-2 in `long`, 3-5 in `longmore`), each also scored with the class weights
    multiplied in, over every test pixel."""
    record = load_experiment("loss_comparison_tilt")
    runs = record["results"]["runs"]["cross_entropy"]
    stored = {**load_experiment("loss_comparison_long")["results"]["runs"]["cross_entropy"],
              **load_experiment("loss_comparison_longmore")["results"]["runs"]["cross_entropy"]}
    assert sorted(runs, key=int) == [str(seed) for seed in range(6)]
    assert all(runs[seed]["confusion"] == stored[seed]["confusion"] for seed in runs)
    settings = {key: value for key, value in record["settings"].items() if key != "tilt"}
    assert settings == load_experiment("loss_comparison_longmore")["settings"]
    for run in runs.values():
        for recipe in ("inverse", "median"):
            assert sum(map(sum, run[f"tilted_{recipe}_confusion"])) == 200 * 64 * 64
            assert run[f"tilted_{recipe}_confusion"] != run["confusion"]  # the tilt moves some pixels
