"""The time-budgeted recipe: schedule shape, budget, bfloat16 fallback, scene pool, command line.

No test here measures speed: a fake clock drives the budget, so the tests are exact on any machine.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

import segedu.training.quick as quick
from segedu.course.cli import main
from segedu.models import UNet
from segedu.training.checkpoints import load_checkpoint
from segedu.training.quick import QuickRecipe, one_cycle_lr, render_pool, train_within


class FakeClock:
    """``time.perf_counter`` that advances ``tick`` seconds at every call."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def _scenes(count: int = 8) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(count, 3, 16, 16, generator=generator)
    masks = torch.randint(0, 4, (count, 16, 16), generator=generator)
    return TensorDataset(images, masks)


def test_one_cycle_warms_up_then_decays_to_zero() -> None:
    rates = [one_cycle_lr(step / 100, peak_lr=1.0, warmup_fraction=0.1) for step in range(101)]
    assert rates[0] == pytest.approx(0.04)
    assert rates[10] == pytest.approx(1.0)  # the peak, at the end of the warm-up
    assert all(a < b for a, b in zip(rates[:10], rates[1:11]))  # rising during the warm-up
    assert all(a > b for a, b in zip(rates[10:100], rates[11:]))  # falling afterwards
    assert rates[100] == pytest.approx(0.0, abs=1e-12)
    middle = 0.1 + 0.9 / 2  # halfway through the decay: half the peak, as half a cosine gives
    assert one_cycle_lr(middle, peak_lr=1.0, warmup_fraction=0.1) == pytest.approx(0.5)
    assert one_cycle_lr(1.7, peak_lr=1.0) == one_cycle_lr(1.0, peak_lr=1.0)  # clamped past the end


def test_the_budget_ends_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(tick=1.0)  # one call per step (plus the start): one second per step
    monkeypatch.setattr(quick, "perf_counter", clock)
    model = UNet(3, 4, base_channels=2)
    run = train_within(model, _scenes(), 10, recipe=QuickRecipe(batch_size=2, pool_size=8, bfloat16="off"),
                       progress=False)
    assert run.steps == 9  # elapsed 1 at the first step, then 2 ... 9; at 10 the budget is spent
    assert 10 <= run.seconds <= 11


def test_learning_rate_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quick, "perf_counter", FakeClock(tick=1.0))
    seen: list[float] = []
    original_step = torch.optim.AdamW.step

    def record_lr(self: torch.optim.AdamW, *arguments: object, **options: object) -> object:
        seen.append(self.param_groups[0]["lr"])
        return original_step(self, *arguments, **options)

    monkeypatch.setattr(torch.optim.AdamW, "step", record_lr)
    recipe = QuickRecipe(batch_size=2, pool_size=8, peak_lr=0.01, warmup_fraction=0.2, bfloat16="off")
    train_within(UNet(3, 4, base_channels=2), _scenes(), 10, recipe=recipe, progress=False)
    expected = [one_cycle_lr(elapsed / 10, peak_lr=0.01, warmup_fraction=0.2) for elapsed in range(1, 10)]
    assert seen == pytest.approx(expected)


def test_training_lowers_the_loss_on_a_fixed_pool() -> None:
    torch.manual_seed(0)
    model = UNet(3, 4, base_channels=4)
    scenes = _scenes(4)
    images, masks = render_pool(scenes, 4)

    def loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(model(images), masks))

    before = loss()
    run = train_within(model, scenes, 2.0, recipe=QuickRecipe(batch_size=4, pool_size=4, peak_lr=1e-2), seed=0,
                       progress=False)
    assert run.steps >= 1
    assert loss() < before


@pytest.mark.parametrize("setting, available, expected", [
    ("auto", True, True), ("auto", False, False), ("off", True, False), ("on", False, True),
])
def test_bfloat16_setting_and_fallback(monkeypatch, setting, available, expected) -> None:
    monkeypatch.setattr(quick, "bfloat16_available", lambda: available)
    monkeypatch.setattr(quick, "perf_counter", FakeClock(tick=1.0))
    used: list[bool] = []
    original = quick._autocast
    monkeypatch.setattr(quick, "_autocast", lambda enabled: used.append(enabled) or original(enabled))
    run = train_within(UNet(3, 4, base_channels=2), _scenes(), 3,
                       recipe=QuickRecipe(batch_size=2, pool_size=8, bfloat16=setting), progress=False)
    assert run.bfloat16 is expected
    assert used and set(used) == {expected}


def test_bfloat16_available_answers_a_bool() -> None:
    assert isinstance(quick.bfloat16_available(), bool)


