"""Nothing a learner types can destroy work: bad or edge inputs to the training layer and the CLI.

One table of rows, each a call and what it must give: an exception of the right type whose
message names the bad value and the fix (and which is raised by segedu, not from deep inside
torch), or the correct result. Then the two data-loss cases end to end, on a temporary copy of
the shipped checkpoints: ``segedu train`` leaves the shipped files alone, and an unwritable
output fails at once, before any training.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

import segedu.training.checkpoints as checkpoints
import segedu.training.recipes as recipes
import segedu.training.shipped as shipped
from segedu.core.encoding import IGNORE_INDEX
from segedu.course.cli import main
from segedu.training.checkpoints import check_output_path, file_sha256, load_checkpoint, save_checkpoint
from segedu.training.evaluation import evaluate, predict
from segedu.training.loop import fit
from segedu.training.losses import pixel_cross_entropy
from segedu.training.metrics import ConfusionMeter, confusion_matrix
from segedu.training.recipes import Recipe, train_recipe

NUM_CLASSES = 4


@pytest.fixture(autouse=True)
def _sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private data folder, a private working folder (runs/ lands there) and a copy of the checkpoints."""
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(tmp_path / "data"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    copy = tmp_path / "checkpoints"
    shutil.copytree(shipped.CHECKPOINT_DIR, copy)
    monkeypatch.setattr(shipped, "CHECKPOINT_DIR", copy)
    threads = torch.get_num_threads()
    with torch.random.fork_rng():
        yield copy
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------- small inputs


def _logits_and_target(num_classes: int = NUM_CLASSES) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, num_classes, 5, 6, generator=generator)
    target = torch.randint(0, num_classes, (2, 5, 6), generator=generator)
    return logits, target.masked_fill(torch.rand(2, 5, 6, generator=generator) < 0.2, IGNORE_INDEX)


def _two_class_target() -> tuple[torch.Tensor, torch.Tensor]:
    """Logits for 4 classes and a target holding only classes 0 and 1."""
    logits, target = _logits_and_target()
    return logits, target.masked_fill((target != IGNORE_INDEX) & (target >= 2), 1)


def _squares(length: int = 4, dtype: torch.dtype = torch.float32) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    masks = torch.zeros(length, 16, 16, dtype=torch.long)
    for index in range(length):
        top, left = torch.randint(0, 8, (2,), generator=generator).tolist()
        masks[index, top : top + 5, left : left + 5] = 1
    images = masks.unsqueeze(1).float() * 0.6 + 0.2 * torch.rand(length, 1, 16, 16, generator=generator)
    return TensorDataset(images.to(dtype), masks)


def _net(seed: int = 0) -> nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 2, 1))


