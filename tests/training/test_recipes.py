"""`segedu train` is reproducible, and shipped checkpoints load only when their hash matches."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import segedu.training.recipes as recipes
import segedu.training.shipped as shipped
from segedu.course.cli import main
from segedu.training.checkpoints import file_sha256, state_sha256
from segedu.training.recipes import RECIPES, VALIDATE_EVERY, Recipe, initial_model, shipped_threads, train_recipe
from segedu.training.shipped import available_pretrained, pretrained, pretrained_info, read_manifest


@pytest.fixture(autouse=True)
def _private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGEDU_DATA_DIR", str(tmp_path / "data"))


def test_same_recipe_same_weights(tmp_path: Path) -> None:
    recipe = Recipe("unet", "shapes", steps=3, batch_size=2, model_kwargs={"base_channels": 4})
    first = train_recipe(recipe, output=tmp_path / "a.pt", threads=1, progress=False)
    second = train_recipe(recipe, output=tmp_path / "b.pt", threads=1, progress=False)
    weights_a = torch.load(tmp_path / "a.pt", weights_only=True)["state_dict"]
    weights_b = torch.load(tmp_path / "b.pt", weights_only=True)["state_dict"]
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[name], weights_b[name]) for name in weights_a)
    assert first["test_metrics"] == second["test_metrics"]
    assert first["sha256"] == file_sha256(tmp_path / "a.pt")
    assert first["model_kwargs"] == {"in_channels": 3, "num_classes": 4, "base_channels": 4}
    assert [step for step, _ in first["val_curve"]] == [3]  # a curve point every 250 steps, or at the end
    assert first["val_curve"][-1][1] == first["final_val_mean_iou"]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # on a GPU machine the recipe trains there
    assert first["trained_on"].endswith(f", 1 threads, {recipes._device_name(device)}")


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_a_recipe_asks_for_deterministic_kernels_on_a_gpu_only_and_only_while_it_runs(device: str) -> None:
    before = torch.are_deterministic_algorithms_enabled()
    with recipes._seeded(7, torch.device(device)):
        assert torch.are_deterministic_algorithms_enabled() == (device == "cuda")
        assert torch.initial_seed() == 7
    assert torch.are_deterministic_algorithms_enabled() == before


def test_train_command_writes_a_loadable_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "fcn.pt"
    assert main(["train", "fcn8s", "digits", "--steps", "2", "--threads", "1", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert '"dataset": "digits"' in printed and file_sha256(output) in printed


def test_every_shipped_checkpoint_matches_its_recipe_and_loads() -> None:
    names = available_pretrained()
    assert names, "no checkpoints shipped; run `segedu train MODEL DATASET`"
    manifest = read_manifest()
    for name in names:
        entry = manifest[name]
        path = shipped.CHECKPOINT_DIR / entry["file"]
        assert path.stat().st_size < 5 * 2**20, f"{name} is over 5 MB"
        assert file_sha256(path) == entry["sha256"]
        recipe = RECIPES[(entry["model"], entry["dataset"])]
        assert entry["recipe"]["steps"] == recipe.steps and entry["recipe"]["seed"] == recipe.seed
        curve_steps = [step for step, _ in entry["val_curve"]]
        assert curve_steps == list(range(VALIDATE_EVERY, recipe.steps + 1, VALIDATE_EVERY)), name
        assert entry["val_curve"][-1][1] == entry["final_val_mean_iou"], name
        model = pretrained(entry["model"], entry["dataset"])
        channels, classes = entry["model_kwargs"]["in_channels"], entry["model_kwargs"]["num_classes"]
        assert not model.training
        assert model(torch.zeros(1, channels, 64, 64)).shape == (1, classes, 64, 64)


def test_corrupted_checkpoint_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = available_pretrained()[0]
    model_name, dataset = name.split("-")
    copy = tmp_path / "checkpoints"
    shutil.copytree(shipped.CHECKPOINT_DIR, copy)
    target = copy / pretrained_info(model_name, dataset)["file"]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte deep inside the weights
    target.write_bytes(bytes(data))
    monkeypatch.setattr(shipped, "CHECKPOINT_DIR", copy)
    with pytest.raises(ValueError, match="sha256") as raised:
        pretrained(model_name, dataset)
    message = str(raised.value)
    assert "git checkout" in message and "reinstall" in message and "download" not in message


def test_unknown_checkpoint_names_the_available_ones() -> None:
    with pytest.raises(ValueError, match="segedu train unet moon"):
        pretrained_info("unet", "moon")


def test_data_summary_command_lists_every_class(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "summary", "--length", "4"]) == 0
    printed = capsys.readouterr().out
    for class_name in ["background", "circle", "square", "triangle", "9"]:
        assert class_name in printed


def test_readme_checkpoint_table_matches_the_manifest() -> None:
    from segedu.training.recipes import checkpoint_table_markdown

    table = checkpoint_table_markdown()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert table in readme, "update the README's checkpoint table from segedu.training.recipes.checkpoint_table_markdown()"
    manifest = read_manifest()
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        key = {"FCN-32s": "fcn32s", "FCN-16s": "fcn16s", "FCN-8s": "fcn8s", "SegNet": "segnet", "U-Net": "unet",
               "DeepLabv3": "deeplabv3"}[cells[0]]
        shapes = manifest[f"{key}-shapes"]["test_metrics"]
        assert float(cells[1]) == pytest.approx(shapes["mean_iou"], abs=5e-4)
        assert float(cells[2]) == pytest.approx(shapes["pixel_accuracy"], abs=5e-4)


def test_prior_bias_starts_the_last_bias_at_the_counted_class_frequencies() -> None:
    from segedu.models import get_model
    from segedu.training.recipes import PRIOR_SCENES, start_bias_at_class_frequencies, training_scenes

    scenes = training_scenes("digits", PRIOR_SCENES + 10)
    model = get_model("unet", in_channels=1, num_classes=11, base_channels=4)
    start_bias_at_class_frequencies(model, scenes)
    counts = torch.zeros(11, dtype=torch.float64)
    for index in range(PRIOR_SCENES):  # counted pixel by pixel, scene by scene
        mask = scenes[index][1]
        for label in range(11):
            counts[label] += int((mask == label).sum())
    expected = (counts / counts.sum()).clamp_min(1e-4).log().float()
    last = [module for module in model.modules() if isinstance(module, torch.nn.Conv2d)][-1]
    assert last.out_channels == 11
    torch.testing.assert_close(last.bias.detach(), expected)


def test_only_segnets_recipe_starts_at_the_prior_and_uses_two_threads() -> None:
    """SegNet's departures from the shared recipe; the budget (steps, batch, rate, schedule) stays the same."""
    budget = {(recipe.dataset, recipe.steps, recipe.batch_size, recipe.lr, recipe.lr_schedule)
              for recipe in RECIPES.values()}
    assert len(budget) == 2  # one per dataset
    assert {model for (model, _), recipe in RECIPES.items() if recipe.prior_bias} == {"segnet"}
    others = {shipped_threads(model) for model, _ in RECIPES if model != "segnet"}
    assert shipped_threads("segnet") == 2 and others == {1}