def test_bad_settings_are_refused() -> None:
    model, scenes = UNet(3, 4, base_channels=2), _scenes()
    with pytest.raises(ValueError, match="bfloat16 must be 'auto', 'on' or 'off'; got 'yes'"):
        train_within(model, scenes, 1, recipe=QuickRecipe(pool_size=8, bfloat16="yes"), progress=False)
    with pytest.raises(ValueError, match="seconds must be a positive number; got 0"):
        train_within(model, scenes, 0, progress=False)
    with pytest.raises(ValueError, match="fewer than pool_size=12000; lower pool_size"):
        train_within(model, scenes, 1, progress=False)
    with pytest.raises(ValueError, match="pool_size must be a positive int; got 0"):
        render_pool(scenes, 0)


def test_render_pool_keeps_the_scenes_in_order() -> None:
    scenes = _scenes(5)
    images, masks = render_pool(scenes, 3)
    assert images.dtype == torch.float32 and masks.dtype == torch.int64
    for index in range(3):
        assert torch.equal(images[index], scenes[index][0]) and torch.equal(masks[index], scenes[index][1])


def test_minutes_on_the_command_line(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setattr(quick, "perf_counter", FakeClock(tick=20.0))  # 3 steps in a minute
    monkeypatch.setattr(quick, "QuickRecipe", lambda: QuickRecipe(batch_size=2, pool_size=4, bfloat16="off"))
    output = tmp_path / "mine.pt"
    assert main(["train", "unet", "shapes", "--minutes", "1", "--output", str(output), "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[: printed.rindex("}") + 1])
    assert summary["steps"] == 2 and summary["command"].startswith("segedu train unet shapes --minutes 1 ")
    assert 0.0 <= summary["test_mean_iou"] <= 1.0 and not math.isnan(summary["test_mean_iou"])
    assert f"test mean IoU after {summary['train_seconds']:.0f} s" in printed
    checkpoint = load_checkpoint(output, expected_sha256=summary["sha256"])
    assert checkpoint["metadata"]["minutes"] == 1.0


@pytest.mark.parametrize("arguments, message", [
    (["--minutes", "0"], "--minutes: must be a positive number; got 0"),
    (["--minutes", "three"], "--minutes: must be a number; got 'three'"),
    (["--minutes", "3", "--ship", "--force"], "cannot be combined with --ship"),
    (["--minutes", "3", "--steps", "10"], "cannot be combined with --ship, --steps, --device or --prior-bias"),
])
def test_bad_minutes_exit_2_with_one_line(arguments, message, capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["train", "unet", "digits", *arguments])
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_observations_come_on_schedule_in_eval_mode_and_off_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(tick=1.0)
    monkeypatch.setattr(quick, "perf_counter", clock)
    seen: list[tuple[float, int, bool]] = []

    def observe(elapsed: float, steps: int, model: torch.nn.Module) -> None:
        seen.append((elapsed, steps, model.training))
        clock.now += 100.0  # a slow validation: must not eat the training budget

    model = UNet(3, 4, base_channels=2)
    run = train_within(model, _scenes(), 20, recipe=QuickRecipe(batch_size=2, pool_size=8, bfloat16="off"),
                       progress=False, observe=observe, observe_every=5)
    assert [training for _, _, training in seen] == [False] * len(seen)
    assert model.training  # back in train mode afterwards
    assert len(seen) == 3  # at 5, 10 and 15 seconds of training (20 ends the run)
    times = [elapsed for elapsed, _, _ in seen]
    assert all(5 * (index + 1) <= time < 5 * (index + 1) + 3 for index, time in enumerate(times))
    assert run.seconds < 25  # the 300 s spent observing are not training time
    assert run.steps >= 14


def test_observe_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="observe_every"):
        train_within(UNet(3, 4, base_channels=2), _scenes(), 1, observe=print, observe_every=0)


def test_an_unknown_loss_is_refused_before_training() -> None:
    with pytest.raises(ValueError, match="loss must be one of .*'dice'"):
        train_within(UNet(3, 4, base_channels=2), _scenes(), 1, recipe=QuickRecipe(loss="dice", pool_size=8))


def test_the_dice_term_changes_the_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    weights = []
    for loss in ("cross_entropy", "cross_entropy+dice"):
        monkeypatch.setattr(quick, "perf_counter", FakeClock(tick=1.0))
        torch.manual_seed(0)
        model = UNet(3, 4, base_channels=2)
        train_within(model, _scenes(), 4, recipe=QuickRecipe(batch_size=2, pool_size=8, bfloat16="off", loss=loss),
                     progress=False)
        weights.append(model.outc.weight.detach().clone())
    assert not torch.allclose(weights[0], weights[1])


def test_the_first_answer_is_the_class_frequencies() -> None:
    from segedu.training.quick import start_at_class_frequencies

    model = UNet(3, 4, base_channels=2)
    masks = torch.zeros(2, 16, 16, dtype=torch.int64)
    masks[:, :4] = 1  # class 1 on a quarter of the pixels, class 2 on an eighth, class 3 absent
    masks[:, 4:6] = 2
    masks[0, 0, 0] = 255  # ignored
    assert start_at_class_frequencies(model, masks)
    counts = torch.bincount(masks[masks != 255], minlength=4).double()
    expected = (counts / counts.sum()).clamp_min(1e-4)
    for name, parameter in model.named_parameters():  # silence everything but the bias under test
        if name != "outc.bias":
            parameter.data.zero_()
    probabilities = model.eval()(torch.rand(1, 3, 16, 16)).softmax(dim=1)[0, :, 5, 5]
    assert torch.allclose(probabilities.double(), expected / expected.sum(), atol=1e-6)


def test_class_frequencies_leave_a_model_without_a_fitting_layer_alone() -> None:
    from segedu.training.quick import start_at_class_frequencies

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1, bias=False))
    assert not start_at_class_frequencies(model, torch.zeros(1, 4, 4, dtype=torch.int64))
    labels_too_large = torch.full((1, 4, 4), 7)
    assert not start_at_class_frequencies(UNet(3, 4, base_channels=2), labels_too_large)


