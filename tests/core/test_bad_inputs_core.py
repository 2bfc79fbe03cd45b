"""Bad inputs to segedu.core end in one clear message that names the value and the fix.

Each row: a call, the exception it must raise and fragments of the message. Array-likes that
have an obvious meaning are accepted instead, and checked against the tensor version.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from segedu.core import paths
from segedu.core.encoding import IGNORE_INDEX, check_labels, one_hot, to_labels

REFUSED = [
    # (id, call, exception, fragments the message must contain)
    ("one_hot ragged list", lambda: one_hot([[0, 1], [2]], 4), TypeError, ["must be a torch.Tensor", "got list"]),
    ("one_hot string", lambda: one_hot("0 1 2", 4), TypeError, ["labels must be a torch.Tensor", "got str"]),
    ("one_hot float list", lambda: one_hot([[0.0, 1.0]], 4), ValueError, ["integer tensor", "to_labels"]),
    ("one_hot 1-D list", lambda: one_hot([0, 1, 2], 4), ValueError, ["(B, H, W) or (H, W)", "got (3,)"]),
    ("one_hot num_classes 0", lambda: one_hot([[0, 1]], 0), ValueError, ["num_classes must be a positive", "got 0"]),
    ("one_hot num_classes float", lambda: one_hot([[0, 1]], 4.0), ValueError, ["num_classes", "got 4.0"]),
    ("one_hot label too big", lambda: one_hot([[0, 7]], 4), ValueError, ["[0, 4)", "7 (1 pixel)"]),
    ("check_labels None", lambda: check_labels(None, 4), TypeError, ["must be a torch.Tensor", "got NoneType"]),
    ("check_labels numpy out of range", lambda: check_labels(np.array([[5, -1]]), 4), ValueError, ["5 (1 pixel)", "-1"]),
    ("to_labels integer list", lambda: to_labels([[[0, 1]]]), ValueError, ["floating-point", "int64"]),
    ("to_labels ragged list", lambda: to_labels([[[0.5], [0.1, 0.2]]]), TypeError, ["scores must be a torch.Tensor"]),
    ("to_labels no classes", lambda: to_labels(torch.zeros(2, 0, 3, 3)), ValueError, ["K >= 1", "(2, 0, 3, 3)"]),
    (
        "to_labels NaN scores",
        lambda: to_labels(torch.tensor([[[float("nan"), 0.0]], [[1.0, 2.0]]])),
        ValueError,
        ["1 NaN value", "learning rate"],
    ),
]


@pytest.mark.parametrize(
    "call, exception, fragments", [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED]
)
def test_bad_input_is_refused_with_a_clear_message(
    call: Callable[[], object], exception: type[Exception], fragments: list[str]
) -> None:
    with pytest.raises(exception) as raised:
        call()
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message


LABELS = [[0, 2, IGNORE_INDEX], [1, 1, 0]]
ACCEPTED = [
    # (id, call with an array-like, the same call with a tensor)
    ("one_hot list", lambda: one_hot(LABELS, 3), lambda: one_hot(torch.tensor(LABELS), 3)),
    ("one_hot numpy", lambda: one_hot(np.array(LABELS), 3), lambda: one_hot(torch.tensor(LABELS), 3)),
    (
        "to_labels list",
        lambda: to_labels([[[0.1, 0.9]], [[0.8, 0.2]]]),
        lambda: torch.tensor([[[0.1, 0.9]], [[0.8, 0.2]]]).argmax(dim=0),
    ),
]


@pytest.mark.parametrize("call, reference", [row[1:] for row in ACCEPTED], ids=[row[0] for row in ACCEPTED])
def test_array_likes_give_the_tensor_result(
    call: Callable[[], torch.Tensor], reference: Callable[[], torch.Tensor]
) -> None:
    assert torch.equal(call(), reference())


def test_check_labels_treats_a_list_like_the_tensor() -> None:
    check_labels(LABELS, 3)  # no error: the list means the same as the tensor
    with pytest.raises(ValueError) as from_list:
        check_labels(LABELS, 2)  # a label 2 is out of range for 2 classes, list or tensor
    with pytest.raises(ValueError) as from_tensor:
        check_labels(torch.as_tensor(LABELS), 2)
    assert str(from_list.value) == str(from_tensor.value)


def test_data_dir_variable_pointing_at_a_file_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv(paths.DATA_DIR_VARIABLE, str(a_file))
    for folder in (paths.data_dir(), paths.data_dir() / "digits"):
        with pytest.raises(PermissionError) as raised:
            paths.ensure_writable(folder)
        message = str(raised.value)
        assert f"{a_file} is a file" in message
        assert f"SEGEDU_DATA_DIR={a_file} points at that file" in message
        assert f"set SEGEDU_DATA_DIR to a folder such as {tmp_path / 'segedu-data'}" in message
        assert "chmod" not in message  # no permission change can turn a file into a folder
        assert "\n" not in message
    assert a_file.read_text() == "not a folder"  # the file is left alone


def test_file_in_the_way_without_the_variable_does_not_blame_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(paths.DATA_DIR_VARIABLE, raising=False)
    blocker = tmp_path / "cache"
    blocker.write_text("")
    with pytest.raises(PermissionError) as raised:
        paths.ensure_writable(blocker / "digits" / "deeper")
    message = str(raised.value)
    assert f"cannot be created: {blocker} is a file" in message
    assert "points at" not in message and "chmod" not in message
