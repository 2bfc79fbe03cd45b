"""segedu.training.loop, .evaluation and .checkpoints: the training loop, evaluation, devices, seeding and checkpoints."""

from __future__ import annotations

import hashlib
import json
import random

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import segedu.training.checkpoints as checkpoints
from segedu.core.device import select_device
from segedu.core.seeding import seed_everything
from segedu.datasets import ShapesScenes
from segedu.training.metrics import ConfusionMeter, boundary_band
from segedu.training.checkpoints import file_sha256, load_checkpoint, save_checkpoint, state_sha256
from segedu.training.evaluation import evaluate, predict
from segedu.training.loop import History, fit, train_one_epoch

NUM_CLASSES = ShapesScenes.num_classes


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Undo the global changes these tests make: fit() and seed_everything() reseed global
    generators, and training runs on one thread (several threads per test process
    oversubscribe the CPU under pytest-xdist and make these tiny runs many times slower)."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with torch.random.fork_rng():
        yield
    torch.set_num_threads(threads)
    random.setstate(python_state)
    np.random.set_state(numpy_state)
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


def _tiny_net(in_channels: int = 3, num_classes: int = NUM_CLASSES, seed: int = 0) -> nn.Sequential:
    """A few 3x3 convolutions; dilations 1, 2, 4, 8 give a 31-pixel receptive field."""
    with torch.random.fork_rng():  # seeded weights without touching the global generator
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        channels = in_channels
        for dilation in (1, 2, 4, 8):
            layers += [
                nn.Conv2d(channels, 16, kernel_size=3, padding=dilation, dilation=dilation),
                nn.BatchNorm2d(16),
                nn.ReLU(),
            ]
            channels = 16
        layers.append(nn.Conv2d(channels, num_classes, kernel_size=1))
        return nn.Sequential(*layers)


def _scenes(length: int) -> ShapesScenes:
    return ShapesScenes("train", length, size=32, channels=3, seed=0)