def test_train_on_pool_is_the_written_out_loop() -> None:
    from segedu.training.losses import pixel_cross_entropy
    from segedu.training.quick import one_cycle_lr, train_on_pool

    generator = torch.Generator().manual_seed(0)
    images = torch.randn(6, 1, 8, 8, generator=generator)  # (N, C, H, W)
    masks = torch.randint(0, 3, (6, 8, 8), generator=generator)  # (N, H, W)

    def fresh() -> torch.nn.Module:
        torch.manual_seed(0)
        return torch.nn.Conv2d(1, 3, 3, padding=1)

    by_helper = fresh()
    curve = train_on_pool(by_helper, images, masks, pixel_cross_entropy, steps=4, batch_size=2, peak_lr=0.01,
                          warmup_fraction=0.25, seed=3, curve_every=2)
    by_hand = fresh()
    optimizer = torch.optim.AdamW(by_hand.parameters(), lr=0.01, weight_decay=0.0)
    sampler = torch.Generator().manual_seed(3)
    losses = []
    for step in range(4):
        for group in optimizer.param_groups:
            group["lr"] = one_cycle_lr(step / 4, peak_lr=0.01, warmup_fraction=0.25)
        batch = torch.randint(0, 6, (2,), generator=sampler)
        optimizer.zero_grad()
        loss = pixel_cross_entropy(by_hand(images[batch]), masks[batch])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert torch.equal(by_helper.weight, by_hand.weight) and torch.equal(by_helper.bias, by_hand.bias)
    assert [step for step, _ in curve] == [2, 4]
    assert curve[1][1] == round((losses[2] + losses[3]) / 2, 5)


def test_train_on_pool_with_all_ones_pixel_weights_matches_the_unweighted_run() -> None:
    from segedu.training.losses import pixel_cross_entropy, pixel_weighted_cross_entropy
    from segedu.training.quick import train_on_pool

    generator = torch.Generator().manual_seed(1)
    images = torch.randn(6, 1, 8, 8, generator=generator)  # (N, C, H, W)
    masks = torch.randint(0, 3, (6, 8, 8), generator=generator)  # (N, H, W)
    models = []
    curves = []
    for weights in (None, torch.ones(6, 8, 8)):
        torch.manual_seed(0)
        model = torch.nn.Conv2d(1, 3, 3, padding=1)
        loss = pixel_cross_entropy if weights is None else pixel_weighted_cross_entropy
        curves.append(train_on_pool(model, images, masks, loss, steps=4, batch_size=2, peak_lr=0.01,
                                    warmup_fraction=0.25, seed=3, curve_every=2, pixel_weights=weights))
        models.append(model)
    assert torch.allclose(models[0].weight, models[1].weight, atol=1e-6)
    assert torch.allclose(models[0].bias, models[1].bias, atol=1e-6)
    assert [step for step, _ in curves[0]] == [step for step, _ in curves[1]] == [2, 4]
    assert all(abs(a[1] - b[1]) <= 1e-5 for a, b in zip(curves[0], curves[1]))


