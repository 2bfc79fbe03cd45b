"""Each lesson-17 check accepts the right answer and gives a specific hint for wrong ones."""

from __future__ import annotations

import pytest
import torch

from segedu.course.exercises.lesson17 import (
    ASPP_EXERCISE_SIDE,
    ASPP_SHARE_TOLERANCE,
    RATE6_SHARE_CHOICES,
    check_aspp_forward,
    check_aspp_rates_prediction,
    check_output_stride_macs,
    check_rate6_share_prediction,
)


def test_output_stride_macs(capsys: pytest.CaptureFixture[str]) -> None:
    unchanged = {"stem", "block1", "block2"}
    assert check_output_stride_macs(5.4, unchanged)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "5.37 times" in out and "does not grow" in out
    assert check_output_stride_macs(5.2, ["stem", "block1", "block2"], 5.371574)
    capsys.readouterr()
    assert check_output_stride_macs("5.5", "stem, block1, block2")
    capsys.readouterr()
    for ratio, hint in ((16, "both dropped strides"), (4.1, "ASPP and the classifier read block4's map"),
                        (4.9, "block3 also writes a larger map"), (7.5, "one dropped stride before its output"),
                        (10, "multiply each block's MACs")):
        assert not check_output_stride_macs(ratio, unchanged)
        assert hint in capsys.readouterr().out, ratio
    assert not check_output_stride_macs(5.4, {"stem", "block1"})
    assert "['block2'] come before the first dropped stride" in capsys.readouterr().out
    assert not check_output_stride_macs(5.4, {"stem", "block1", "block2", "block3"})
    assert "['block3'] write a larger map" in capsys.readouterr().out
    assert not check_output_stride_macs(5.4, {"head"})
    assert "are not blocks of DeepLabV3" in capsys.readouterr().out
    assert not check_output_stride_macs(5.4, ...)
    assert "record the blocks" in capsys.readouterr().out
    assert not check_output_stride_macs(..., unchanged)
    assert "record your prediction" in capsys.readouterr().out
    assert not check_output_stride_macs("many", unchanged)
    assert "record a number" in capsys.readouterr().out
    assert not check_output_stride_macs(5.4, unchanged, 4.0)  # a measurement that disagrees is reported
    assert "Did you change the models?" in capsys.readouterr().out


def test_block_mac_ratios_are_what_the_models_measure() -> None:
    from segedu.analysis.costs import macs_by_layer
    from segedu.models import DeepLabV3

    def block_macs(block: str, output_stride: int) -> int:
        model = DeepLabV3(3, 4, output_stride=output_stride)
        return sum(macs for name, _, macs in macs_by_layer(model, (1, 3, 64, 64)) if name.startswith(block + "."))

    assert block_macs("block3", 8) / block_macs("block3", 32) == 4
    assert block_macs("block4", 8) / block_macs("block4", 32) == 16


def test_rate6_share_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    assert set(RATE6_SHARE_CHOICES) == {"a", "b", "c", "d"}
    assert all(text.endswith("of 9") for text in RATE6_SHARE_CHOICES.values())  # bare shares, no reasons
    assert check_rate6_share_prediction("c")
    out = capsys.readouterr().out
    assert "0.250 = 2.25 of 9" in out and "a quarter of the taps" in out
    for letter in "abd":
        assert not check_rate6_share_prediction(letter)
        assert "-6, 0, +6" in capsys.readouterr().out
    assert not check_rate6_share_prediction("e")
    assert "must be one of" in capsys.readouterr().out
    assert not check_rate6_share_prediction(...)
    assert "record your prediction" in capsys.readouterr().out


