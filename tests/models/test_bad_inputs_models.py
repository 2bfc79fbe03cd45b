"""Bad inputs to the models and the registry end in one clear message, never a traceback from torch.

Each row: a call, the exception it must raise and fragments of the message that name the bad
value and the fix. Input checks run on every registered model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from segedu.models import get_model, list_models
from segedu.models.contract import check_input, check_model_arguments

# Small widths keep every model to milliseconds on a CPU.
SMALL = {
    "tiny_classifier": dict(base_channels=4, image_size=32, hidden_features=8),
    "full_resolution": dict(width=4, depth=2),
    "fcn32s": dict(base_channels=4, fc_channels=8),
    "fcn16s": dict(base_channels=4, fc_channels=8),
    "fcn8s": dict(base_channels=4, fc_channels=8),
    "segnet": dict(base_channels=4),
    "unet": dict(base_channels=4),
    "deeplabv3": dict(base_channels=4),
    "shortcut_net": dict(base_channels=4),
}
SIZE = 32  # accepted by every model above


def build(name: str) -> torch.nn.Module:
    return get_model(name, in_channels=3, num_classes=2, **SMALL[name]).eval()


def test_every_registered_model_is_covered() -> None:
    assert sorted(SMALL) == sorted(list_models())


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_other_float_dtypes_are_refused_with_the_fix(name: str, dtype: torch.dtype) -> None:
    model = build(name)
    x = torch.rand(2, 3, SIZE, SIZE)
    with pytest.raises(ValueError) as raised:
        model(x.to(dtype))
    message = str(raised.value)
    assert f"got dtype {dtype}" in message and "torch.float32 weights" in message
    assert "x.float()" in message
    with torch.no_grad():
        assert torch.isfinite(model(x.to(dtype).float())).all()  # the suggested fix works


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("bad_value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_inputs_are_refused_with_a_count(name: str, bad_value: float) -> None:
    x = torch.rand(1, 3, SIZE, SIZE)
    x[0, 1, 3, :5] = bad_value
    with pytest.raises(ValueError) as raised:
        build(name)(x)
    expected = "5 NaN and 0 infinite" if bad_value != bad_value else "0 NaN and 5 infinite"
    assert expected in str(raised.value) and "torch.nan_to_num" in str(raised.value)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize(
    "x, exception, fragments",
    [
        (np.zeros((1, 3, SIZE, SIZE), dtype=np.float32), TypeError, ["torch.Tensor", "ndarray", "torch.as_tensor"]),
        ([[0.0]], TypeError, ["torch.Tensor", "list"]),
        (torch.rand(3, SIZE, SIZE), ValueError, ["(B, 3, H, W)", "unsqueeze(0)"]),
        (torch.rand(1, 1, 3, SIZE, SIZE), ValueError, ["(B, 3, H, W)", "got (1, 1, 3, 32, 32)"]),
        (torch.rand(1, 4, SIZE, SIZE), ValueError, ["in_channels=3", "got (1, 4, 32, 32)"]),
        (torch.rand(1, 3, 0, 0), ValueError, ["H and W >=", "got 0x0"]),
        (torch.zeros(1, 3, SIZE, SIZE, dtype=torch.bool), ValueError, ["dtype torch.bool", "x.float()"]),
        (torch.zeros(1, 3, SIZE, SIZE, dtype=torch.uint8), ValueError, ["dtype torch.uint8", "x.float() / 255"]),
    ],
    ids=["numpy", "list", "unbatched", "rank 5", "4 channels", "0x0", "bool", "uint8"],
)
def test_wrong_inputs_are_refused_before_any_layer_runs(
    name: str, x: object, exception: type[Exception], fragments: list[str]
) -> None:
    with pytest.raises(exception) as raised:
        build(name)(x)
    for fragment in fragments:
        assert fragment in str(raised.value)


REFUSED = [
    # (id, call, exception, fragments the message must contain)
    ("num_classes 0", lambda: get_model("unet", in_channels=3, num_classes=0), ValueError,
     ["num_classes must be an int >= 1", "got 0"]),
    ("num_classes float", lambda: get_model("segnet", in_channels=3, num_classes=2.5), ValueError,
     ["num_classes must be an int >= 1", "got 2.5"]),
    ("num_classes bool", lambda: get_model("fcn8s", in_channels=3, num_classes=True), ValueError,
     ["num_classes", "got True"]),
    ("num_classes tensor", lambda: get_model("unet", in_channels=3, num_classes=torch.tensor(4)), ValueError,
     ["num_classes", "tensor(4)"]),
    ("in_channels 4", lambda: get_model("unet", in_channels=4, num_classes=2), ValueError,
     ["in_channels must be 1", "or 3", "got 4", "dataset.channels"]),
    ("in_channels 0", lambda: get_model("full_resolution", in_channels=0, num_classes=2), ValueError,
     ["in_channels", "got 0"]),
    ("base_channels 0", lambda: get_model("unet", in_channels=3, num_classes=2, base_channels=0), ValueError,
     ["base_channels must be an int >= 1", "got 0"]),
    ("depth 0", lambda: get_model("full_resolution", in_channels=1, num_classes=2, depth=0), ValueError,
     ["depth must be an int >= 1", "got 0"]),
    ("width float", lambda: get_model("full_resolution", in_channels=1, num_classes=2, width=8.0), ValueError,
     ["width must be an int >= 1", "got 8.0"]),
    ("classifier num_classes 0", lambda: get_model("tiny_classifier", num_classes=0), ValueError,
     ["TinyClassifier", "num_classes", "got 0"]),
    ("missing arguments", lambda: get_model("unet"), ValueError,
     ["needs in_channels and num_classes", "get_model('unet', in_channels=3, num_classes=4)"]),
    ("missing num_classes", lambda: get_model("segnet", in_channels=1), ValueError,
     ["needs num_classes", "num_classes=4"]),
    ("name capitalised", lambda: get_model("UNet"), ValueError, ["unknown model 'UNet'", "did you mean 'unet'?"]),
    ("name with dash", lambda: get_model("fcn-8s"), ValueError, ["did you mean 'fcn8s'?", "valid names"]),
    ("name not a string", lambda: get_model(["unet"]), TypeError, ["model name (str)", "got list"]),
    ("unexpected argument", lambda: get_model("unet", in_channels=3, num_classes=2, channels=3), ValueError,
     ["unexpected argument(s) ['channels']", "'in_channels'"]),
    ("validator directly", lambda: check_model_arguments("SegNet", in_channels=3, num_classes=2, depth=-1),
     ValueError, ["SegNet: depth must be an int >= 1", "got -1"]),
]


@pytest.mark.parametrize(
    "call, exception, fragments", [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED]
)
def test_bad_construction_is_refused_with_a_clear_message(
    call: Callable[[], object], exception: type[Exception], fragments: list[str]
) -> None:
    with pytest.raises(exception) as raised:
        call()
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_validator_accepts_numpy_integers_and_valid_models_still_build() -> None:
    check_model_arguments("UNet", in_channels=np.int64(1), num_classes=np.int32(3), base_channels=np.int64(4))
    model = get_model("segnet", in_channels=1, num_classes=np.int64(3), base_channels=4, depth=2).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 1, 20, 24)).shape == (2, 3, 20, 24)


@pytest.mark.parametrize("name", list_models())
def test_a_converted_model_wants_inputs_of_its_own_dtype(name: str) -> None:
    model = build(name).double()
    x = torch.rand(1, 3, SIZE, SIZE, dtype=torch.float64)
    with torch.no_grad():
        assert model(x).dtype == torch.float64  # float64 weights: float64 input is right
    with pytest.raises(ValueError, match=r"torch.float64 weights.*got dtype torch.float32.*x.to\(torch.float64\)"):
        model(x.float())


def test_explicit_weight_dtype_wins_over_the_caller() -> None:
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    check_input(x, in_channels=1, min_size=8, model_name="Net", weight_dtype=torch.float64)  # no error
    with pytest.raises(ValueError, match="Net has torch.float32 weights"):
        check_input(x, in_channels=1, min_size=8, model_name="Net")  # no model calls it: float32


@pytest.mark.parametrize("name", list_models())
def test_shape_tracing_on_meta_tensors_still_works(name: str) -> None:
    model = get_model(name, in_channels=3, num_classes=2, **SMALL[name]).to("meta").eval()
    logits = model(torch.empty(2, 3, SIZE, SIZE, device="meta"))
    assert logits.shape[:2] == (2, 2) and logits.is_meta