class _OneByOneBatchNorm(nn.Module):
    """Batch norm at a 1x1 bottleneck: it sees one value per channel per image."""

    def __init__(self) -> None:
        super().__init__()
        self.encode = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.norm = nn.BatchNorm2d(4)
        self.classify = nn.Conv2d(4, 2, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.norm(self.pool(self.encode(images)))  # (B, 4, 1, 1)
        return self.classify(features).expand(-1, -1, *images.shape[-2:])  # (B, 2, H, W)


def _fit(data: TensorDataset, model: nn.Module | None = None, **options: Any):
    settings = {"max_steps": 2, "batch_size": 2, "num_classes": 2, "device": "cpu", "progress": False, **options}
    return fit(model or _net(), data, **settings)


def _brute_force_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for true_class, predicted in zip(target.flatten().tolist(), pred.flatten().tolist()):
        if true_class != IGNORE_INDEX:
            matrix[true_class, predicted] += 1
    return matrix


def _pred_255_at_ignored_pixels() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    _, target = _logits_and_target()
    pred = target.clamp(max=NUM_CLASSES - 1).flip(-1)  # some prediction at labelled pixels
    pred = pred.masked_fill(target == IGNORE_INDEX, IGNORE_INDEX)  # 255 where the target is void
    return pred, target, _brute_force_matrix(pred, target, NUM_CLASSES)


def _saved(name: str = "model.pt") -> tuple[Path, str]:
    """A small checkpoint saved in the working folder, and its sha256."""
    path = Path(name)
    return path, save_checkpoint(_net(), path, metadata={})


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _tamper_shipped() -> None:
    _flip_a_byte(shipped.CHECKPOINT_DIR / shipped.pretrained_info("unet", "shapes")["file"])
    shipped.pretrained("unet", "shapes")


def _corrupt_manifest() -> None:
    (shipped.CHECKPOINT_DIR / shipped.MANIFEST).write_text('{"unet-shapes": {"file": ')
    shipped.available_pretrained()


def _entry_without_sha256() -> None:
    path = shipped.CHECKPOINT_DIR / shipped.MANIFEST
    manifest = json.loads(path.read_text())
    del manifest["unet-shapes"]["sha256"]
    path.write_text(json.dumps(manifest))
    shipped.pretrained("unet", "shapes")


def _cli(*arguments: str) -> int:
    return main(list(arguments))


# --------------------------------------------------------------------------- the table


@dataclasses.dataclass(frozen=True)
class Raises:
    """The row must raise ``kind`` with every fragment in its message."""

    kind: type[BaseException]
    fragments: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Gives:
    """The row must return a result for which ``check(result)`` is true."""

    check: Callable[[Any], bool]


@dataclasses.dataclass(frozen=True)
class Exits:
    """The CLI row must exit with status 2 and every fragment on one line of stderr."""

    fragments: tuple[str, ...]


def _row(category: str, name: str, call: Callable[[], Any], expected: Raises | Gives | Exits) -> Any:
    return pytest.param(call, expected, id=f"{category}: {name}")


_WEIGHTED = F.cross_entropy(
    *_logits_and_target(), weight=torch.tensor([1.0, 2.0, 0.5, 3.0]), ignore_index=IGNORE_INDEX
)

ROWS = [
    # losses
    _row(
        "losses", "class_weights as a list",
        lambda: pixel_cross_entropy(*_logits_and_target(), class_weights=[1.0, 2, 0.5, 3]),
        Gives(lambda loss: torch.allclose(loss, _WEIGHTED)),
    ),
    _row(
        "losses", "class_weights with NaN",
        lambda: pixel_cross_entropy(*_logits_and_target(), class_weights=[1, float("nan"), 1, 1]),
        Raises(ValueError, ("class_weights must be finite", "nan")),
    ),
    _row(
        "losses", "class_weights with inf",
        lambda: pixel_cross_entropy(*_logits_and_target(), class_weights=torch.tensor([1, float("inf"), 1, 1])),
        Raises(ValueError, ("class_weights must be finite", "inf")),
    ),
    _row(
        "losses", "class_weights all zero",
        lambda: pixel_cross_entropy(*_logits_and_target(), class_weights=[0.0] * 4),
        Raises(ValueError, ("all 0", "positive weight")),
    ),
    _row(
        "losses", "class_weights zero for every present class",
        lambda: pixel_cross_entropy(*_two_class_target(), class_weights=[0, 0, 1, 1]),
        Raises(ValueError, ("every class present", "[0, 1]", "positive weight")),
    ),
    _row(
        "losses", "class_weights of the wrong length",
        lambda: pixel_cross_entropy(*_logits_and_target(), class_weights=[1.0, 1.0]),
        Raises(ValueError, ("4 non-negative numbers", "(2,)")),
    ),
    _row(
        "losses", "class_weights negative",
        lambda: pixel_cross_entropy(*_logits_and_target(), class_weights=[1, -1, 1, 1]),
        Raises(ValueError, ("non-negative", "-1.0")),
    ),
    _row(
        "losses", "class_weights a string",
        lambda: pixel_cross_entropy(*_logits_and_target(), class_weights="balanced"),
        Raises(TypeError, ("tensor, list or array", "str")),
    ),
    # metrics
    _row(
        "metrics", "pred 255 where the target is ignored",
        lambda: confusion_matrix(*_pred_255_at_ignored_pixels()[:2], NUM_CLASSES, IGNORE_INDEX),
        Gives(lambda matrix: torch.equal(matrix, _pred_255_at_ignored_pixels()[2])),
    ),
    _row(
        "metrics", "pred out of range at a labelled pixel",
        lambda: confusion_matrix(torch.full((2, 3), 9), torch.zeros(2, 3, dtype=torch.long), 4, IGNORE_INDEX),
        Raises(ValueError, ("pred must be in [0, 4)", "found 9")),
    ),
    _row(
        "metrics", "meter with no classes",
        lambda: ConfusionMeter(0),
        Raises(ValueError, ("num_classes must be a positive int", "got 0")),
    ),
    # training loop, evaluation, prediction
    _row(
        "loop", "float64 images",
        lambda: _fit(_squares(dtype=torch.float64)),
        Gives(lambda history: history.steps == [2] and all(torch.isfinite(torch.tensor(history.train_loss)))),
    ),
    _row(
        "loop", "float16 images to predict",
        lambda: predict(_net(), _squares(dtype=torch.float16).tensors[0]),
        Gives(lambda labels: torch.equal(labels, predict(_net(), _squares().tensors[0].half().float()))),
    ),
    _row(
        "loop", "float64 images to evaluate",
        lambda: evaluate(_net(), _squares(dtype=torch.float64), num_classes=2),
        Gives(lambda scores: json.dumps(scores) == json.dumps(evaluate(_net(), _squares(), num_classes=2))),
    ),
    _row(
        "loop", "uint8 images",
        lambda: _fit(TensorDataset((_squares().tensors[0] * 255).to(torch.uint8), _squares().tensors[1])),
        Raises(ValueError, ("torch.uint8", "images.float() / 255")),
    ),
    _row(
        "loop", "float masks",
        lambda: _fit(TensorDataset(_squares().tensors[0], _squares().tensors[1].float())),
        Raises(ValueError, ("torch.float32", "masks.long()")),
    ),
    _row(
        "loop", "batch_size 0",
        lambda: _fit(_squares(), batch_size=0),
        Raises(ValueError, ("batch_size must be a positive int", "got 0")),
    ),
    _row(
        "loop", "learning rate NaN",
        lambda: _fit(_squares(), lr=float("nan")),
        Raises(ValueError, ("lr must be a positive number", "nan")),
    ),
    _row(
        "loop", "lone last image with a 1x1 batch norm",
        lambda: _fit(_squares(5), _OneByOneBatchNorm(), max_steps=None, epochs=2, batch_size=4),
        Gives(lambda history: history.steps == [1, 2]),
    ),
    _row(
        "loop", "batch of one at a 1x1 batch norm",
        lambda: _fit(_squares(2), _OneByOneBatchNorm(), batch_size=1),
        Raises(ValueError, ("batch_size=1", "batch_size >= 2")),
    ),
    # checkpoints
    _row(
        "checkpoints", "save to a folder",
        lambda: save_checkpoint(_net(), Path.cwd(), metadata={}),
        Raises(ValueError, ("is a folder", "model.pt")),
    ),
    _row(
        "checkpoints", "output exists",
        lambda: check_output_path(_saved()[0]),
        Raises(ValueError, ("already exists", "--force")),
    ),
    _row(
        "checkpoints", "output inside a file",
        lambda: check_output_path(_saved()[0] / "inner.pt"),
        Raises(ValueError, ("cannot write output", "model.pt/inner.pt", "choose another output path")),
    ),
    _row(
        "checkpoints", "hash mismatch",
        lambda: load_checkpoint(_saved()[0], expected_sha256="0" * 64),
        Raises(ValueError, ("sha256", "restore", "save it again")),
    ),
    # manifest and shipped checkpoints
    _row(
        "manifest", "tampered shipped checkpoint",
        _tamper_shipped,
        Raises(ValueError, ("git checkout", "reinstall", "segedu train unet shapes", "--ship --force")),
    ),
    _row(
        "manifest", "corrupt manifest.json",
        _corrupt_manifest,
        Raises(ValueError, ("manifest.json is not valid JSON", "git checkout")),
    ),
    _row(
        "manifest", "entry without sha256",
        _entry_without_sha256,
        Raises(ValueError, ("'unet-shapes'", "lacks ['sha256']", "--ship --force")),
    ),
    # the command line
    _row(
        "cli", "train --steps 0",
        lambda: _cli("train", "unet", "shapes", "--steps", "0"),
        Exits(("argument --steps", "positive integer", "got 0")),
    ),
    _row(
        "cli", "train --steps -1",
        lambda: _cli("train", "unet", "shapes", "--steps", "-1"),
        Exits(("argument --steps", "positive integer", "got -1")),
    ),
    _row(
        "cli", "train --steps two",
        lambda: _cli("train", "unet", "shapes", "--steps", "two"),
        Exits(("argument --steps", "whole number", "'two'")),
    ),
    _row(
        "cli", "train --threads 0",
        lambda: _cli("train", "unet", "shapes", "--threads", "0"),
        Exits(("argument --threads", "positive integer", "got 0")),
    ),
    _row(
        "cli", "train --seed -3",
        lambda: _cli("train", "unet", "shapes", "--seed", "-3"),
        Exits(("argument --seed", "0 or a positive integer", "got -3")),
    ),
    _row(
        "cli", "data summary --length 0",
        lambda: _cli("data", "summary", "--length", "0"),
        Exits(("argument --length", "positive integer", "got 0")),
    ),
    _row(
        "cli", "train an unknown model",
        lambda: _cli("train", "resnet", "shapes", "--steps", "1"),
        Exits(("unknown model 'resnet'", "unet")),
    ),
    _row(
        "cli", "train --output a folder",
        lambda: _cli("train", "unet", "shapes", "--steps", "1", "--output", "."),
        Exits(("is a folder", "model.pt")),
    ),
    _row(
        "cli", "train --ship without --force",
        lambda: _cli("train", "unet", "shapes", "--steps", "1", "--ship"),
        Exits(("shipped checkpoint", "--force")),
    ),
    _row(
        "cli", "train --ship with --output",
        lambda: _cli("train", "unet", "shapes", "--ship", "--output", "x.pt"),
        Exits(("argument --output", "not allowed with argument --ship")),
    ),
]


@pytest.mark.parametrize(("call", "expected"), ROWS)
def test_bad_or_edge_input(call: Callable[[], Any], expected: Raises | Gives | Exits, capsys: pytest.CaptureFixture[str]) -> None:
    if isinstance(expected, Gives):
        assert expected.check(call())
        return
    if isinstance(expected, Exits):
        with pytest.raises(SystemExit) as raised:
            call()
        assert raised.value.code == 2
        errors = capsys.readouterr().err.strip().splitlines()
        assert "Traceback" not in "\n".join(errors)
        assert all(fragment in errors[-1] for fragment in expected.fragments), errors[-1]
        return
    with pytest.raises(expected.kind) as raised:
        call()
    message = str(raised.value)
    assert all(fragment in message for fragment in expected.fragments), message
    raised_in = traceback.extract_tb(raised.tb)[-1].filename
    assert f"{os.sep}segedu{os.sep}" in raised_in, f"raised inside {raised_in}, not by segedu"


def test_the_table_covers_every_category() -> None:
    categories = {row.id.split(":")[0] for row in ROWS}
    assert categories == {"losses", "metrics", "loop", "checkpoints", "manifest", "cli"}
    assert len(ROWS) >= 20


# --------------------------------------------------------------------------- end to end: no lost work


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def test_segedu_train_leaves_the_shipped_checkpoints_alone(_sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(_sandbox)
    assert main(["train", "unet", "shapes", "--steps", "2"]) == 0
    assert _snapshot(_sandbox) == before  # every shipped file and the manifest byte for byte
    written = list(Path("runs").glob("unet-shapes-*.pt"))
    assert len(written) == 1
    entry = json.loads(capsys.readouterr().out)
    assert entry["sha256"] == file_sha256(written[0])
    assert "--steps 2" in entry["command"]
    assert written[0].stat().st_mode & 0o044 == 0o044  # readable by the group and others


def test_ship_force_rewrites_one_entry_with_the_full_command(_sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = json.loads((_sandbox / shipped.MANIFEST).read_text())
    assert main(["train", "unet", "shapes", "--steps", "2", "--ship", "--force"]) == 0
    after = json.loads((_sandbox / shipped.MANIFEST).read_text())
    assert set(after) == set(before)
    assert {key: value for key, value in after.items() if key != "unet-shapes"} == {
        key: value for key, value in before.items() if key != "unet-shapes"
    }
    assert after["unet-shapes"]["command"] == "segedu train unet shapes --steps 2 --seed 0 --threads 1 --ship --force"
    assert after["unet-shapes"]["sha256"] == file_sha256(_sandbox / "unet-shapes.pt")
    for name in ("unet-shapes.pt", shipped.MANIFEST):
        assert (_sandbox / name).stat().st_mode & 0o044 == 0o044


def test_an_unwritable_output_fails_before_training(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    trained: list[int] = []
    monkeypatch.setattr(recipes, "fit", lambda *arguments, **options: trained.append(1))
    Path("a-file").write_text("not a folder")
    for output in ("a-file/unet.pt", "."):
        started = time.perf_counter()
        with pytest.raises(SystemExit) as raised:
            main(["train", "unet", "shapes", "--output", output])  # the full 4000-step recipe
        assert raised.value.code == 2
        assert time.perf_counter() - started < 5.0
    assert trained == []
    assert "choose another output path" in capsys.readouterr().err


def test_a_read_only_folder_fails_before_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Root ignores permission bits, so the folder's refusal is simulated where the probe file is written."""
    monkeypatch.setattr(recipes, "fit", lambda *arguments, **options: pytest.fail("training started"))

    def refuse(*arguments: Any, **options: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checkpoints.tempfile, "mkstemp", refuse)
    with pytest.raises(ValueError, match=r"cannot write output read-only/unet.pt.*Permission denied.*another output"):
        train_recipe(Recipe("unet", "shapes", steps=4000), output=Path("read-only") / "unet.pt")


def test_an_existing_output_needs_force(capsys: pytest.CaptureFixture[str]) -> None:
    Path("mine.pt").write_bytes(b"a week of work")
    with pytest.raises(SystemExit):
        main(["train", "unet", "shapes", "--steps", "1", "--output", "mine.pt"])
    assert Path("mine.pt").read_bytes() == b"a week of work"
    assert "--force" in capsys.readouterr().err


def _crashing_fit(error: BaseException) -> Callable[..., Any]:
    def fit_then_fail(model: nn.Module, *arguments: Any, **options: Any) -> None:
        with torch.no_grad():
            next(model.parameters()).fill_(0.5)  # something was learned
        raise error

    return fit_then_fail


def test_a_crash_keeps_the_learned_weights_in_a_partial_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recipes, "fit", _crashing_fit(RuntimeError("out of memory")))
    recipe = Recipe("unet", "shapes", steps=3, batch_size=2, model_kwargs={"base_channels": 4})
    with pytest.raises(RuntimeError, match="out of memory") as raised:
        train_recipe(recipe, output=Path("run.pt"), progress=False)
    assert not Path("run.pt").exists()
    partial = load_checkpoint("run.partial.pt")
    assert partial["metadata"]["partial"] is True
    first_weight = next(iter(partial["state_dict"].values()))
    assert torch.all(first_weight == 0.5)
    assert any("run.partial.pt" in note for note in raised.value.__notes__)


def test_ctrl_c_in_the_cli_exits_130_and_keeps_a_partial_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recipes, "fit", _crashing_fit(KeyboardInterrupt()))
    assert main(["train", "unet", "shapes", "--steps", "2", "--output", "run.pt"]) == 130
    assert Path("run.partial.pt").is_file() and not Path("run.pt").exists()


def test_concurrent_manifest_updates_lose_no_entry(_sandbox: Path) -> None:
    before = shipped.read_manifest()
    workers = [
        threading.Thread(target=shipped.update_manifest, args=(f"model{index}-shapes", {"index": index}))
        for index in range(8)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    after = shipped.read_manifest()
    assert after == {**before, **{f"model{index}-shapes": {"index": index} for index in range(8)}}