def test_aspp_rates_prediction(capsys: pytest.CaptureFixture[str]) -> None:
    from segedu.analysis.atrous import valid_tap_fraction

    paper = [valid_tap_fraction(33, rate) for rate in (6, 12, 18)]
    assert [f"{share:.2f}" for share in paper] == ["0.77", "0.57", "0.40"]  # the shares the exercise names
    assert check_aspp_rates_prediction((3, 6, 9))  # the paper's rates scaled by 16/33 and rounded
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and "rate 3 keeps 0.77, rate 6 keeps 0.56, rate 9 keeps 0.39" in out
    assert "0.77, 0.57, 0.40" in out and "2.9, 5.8, 8.7" in out and "keep 0.25, 0.11, 0.11 here" in out
    assert "8 x 8 map the same scaling gives 1.5, 2.9, 4.4; segedu uses 2, 3, 4, which keep 0.69, 0.56, 0.44" in out
    accepted = set()  # every increasing triple of rates 1 to 16, by brute force against the checker
    for first in range(1, 17):
        for second in range(first + 1, 17):
            for third in range(second + 1, 17):
                if check_aspp_rates_prediction((first, second, third)):
                    accepted.add((first, second, third))
    capsys.readouterr()
    by_hand = {rates for rates in accepted
               if all(abs(valid_tap_fraction(ASPP_EXERCISE_SIDE, r) - t) <= ASPP_SHARE_TOLERANCE
                      for r, t in zip(rates, paper))}
    assert accepted == by_hand == {(3, 6, 8), (3, 6, 9)}
    for wrong_rates, named in (((2, 3, 4), "Rate 2 keeps 0.84"), ((6, 12, 18), "Rate 6 keeps 0.56"),
                               ((12, 24, 36), "Rate 12 keeps 0.25"), ((3, 6, 10), "Rate 10 keeps 0.34")):
        assert not check_aspp_rates_prediction(wrong_rates)
        out = capsys.readouterr().out
        assert out.startswith("Not yet:") and named in out and "Correct" not in out, out
    assert not check_aspp_rates_prediction((4, 3, 2))
    assert "increasing order" in capsys.readouterr().out
    assert not check_aspp_rates_prediction((2, 3))
    assert "three whole-number rates" in capsys.readouterr().out
    assert not check_aspp_rates_prediction(...)
    assert "record your prediction" in capsys.readouterr().out


# --- exercise 4: write the ASPP's forward pass ---------------------------------------------------------------


def _aspp_forward(aspp, x, *, relu=True, pool="mean", bias=True, project=True, image_first=False, call_whole=False,
                  call_pooling=False):
    """A learner's ASPP forward, with the slips the checker names switched on."""
    import torch.nn.functional as F

    if call_whole:
        return aspp(x)
    features = []
    for name, branch in aspp.branches.items():
        if name != "image_pooling":
            features.append(branch(x))
            continue
        if call_pooling:
            features.append(branch(x))
            continue
        pooled = x.mean(dim=(2, 3), keepdim=True) if pool == "mean" else x.amax(dim=(2, 3), keepdim=True)
        summary = branch.conv(pooled) if bias else F.conv2d(pooled, branch.conv.weight)
        summary = F.relu(summary) if relu else summary
        features.insert(0 if image_first else len(features), summary.expand(-1, -1, *x.shape[-2:]))
    joined = torch.cat(features, dim=1)
    return aspp.project(joined) if project else joined


def test_aspp_forward_right(capsys) -> None:
    assert check_aspp_forward(_aspp_forward) is True
    out = capsys.readouterr().out
    assert out.startswith("Correct! your forward gives the package's ASPP output")


def test_aspp_forward_matches_the_package_on_the_shipped_model() -> None:
    from segedu.training.shipped import pretrained

    aspp = pretrained("deeplabv3", "shapes").aspp
    x = torch.randn(2, 128, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(_aspp_forward(aspp, x), aspp(x))


@pytest.mark.parametrize(("slip", "hint"), [
    ({"relu": False}, "has no ReLU after its 1x1 convolution"),
    ({"pool": "max"}, "takes the largest value of the map"),
    ({"bias": False}, "leaves out its 1x1 convolution's bias"),
    ({"project": False}, "ends with `aspp.project`"),
    ({"image_first": True}, "in the order of `aspp.branches`"),
    ({"call_whole": True}, "the ASPP's own forward is switched off"),
    ({"call_pooling": True}, "the image-level branch's own forward is switched off"),
])
def test_aspp_forward_names_the_slip(slip, hint: str, capsys) -> None:
    assert check_aspp_forward(lambda aspp, x: _aspp_forward(aspp, x, **slip)) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet:") and hint in out, out


def test_aspp_forward_unwritten_and_wrong_shapes(capsys) -> None:
    assert not check_aspp_forward(lambda aspp, x: ...)
    assert "returns nothing" in capsys.readouterr().out
    assert not check_aspp_forward(lambda aspp, x: aspp.branches["conv1x1"](x)[..., :4, :4])
    assert "the output should be (2, 6, 6, 10)" in capsys.readouterr().out
    assert not check_aspp_forward(lambda aspp, x: aspp.branches["conv1x1"](x))  # one branch alone: right shape
    assert "differs from the package's by up to" in capsys.readouterr().out