def test_train_on_pool_hands_each_batch_its_own_pixel_weights() -> None:
    from segedu.training.losses import pixel_weighted_cross_entropy
    from segedu.training.quick import train_on_pool

    generator = torch.Generator().manual_seed(2)
    images = torch.randn(5, 1, 4, 4, generator=generator)  # (N, C, H, W)
    masks = torch.randint(0, 2, (5, 4, 4), generator=generator)  # (N, H, W)
    weights = torch.arange(5.0)[:, None, None].expand(5, 4, 4).clone()  # scene n has weight n everywhere
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def recording_loss(logits: torch.Tensor, batch_masks: torch.Tensor,
                       batch_weights: torch.Tensor) -> torch.Tensor:
        seen.append((batch_masks.clone(), batch_weights.clone()))
        return pixel_weighted_cross_entropy(logits, batch_masks, batch_weights + 1.0)

    torch.manual_seed(0)
    train_on_pool(torch.nn.Conv2d(1, 2, 1), images, masks, recording_loss, steps=3, batch_size=2, peak_lr=0.01,
                  warmup_fraction=0.25, seed=5, curve_every=1, pixel_weights=weights)
    sampler = torch.Generator().manual_seed(5)
    for batch_masks, batch_weights in seen:
        batch = torch.randint(0, 5, (2,), generator=sampler)
        assert torch.equal(batch_masks, masks[batch]) and torch.equal(batch_weights, weights[batch])


@pytest.mark.parametrize("weights", [torch.ones(6, 8), torch.ones(5, 8, 8), [[1.0]]])
def test_train_on_pool_rejects_pixel_weights_of_the_wrong_shape(weights) -> None:
    from segedu.training.losses import pixel_weighted_cross_entropy
    from segedu.training.quick import train_on_pool

    images, masks = torch.zeros(6, 1, 8, 8), torch.zeros(6, 8, 8, dtype=torch.int64)
    with pytest.raises(ValueError, match="pixel_weights must be a tensor shaped like masks"):
        train_on_pool(torch.nn.Conv2d(1, 2, 1), images, masks, pixel_weighted_cross_entropy, steps=1, batch_size=2,
                      peak_lr=0.01, warmup_fraction=0.25, seed=0, curve_every=1, pixel_weights=weights)


def test_score_on_pool_counts_every_pixel_and_the_band_by_brute_force() -> None:
    from segedu.training.metrics import boundary_band
    from segedu.training.quick import score_on_pool

    torch.manual_seed(0)
    model = torch.nn.Conv2d(1, 3, kernel_size=3, padding=1)
    images = torch.rand(7, 1, 9, 9)
    masks = torch.randint(0, 3, (7, 9, 9))
    scores = score_on_pool(model, images, masks, 3, band_width=1, chunk=3)  # chunks of 3, 3 and 1 scenes
    predictions = model(images).argmax(dim=1)
    band = boundary_band(masks, 1)
    expected = [[0] * 3 for _ in range(3)]
    expected_band = [[0] * 3 for _ in range(3)]
    for truth, guess, in_band in zip(masks.flatten().tolist(), predictions.flatten().tolist(), band.flatten().tolist()):
        expected[truth][guess] += 1
        expected_band[truth][guess] += int(in_band)
    assert scores == {"confusion": expected, "band_confusion": expected_band}
    assert 0 < sum(map(sum, expected_band)) < masks.numel()  # the band is a real subset here


def test_with_class_weights_the_first_answer_minimises_the_weighted_cross_entropy() -> None:
    from segedu.training.losses import pixel_cross_entropy
    from segedu.training.quick import start_at_class_frequencies

    masks = torch.zeros(2, 16, 16, dtype=torch.int64)
    masks[:, :4] = 1
    masks[:, 4:6] = 2
    masks[:, 6] = 3
    weights = torch.tensor([0.5, 1.0, 3.0, 8.0])
    model = torch.nn.Conv2d(3, 4, kernel_size=1)
    assert start_at_class_frequencies(model, masks, class_weights=weights)
    model.weight.data.zero_()
    logits = model(torch.rand(2, 3, 16, 16))  # (2, 4, 16, 16): the bias at every pixel

    def weighted_loss(bias: torch.Tensor) -> torch.Tensor:
        return pixel_cross_entropy(bias.view(1, 4, 1, 1).expand(2, 4, 16, 16), masks, class_weights=weights)

    start = model.bias.detach().clone()
    for nudge in torch.eye(4) * 0.05:  # no direction away from the start lowers the weighted loss
        assert weighted_loss(start + nudge) > weighted_loss(start) and weighted_loss(start - nudge) > weighted_loss(start)
    assert torch.allclose(pixel_cross_entropy(logits, masks, class_weights=weights), weighted_loss(start))
    with pytest.raises(ValueError, match="4 positive numbers"):
        start_at_class_frequencies(model, masks, class_weights=torch.tensor([1.0, 0.0, 1.0, 1.0]))