def test_prior_bias_is_recorded_and_never_shipped_for_a_model_whose_recipe_lacks_it(tmp_path: Path) -> None:
    recipe = Recipe("unet", "shapes", steps=1, batch_size=2, model_kwargs={"base_channels": 4}, prior_bias=True)
    entry = train_recipe(recipe, output=tmp_path / "prior.pt", threads=1, progress=False)
    assert entry["recipe"]["prior_bias"] is True and "--prior-bias" in entry["command"]
    plain = train_recipe(Recipe("unet", "shapes", steps=1, batch_size=2, model_kwargs={"base_channels": 4}),
                         output=tmp_path / "plain.pt", threads=1, progress=False)
    assert plain["recipe"]["prior_bias"] is False and "--prior-bias" not in plain["command"]
    with pytest.raises(SystemExit):
        main(["train", "unet", "digits", "--prior-bias", "--ship", "--force"])
    with pytest.raises(SystemExit):
        main(["train", "unet", "digits", "--prior-bias", "--minutes", "1"])


def test_prepare_changes_the_freshly_built_model_and_is_refused_for_a_shipped_run(tmp_path: Path) -> None:
    recipe = Recipe("unet", "shapes", steps=1, batch_size=2, model_kwargs={"base_channels": 4})
    seen: list[torch.nn.Module] = []

    def freeze_first_convolution(model: torch.nn.Module) -> torch.nn.Module:
        seen.append(model)
        first = next(module for module in model.modules() if isinstance(module, torch.nn.Conv2d))
        first.weight.data.zero_()  # a change training would undo unless the run trains the returned model as is
        first.weight.requires_grad_(False)
        return model

    train_recipe(recipe, output=tmp_path / "prepared.pt", threads=1, progress=False, prepare=freeze_first_convolution)
    plain = train_recipe(recipe, output=tmp_path / "plain.pt", threads=1, progress=False)
    prepared_weights = torch.load(tmp_path / "prepared.pt", weights_only=True)["state_dict"]
    plain_weights = torch.load(tmp_path / "plain.pt", weights_only=True)["state_dict"]
    first_name = next(name for name in plain_weights if name.endswith("weight") and plain_weights[name].dim() == 4)
    assert len(seen) == 1
    assert torch.count_nonzero(prepared_weights[first_name]) == 0  # trained as prepared, saved as trained
    assert torch.count_nonzero(plain_weights[first_name]) > 0
    with pytest.raises(ValueError, match="prepare"):
        train_recipe(RECIPES[("unet", "shapes")], ship=True, force=True, prepare=freeze_first_convolution)


def test_initial_model_is_the_model_a_run_starts_from(tmp_path: Path) -> None:
    recipe = Recipe("segnet", "shapes", steps=1, batch_size=2, seed=3, model_kwargs={"base_channels": 4, "depth": 2},
                    prior_bias=True)
    seen: list[str] = []  # the weights each build hands to prepare, i.e. after seeding and building

    def note(model: torch.nn.Module) -> torch.nn.Module:
        seen.append(state_sha256(model))
        return model

    train_recipe(recipe, output=tmp_path / "run.pt", threads=1, progress=False, prepare=note)
    started = initial_model(recipe, prepare=note)
    assert seen[0] == seen[1]  # the same build, from the same generator state
    assert state_sha256(started) != seen[1]  # the prior bias was started after prepare, as in the run
    assert state_sha256(initial_model(recipe)) == state_sha256(started)  # a prepare that changes nothing
    assert state_sha256(initial_model(replace(recipe, seed=4))) != state_sha256(started)