def _squares(length: int = 4, size: int = 16) -> TensorDataset:
    """Bright squares (class 1) on a dark background (class 0); has no .num_classes."""
    generator = torch.Generator().manual_seed(0)
    masks = torch.zeros(length, size, size, dtype=torch.long)
    for index in range(length):
        top, left = torch.randint(0, size // 2, (2,), generator=generator).tolist()
        masks[index, top : top + size // 3, left : left + size // 3] = 1
    images = masks.unsqueeze(1).float() * 0.6 + 0.2 * torch.rand(length, 1, size, size, generator=generator)
    return TensorDataset(images, masks)


# --------------------------------------------------------------------------- fit


def test_fit_overfits_one_small_batch():
    data = _scenes(4)
    model = _tiny_net()
    history = fit(model, data, data, max_steps=100, batch_size=4, lr=1e-2, device="cpu", progress=False)
    assert history.steps[-1] == 100 and history.stop_reason == "max_steps"
    assert history.train_loss[-1] < history.train_loss[0] / 10
    final = history.val_metrics[-1]
    assert final["pixel_accuracy"] > 0.95
    assert final["mean_iou"] > 0.8  # not just "everything is background"
    assert json.dumps(evaluate(model, data)) == json.dumps(final)  # fit validates with evaluate


def test_same_seed_same_history():
    data, val = _scenes(8), ShapesScenes("val", 4, size=32, channels=3, seed=0)

    def run(seed: int) -> str:
        history = fit(_tiny_net(), data, val, epochs=3, batch_size=4, seed=seed, device="cpu", progress=False)
        record = history.to_dict()
        assert len(record.pop("seconds")) == 3
        return json.dumps(record)  # NaN-safe comparison of every loss and metric

    first = run(seed=0)
    assert run(seed=0) == first
    assert run(seed=1) != first  # the seed really drives the shuffling


def test_history_to_dict_is_json_ready():
    history = fit(
        _tiny_net(), _scenes(4), _scenes(2), max_steps=2, batch_size=2, device="cpu", progress=False
    )
    record = json.loads(json.dumps(history.to_dict()))
    assert set(record) == {"train_loss", "val_metrics", "seconds", "steps", "val_curve", "stop_reason"}
    assert history.epochs == 1 and record["steps"] == [2]
    measures = {"pixel_accuracy", "mean_accuracy", "mean_iou", "frequency_weighted_iou", "iou_per_class"}
    assert set(record["val_metrics"][0]) == measures
    assert isinstance(History(), History) and History().to_dict()["train_loss"] == []


def test_val_every_scores_inside_the_epoch_without_changing_the_training():
    data, val = _scenes(8), ShapesScenes("val", 4, size=32, channels=3, seed=0)
    plain_model, curved_model = _tiny_net(), _tiny_net()
    settings = {"max_steps": 4, "batch_size": 2, "lr": 0.05, "device": "cpu", "progress": False}
    plain = fit(plain_model, data, val, **settings)
    curved = fit(curved_model, data, val, **settings, val_every=2)
    assert plain.epochs == curved.epochs == 1  # one epoch of 4 steps, so the epoch-end score is the only other one
    assert [step for step, _ in curved.val_curve] == [2, 4]
    assert plain.train_loss == curved.train_loss
    for name, weight in plain_model.state_dict().items():
        assert torch.equal(weight, curved_model.state_dict()[name]), name
    assert json.dumps(curved.val_curve[-1][1]) == json.dumps(curved.val_metrics[-1])  # step 4 is the end
    assert json.dumps(curved.val_curve[0][1]) != json.dumps(curved.val_curve[1][1])  # scored at two moments
    assert plain.val_curve == []


def test_val_every_needs_validation_data_and_a_positive_count():
    with pytest.raises(ValueError, match="val_every=2 needs val_data"):
        fit(_tiny_net(), _scenes(4), max_steps=2, batch_size=2, device="cpu", progress=False, val_every=2)
    with pytest.raises(ValueError, match="val_every"):
        fit(_tiny_net(), _scenes(4), _scenes(2), max_steps=2, batch_size=2, device="cpu", progress=False,
            val_every=0)


def test_fit_stops_on_budgets():
    data = _scenes(8)
    capped = fit(_tiny_net(), data, epochs=5, max_steps=3, batch_size=4, device="cpu", progress=False)
    assert capped.steps == [2, 3] and capped.stop_reason == "max_steps"
    timed = fit(_tiny_net(), data, time_budget_s=1e-9, batch_size=4, device="cpu", progress=False)
    assert timed.steps == [1] and timed.stop_reason == "time_budget"
    full = fit(_tiny_net(), data, epochs=2, batch_size=4, device="cpu", progress=False)
    assert full.steps == [2, 4] and full.stop_reason == "epochs"


def test_cosine_schedule_decays_to_zero(monkeypatch):
    seen: list[float] = []
    original_step = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    fit(_tiny_net(), _scenes(8), max_steps=4, lr=0.1, batch_size=2, lr_schedule="cosine", device="cpu", progress=False)
    # The rate used at step s is lr * (1 + cos(pi * s / 4)) / 2, brute-forced for s = 0..3.
    expected = [0.1 * (1 + np.cos(np.pi * step / 4)) / 2 for step in range(4)]
    assert np.allclose(seen, expected)
    seen.clear()
    fit(_tiny_net(), _scenes(8), max_steps=3, lr=0.1, batch_size=2, device="cpu", progress=False)
    assert seen == [0.1, 0.1, 0.1]


def test_lr_factors_scale_one_submodule_along_the_schedule(monkeypatch):
    seen: list[list[float]] = []
    grouped: list[list[int]] = []
    original_step = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        seen.append([group["lr"] for group in self.param_groups])
        grouped[:] = [[id(parameter) for parameter in group["params"]] for group in self.param_groups]
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    model = _tiny_net()
    last_start = model[12].weight.detach().clone()
    fit(model, _scenes(8), max_steps=4, lr=0.1, batch_size=2, lr_schedule="cosine", device="cpu", progress=False,
        lr_factors={"12": 1 / 40})
    cosine = [0.1 * (1 + np.cos(np.pi * step / 4)) / 2 for step in range(4)]
    assert np.allclose(seen, [[rate, rate / 40] for rate in cosine])  # the rest, then the last 1x1 conv at lr / 40
    last = [id(parameter) for parameter in model[12].parameters()]
    assert grouped[1] == last and set(grouped[0]) == {id(parameter) for parameter in model.parameters()} - set(last)
    moved = (model[12].weight - last_start).abs().max().item()
    assert 0 < moved <= 4 * 0.1 / 40 * 1.01  # Adam moves a weight about lr per step at most: 4 steps at lr / 40


def test_lr_factors_refuse_unknown_names_and_bad_factors():
    data = _scenes(4)
    with pytest.raises(ValueError, match="'score_pool3', which is not a submodule"):
        fit(_tiny_net(), data, max_steps=1, progress=False, lr_factors={"score_pool3": 0.1})
    with pytest.raises(ValueError, match=r"lr_factors\['0'\] must be a positive number; got -1"):
        fit(_tiny_net(), data, max_steps=1, progress=False, lr_factors={"0": -1})
    nested = nn.Sequential(nn.Sequential(nn.Conv2d(3, NUM_CLASSES, 1)))
    with pytest.raises(ValueError, match="already has one"):
        fit(nested, data, max_steps=1, progress=False, lr_factors={"0": 0.5, "0.0": 0.1})


def test_cosine_schedule_needs_a_known_length():
    with pytest.raises(ValueError, match="cosine"):
        fit(_tiny_net(), _scenes(2), time_budget_s=1.0, lr_schedule="cosine", progress=False)
    with pytest.raises(ValueError, match="lr_schedule"):
        fit(_tiny_net(), _scenes(2), max_steps=1, lr_schedule="step", progress=False)


def test_progress_bars_can_be_turned_off(capsys):
    fit(_tiny_net(), _scenes(2), max_steps=1, batch_size=2, device="cpu", progress=True)
    assert "fit" in capsys.readouterr().err
    fit(_tiny_net(), _scenes(2), max_steps=1, batch_size=2, device="cpu", progress=False)
    assert capsys.readouterr().err == ""


def test_fit_accepts_dice_and_custom_losses():
    calls = []

    def loss(logits, masks):
        calls.append(logits.shape)
        return nn.functional.cross_entropy(logits, masks)

    fit(_tiny_net(), _scenes(4), max_steps=2, batch_size=2, loss=loss, device="cpu", progress=False)
    assert calls == [(2, NUM_CLASSES, 32, 32)] * 2
    dice = fit(_tiny_net(), _scenes(4), max_steps=2, batch_size=2, loss="dice", device="cpu", progress=False)
    assert 0.0 < dice.train_loss[0] < 1.0


def test_fit_argument_errors():
    data = _scenes(2)
    with pytest.raises(ValueError, match="not both"):
        fit(_tiny_net(), data, epochs=1, time_budget_s=5.0, progress=False)
    with pytest.raises(ValueError, match="how long"):
        fit(_tiny_net(), data, progress=False)
    with pytest.raises(ValueError, match="num_classes"):
        fit(_tiny_net(1, 2), _squares(), epochs=1, progress=False)  # TensorDataset: no .num_classes
    with pytest.raises(ValueError, match=f"outputs 3 channels but num_classes={NUM_CLASSES}"):
        fit(_tiny_net(num_classes=3), data, epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match="loss"):
        fit(_tiny_net(), data, epochs=1, loss="hinge", progress=False)
    with pytest.raises(ValueError, match="optimizer"):
        fit(_tiny_net(), data, epochs=1, optimizer="lbfgs", progress=False)


def test_num_classes_found_inside_subsets():
    subset = torch.utils.data.Subset(_scenes(4), [0, 2])
    history = fit(_tiny_net(), subset, subset, max_steps=1, batch_size=2, device="cpu", progress=False)
    assert len(history.val_metrics[0]["iou_per_class"]) == NUM_CLASSES
    with pytest.raises(ValueError, match="num_classes=3 but the dataset says num_classes=4"):
        evaluate(_tiny_net(), subset, num_classes=3)


def test_fit_on_plain_tensor_dataset_with_num_classes():
    history = fit(
        _tiny_net(1, 2), _squares(), max_steps=3, num_classes=2, batch_size=2, device="cpu", progress=False
    )
    assert history.steps == [2, 3]


# --------------------------------------------------------------------------- evaluate / predict


def test_evaluate_matches_meter_on_predictions():
    data, model = _scenes(5), _tiny_net()
    images = torch.stack([data[i][0] for i in range(len(data))])
    masks = torch.stack([data[i][1] for i in range(len(data))])
    labels = predict(model, images)
    assert labels.shape == masks.shape and torch.equal(predict(model, images[2]), labels[2])

    meter = ConfusionMeter(NUM_CLASSES, ignore_index=255)
    meter.update(labels, masks)
    assert json.dumps(evaluate(model, data, batch_size=2)) == json.dumps(meter.compute())

    meter.reset()
    meter.update(labels, masks, boundary_band(masks, 2))
    near = evaluate(model, data, batch_size=3, valid_mask_fn=lambda batch: boundary_band(batch, 2))
    assert json.dumps(near) == json.dumps(meter.compute())
    assert near["pixel_accuracy"] != evaluate(model, data)["pixel_accuracy"]  # the band mattered


def test_evaluate_and_predict_restore_training_mode():
    data, model = _scenes(2), _tiny_net()
    model.train()
    evaluate(model, data)
    predict(model, data[0][0])
    assert model.training
    model.eval()
    evaluate(model, data)
    assert not model.training


# --------------------------------------------------------------------------- set-up helpers


def test_seed_everything_repeats_every_generator(monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")

    def draw():
        return random.random(), float(np.random.rand()), torch.rand(3).tolist()

    seed_everything(123)
    first = draw()
    seed_everything(123, deterministic=True)
    assert draw() == first
    assert torch.are_deterministic_algorithms_enabled()
    seed_everything(124)
    assert draw() != first
    with pytest.raises(ValueError, match="seed"):
        seed_everything(1.5)


def test_select_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert select_device() == torch.device("cpu")
    with pytest.raises(ValueError, match="not available"):
        select_device("cuda")
    with pytest.raises(ValueError, match="device"):
        select_device("gpu-please")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert select_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device() == torch.device("cuda")
    assert select_device("cpu") == torch.device("cpu")  # an explicit choice wins


# --------------------------------------------------------------------------- checkpoints


def _saved(tmp_path, seed: int = 0):
    model = _tiny_net(seed=seed)
    path = tmp_path / "model.pt"
    digest = save_checkpoint(model, path, metadata={"name": "tiny", "seed": seed, "metrics": [0.5, None]})
    return model, path, digest


def test_checkpoint_round_trip_preserves_outputs(tmp_path):
    model, path, digest = _saved(tmp_path)
    assert digest == file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    checkpoint = load_checkpoint(path, expected_sha256=digest)
    assert checkpoint["metadata"] == {"name": "tiny", "seed": 0, "metrics": [0.5, None]}
    restored = _tiny_net(seed=1)
    images = _scenes(2)[0][0].unsqueeze(0)
    assert not torch.equal(restored.eval()(images), model.eval()(images))
    restored.load_state_dict(checkpoint["state_dict"])
    assert torch.equal(restored.eval()(images), model.eval()(images))


def test_state_sha256_sees_every_bit_of_every_tensor_and_nothing_else():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    same = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    same.load_state_dict(model.state_dict())
    assert state_sha256(model) == state_sha256(same)  # another object, the same tensors
    expected = hashlib.sha256()  # brute force: the digest written out for these four kinds of tensor
    for name, tensor in sorted(model.state_dict().items()):
        expected.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        expected.update(tensor.numpy().tobytes())
    assert state_sha256(model) == expected.hexdigest()
    with torch.no_grad():
        same[0].weight.view(-1)[5] = torch.nextafter(same[0].weight.view(-1)[5], torch.tensor(1.0))  # one bit
    assert state_sha256(same) != state_sha256(model)
    same.load_state_dict(model.state_dict())
    same[1].num_batches_tracked += 1  # a buffer counts too
    assert state_sha256(same) != state_sha256(model)


def test_half_precision_checkpoint_is_smaller_and_rounds_weights(tmp_path):
    model = _tiny_net()
    full = save_checkpoint(model, tmp_path / "full.pt", metadata={})
    half = save_checkpoint(model, tmp_path / "half.pt", metadata={}, half_precision=True)
    assert full != half
    assert (tmp_path / "half.pt").stat().st_size < (tmp_path / "full.pt").stat().st_size
    stored = load_checkpoint(tmp_path / "half.pt", expected_sha256=half)["state_dict"]
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point():
            assert stored[name].dtype == torch.float16
            assert torch.equal(stored[name].float(), tensor.half().float())
        else:
            assert torch.equal(stored[name], tensor)  # e.g. BatchNorm's step counter stays an integer
    restored = _tiny_net(seed=1)
    restored.load_state_dict(stored)
    assert all(parameter.dtype == torch.float32 for parameter in restored.parameters())


def test_truncated_checkpoint_is_refused(tmp_path):
    _, path, _ = _saved(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated or corrupt") as raised:
        load_checkpoint(path)
    assert str(path) in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_flipped_bytes_and_hash_mismatch_are_refused(tmp_path):
    _, path, digest = _saved(tmp_path)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    found = hashlib.sha256(content).hexdigest()
    with pytest.raises(ValueError) as raised:
        load_checkpoint(path, expected_sha256=digest)
    message = str(raised.value)
    assert str(path) in message and digest in message and found in message and "restore" in message

    _, intact, _ = _saved(tmp_path / "other")
    with pytest.raises(ValueError, match="0{64} was expected"):
        load_checkpoint(intact, expected_sha256="0" * 64)


def test_foreign_files_are_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a segedu checkpoint"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="JSON"):
        save_checkpoint(_tiny_net(), path, metadata={"when": object()})


def test_save_is_atomic(tmp_path, monkeypatch):
    _, path, digest = _saved(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]  # no temporary file left

    def crash_half_way(payload, file):
        file.write(b"half a checkpoint")
        raise RuntimeError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", crash_half_way)
    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint(_tiny_net(seed=2), path, metadata={})
    assert file_sha256(path) == digest  # the previous checkpoint is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint(_tiny_net(), tmp_path / "new.pt", metadata={})
    assert not (tmp_path / "new.pt").exists()  # never a partial target


# --------------------------------------------------------------------------- the visible loop, interruptions, dtypes


def test_train_one_epoch_equals_a_hand_written_loop():
    data = _squares(length=6)
    loader = torch.utils.data.DataLoader(data, batch_size=2, shuffle=False)
    model, reference = _tiny_net(1, 2), _tiny_net(1, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    losses = train_one_epoch(model, loader, optimizer, nn.functional.cross_entropy)
    expected = []
    for images, masks in loader:  # the textbook loop, written out
        reference_optimizer.zero_grad()
        loss = nn.functional.cross_entropy(reference(images), masks)
        loss.backward()
        reference_optimizer.step()
        expected.append(loss.item())
    assert losses == pytest.approx(expected)
    for name, weight in model.state_dict().items():
        assert torch.allclose(weight.float(), reference.state_dict()[name].float()), name


def test_train_one_epoch_stops_when_after_step_says_so():
    loader = torch.utils.data.DataLoader(_squares(length=6), batch_size=2)
    model = _tiny_net(1, 2)
    seen: list[float] = []
    losses = train_one_epoch(
        model, loader, torch.optim.SGD(model.parameters(), lr=0.1), nn.functional.cross_entropy,
        after_step=lambda loss: seen.append(loss) or len(seen) == 2,
    )
    assert len(losses) == 2 and losses == seen


def test_ctrl_c_returns_the_partial_history_and_keeps_the_weights():
    model = _tiny_net()
    before = {name: weight.clone() for name, weight in model.state_dict().items()}
    calls = []

    def loss(logits, masks):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return nn.functional.cross_entropy(logits, masks)

    with pytest.warns(UserWarning, match="interrupted after 3 steps"):
        history = fit(model, _scenes(4), _scenes(2), epochs=5, batch_size=2, loss=loss, device="cpu", progress=False)
    assert history.stop_reason == "interrupted"
    assert history.steps == [2, 3] and len(history.train_loss) == 2
    assert len(history.val_metrics) == 1  # the interrupted epoch is not validated
    changed = [not torch.equal(before[name], weight) for name, weight in model.state_dict().items()]
    assert any(changed)


class _OneByOneBottleneck(nn.Module):
    """Pool everything to 1x1, batch-normalise there, and paint the result back: BN sees B values."""

    def __init__(self) -> None:
        super().__init__()
        self.encode = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.norm = nn.BatchNorm2d(4)
        self.classify = nn.Conv2d(4, NUM_CLASSES, 1)

    def forward(self, images):
        features = self.norm(self.pool(self.encode(images)))  # (B, 4, 1, 1)
        return self.classify(features).expand(-1, -1, *images.shape[-2:])  # (B, K, H, W)


def test_a_lone_last_image_is_dropped_for_batch_norm():
    history = fit(_OneByOneBottleneck(), _scenes(5), epochs=2, batch_size=4, device="cpu", progress=False)
    assert history.steps == [1, 2]  # 5 images: one batch of 4 per epoch, the lone fifth dropped
    plain = nn.Sequential(nn.Conv2d(3, NUM_CLASSES, 1))  # no batch norm: every image is used
    assert fit(plain, _scenes(5), epochs=1, batch_size=4, device="cpu", progress=False).steps == [2]


def test_batch_size_one_at_a_1x1_batch_norm_names_the_fix():
    with pytest.raises(ValueError, match="use batch_size >= 2"):
        fit(_OneByOneBottleneck(), _scenes(2), epochs=1, batch_size=1, device="cpu", progress=False)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_float64_and_float16_images_are_converted(dtype):
    images = _scenes(4)[0][0].unsqueeze(0)  # (1, 3, 32, 32)
    model = _tiny_net().eval()
    assert torch.equal(predict(model, images.to(dtype)), predict(model, images.to(dtype).float()))
    data = TensorDataset(
        torch.stack([image for image, _ in _scenes(4)]).to(dtype), torch.stack([mask for _, mask in _scenes(4)])
    )
    converted = TensorDataset(data.tensors[0].float(), data.tensors[1])
    scores = evaluate(model, data, num_classes=NUM_CLASSES)
    assert json.dumps(scores) == json.dumps(evaluate(model, converted, num_classes=NUM_CLASSES))
    history = fit(_tiny_net(), data, max_steps=2, batch_size=2, num_classes=NUM_CLASSES, device="cpu", progress=False)
    reference = fit(
        _tiny_net(), converted, max_steps=2, batch_size=2, num_classes=NUM_CLASSES, device="cpu", progress=False
    )
    assert history.train_loss == reference.train_loss


def test_saved_checkpoints_are_readable_by_everyone_under_the_usual_umask(tmp_path):
    import os

    previous = os.umask(0o022)
    try:
        path = tmp_path / "model.pt"
        save_checkpoint(_tiny_net(), path, metadata={})
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644
