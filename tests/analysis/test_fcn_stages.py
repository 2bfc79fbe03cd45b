"""FCN's decoder stages, skip switches and re-tune, checked against the decoder and the loop written out by hand."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from segedu.analysis.fcn_stages import (
    SKIP_BRANCHES,
    detached_until,
    fcn_score_maps,
    retune_without_branch,
    skip_branches_off,
)
from segedu.datasets import ShapesScenes
from segedu.models import FCN


@pytest.mark.parametrize("variant", ["32s", "16s", "8s"])
def test_score_maps_end_in_the_models_output(variant: str, small_fcn: Callable[..., FCN]) -> None:
    model = small_fcn(variant)
    images = torch.rand(2, 3, 40, 50)  # padded to 64 x 64 inside
    maps = fcn_score_maps(model, images)
    expected = {"32s": ["conv7", "final"], "16s": ["conv7", "fused_pool4", "final"],
                "8s": ["conv7", "fused_pool4", "fused_pool3", "final"]}[variant]
    assert list(maps) == expected
    strides = {"conv7": 32, "fused_pool4": 16, "fused_pool3": 8}
    for name, stride in strides.items():
        if name in maps:
            assert maps[name].shape == (2, 4, 64 // stride, 64 // stride)
    torch.testing.assert_close(maps["final"], model(images))


def test_fused_maps_are_the_sums_written_in_the_paper(small_fcn: Callable[..., FCN]) -> None:
    # Reference: FCN-8s's decoder by hand, from the encoder's pool3 and pool4 (64 x 64: no padding).
    model = small_fcn("8s")
    images = torch.rand(2, 3, 64, 64)
    maps = fcn_score_maps(model, images)
    with torch.no_grad():
        pool3 = model.stage3(model.stage2(model.stage1(images)))  # (B, 4c, 8, 8)
        pool4 = model.stage4(pool3)  # (B, 8c, 4, 4)
        conv7 = model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))  # (B, K, 2, 2)
        fused_pool4 = model.upscore2(conv7) + model.score_pool4(pool4)  # (B, K, 4, 4)
        fused_pool3 = model.upscore_pool4(fused_pool4) + model.score_pool3(pool3)  # (B, K, 8, 8)
    torch.testing.assert_close(maps["conv7"], conv7)
    torch.testing.assert_close(maps["fused_pool4"], fused_pool4)
    torch.testing.assert_close(maps["fused_pool3"], fused_pool3)
    torch.testing.assert_close(maps["final"], model.upscore8(fused_pool3))


def test_score_maps_refuse_other_models() -> None:
    with pytest.raises(TypeError, match="expects a segedu.models.FCN"):
        fcn_score_maps(torch.nn.Identity(), torch.zeros(1, 3, 32, 32))


def test_switching_a_skip_branch_off_zeroes_its_scores(small_fcn: Callable[..., FCN]) -> None:
    # Reference: FCN-8s's decoder by hand with score_pool3's output replaced by zeros.
    model = small_fcn("8s")
    images = torch.rand(2, 3, 64, 64)
    maps = fcn_score_maps(model, images, off=("pool3",))
    with torch.no_grad():
        pool3 = model.stage3(model.stage2(model.stage1(images)))
        pool4 = model.stage4(pool3)
        conv7 = model.score_fr(model.fc7(model.fc6(model.stage5(pool4))))
        fused_pool4 = model.upscore2(conv7) + model.score_pool4(pool4)
        fused_pool3 = model.upscore_pool4(fused_pool4)  # + zeros
    torch.testing.assert_close(maps["fused_pool3"], fused_pool3)
    torch.testing.assert_close(maps["final"], model.upscore8(fused_pool3))
    with torch.no_grad():  # the hooks are gone afterwards
        torch.testing.assert_close(fcn_score_maps(model, images)["final"], model(images))
    with skip_branches_off(model, ["pool4", "pool3"]), torch.no_grad():
        both_off = model(images)
    with torch.no_grad():
        torch.testing.assert_close(both_off, model.upscore8(model.upscore_pool4(model.upscore2(conv7))))


def test_skip_branches_off_refuses_missing_branches(small_fcn: Callable[..., FCN]) -> None:
    with pytest.raises(ValueError, match="has no pool3 branch"):
        with skip_branches_off(small_fcn("16s"), ["pool3"]):
            pass
    with pytest.raises(ValueError, match="unknown skip branch"):
        with skip_branches_off(small_fcn("8s"), ["pool5"]):
            pass


def _hand_written_retune(model: FCN, branch: str | None, scenes: list[tuple[torch.Tensor, torch.Tensor]], *,
                         steps: int, batch_size: int, lr: float, seed: int) -> tuple[FCN, list[float]]:
    # Reference: the re-tune written out with torch alone (Adam over every parameter: the held score layer gets no
    # gradient, so Adam skips it), F.cross_entropy, the cosine rate set by hand.
    import copy
    import math

    model = copy.deepcopy(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.randperm(len(scenes), generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    model.train()
    losses = []
    with skip_branches_off(model, [] if branch is None else [branch]):
        for step in range(steps):
            picked = order[step * batch_size:(step + 1) * batch_size]
            images = torch.stack([scenes[int(index)][0] for index in picked])
            masks = torch.stack([scenes[int(index)][1] for index in picked])
            for group in optimizer.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(images), masks)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return model.eval(), losses


@pytest.mark.parametrize("branch", ["pool3", "pool4", None])
def test_retune_without_branch_equals_the_loop_written_out(branch: str | None, small_fcn: Callable[..., FCN]) -> None:
    model = small_fcn("8s")
    scenes = [ShapesScenes("train", length=12, size=64)[index] for index in range(12)]
    settings = {"steps": 3, "batch_size": 4, "lr": 1e-2, "seed": 1}
    retuned, losses = retune_without_branch(model, branch, scenes, **settings)
    reference, reference_losses = _hand_written_retune(model, branch, scenes, **settings)
    assert losses == pytest.approx(reference_losses, rel=1e-6, abs=1e-7)  # step for step
    for (name, value), expected in zip(retuned.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(value, expected, msg=name)
    assert not retuned.training and model.score_pool3.weight.abs().sum() > 0  # returned in eval mode
    for name, parameter in retuned.named_parameters():
        layer = name.split(".")[0]
        unchanged = torch.equal(parameter, dict(model.named_parameters())[name])
        if branch is not None and layer == SKIP_BRANCHES[branch]:
            assert unchanged, f"{name} belongs to the held branch and must keep its trained weights"
        elif layer in ("score_fr", "score_pool4", "score_pool3", "fc7"):
            assert not unchanged, f"{name} should have trained"


def test_retune_without_branch_leaves_the_model_alone_and_refuses_bad_input(small_fcn: Callable[..., FCN]) -> None:
    model = small_fcn("8s")
    before = {name: value.clone() for name, value in model.state_dict().items()}
    scenes = [ShapesScenes("train", length=4, size=64)[index] for index in range(4)]
    retune_without_branch(model, "pool3", scenes, steps=1, batch_size=4, lr=1e-2, seed=0)
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())
    with pytest.raises(ValueError, match="need 8 scenes; got 4"):
        retune_without_branch(model, "pool3", scenes, steps=2, batch_size=4, lr=1e-2, seed=0)
    with pytest.raises(ValueError, match="has no pool3 branch"):
        retune_without_branch(small_fcn("16s"), "pool3", scenes, steps=1, batch_size=4, lr=1e-2, seed=0)
    with pytest.raises(TypeError, match="expects a segedu.models.FCN"):
        retune_without_branch(torch.nn.Identity(), None, scenes, steps=1, batch_size=4, lr=1e-2, seed=0)


def test_a_detached_branch_gets_no_update_and_no_adam_state_until_it_joins() -> None:
    torch.manual_seed(0)
    trunk, branch = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    torch.nn.init.zeros_(branch.weight), torch.nn.init.zeros_(branch.bias)
    optimizer = torch.optim.Adam([*trunk.parameters(), *branch.parameters()], lr=0.1)
    handle = detached_until(branch, training_calls=2)
    inputs, targets = torch.randn(8, 3), torch.randn(8, 2)
    for step in range(1, 4):
        branch.eval()
        branch(inputs)  # an evaluation call in between: it does not count
        branch.train()
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(trunk(inputs) + branch(inputs), targets).backward()
        optimizer.step()
        joined = step > 2
        assert (branch.weight.abs().sum() > 0) == joined  # zero, untouched, until the third training call
        assert (branch.weight in optimizer.state) == joined  # Adam's state for it starts at the join
        assert trunk.weight in optimizer.state  # the trunk's carries on from the first step
    assert optimizer.state[branch.weight]["step"] == 1 and optimizer.state[trunk.weight]["step"] == 3
    handle.remove()
    with pytest.raises(ValueError, match="got -1"):
        detached_until(branch, training_calls=-1)
