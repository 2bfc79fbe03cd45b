"""Lessons 13 and 14's study script protects the shipped record, copies part 2 only when it matches, and its record fits."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
import torch

from experiments import augmentation_study
from segedu.course.experiments import RESULTS_DIR, load_experiment
from segedu.models import UNet
from segedu.training.checkpoints import load_checkpoint


def test_the_shipped_record_is_protected(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert (RESULTS_DIR / "augmentation_study.json").is_file()
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--output", str(RESULTS_DIR)])
    with pytest.raises(SystemExit):
        augmentation_study.main()  # refuses before any training
    assert "--overwrite" in capsys.readouterr().err


def test_a_default_run_writes_outside_the_package() -> None:
    arguments = augmentation_study.build_parser().parse_args([])
    assert arguments.output == Path("runs") and not arguments.overwrite
    assert arguments.steps == augmentation_study.STEPS and arguments.learning_rate_from is None


def test_part_two_is_copied_only_from_a_matching_record(tmp_path: Path, monkeypatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    other = load_experiment("augmentation_study")
    other["settings"]["learning_rate"] = {**other["settings"]["learning_rate"], "steps": 999}
    source = tmp_path / "other.json"
    source.write_text(json.dumps(other))
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--output", str(tmp_path / "out"),
                                      "--learning-rate-from", str(source)])
    with pytest.raises(SystemExit):
        augmentation_study.main()  # refuses before any training
    assert "other part-2 settings" in capsys.readouterr().err


def test_the_shipped_record_matches_the_script() -> None:
    record = load_experiment("augmentation_study")
    settings = record["settings"]["augmentation"]
    assert settings["steps"] == augmentation_study.STEPS and len(record["seeds"]) >= 3
    for seed in record["seeds"]:
        for arm in augmentation_study.ARMS:
            run = record["results"]["augmentation"][str(seed)][arm]
            assert run["steps"][-1] == settings["steps"] and len(run["loss"]) == settings["steps"]
            assert len(run["train"]) == len(run["val"]) == settings["steps"] // settings["score_every"] + 1


def test_an_extra_arm_needs_a_suffix(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--arm", "zoom_in", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        augmentation_study.main()  # refuses before any training
    assert "--suffix" in capsys.readouterr().err


def test_a_tiny_zoom_in_run_writes_its_own_record(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(augmentation_study, "SETTINGS", copy.deepcopy(augmentation_study.SETTINGS))
    monkeypatch.setattr(augmentation_study, "PARTS_DIR", tmp_path / "parts")
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--arm", "zoom_in", "--suffix", "zoomin", "--seeds", "0",
                                      "--steps", "2", "--workers", "1", "--output", str(tmp_path / "out")])
    augmentation_study.main()
    record = json.loads((tmp_path / "out" / "augmentation_study_zoomin.json").read_text())
    assert record["seeds"] == [0] and "learning_rate" not in record["settings"]
    assert record["settings"]["augmentation"]["arms"] == ["zoom_in"]
    assert set(record["results"]["augmentation"]["0"]) == {"zoom_in"} and "learning_rate" not in record["results"]
    run = record["results"]["augmentation"]["0"]["zoom_in"]
    assert len(run["loss"]) == 2 and run["steps"][0] == 0 and run["steps"][-1] == 2
    assert record["results"]["reproduce"].startswith(
        "python -m experiments.augmentation_study --seeds 0 --steps 2 --arm zoom_in --suffix zoomin")


def test_the_zoom_in_arm_uses_no_padding() -> None:
    assert augmentation_study.SCALES["zoom_in"][0] >= 1.0 > augmentation_study.SCALES["augmented"][0]


def test_the_shipped_zoom_in_record_matches_the_main_one() -> None:
    main_record, zoom_record = load_experiment("augmentation_study"), load_experiment("augmentation_study_zoomin")
    assert set(zoom_record["seeds"]) <= set(main_record["seeds"]) and len(zoom_record["seeds"]) >= 3
    for key in ("model", "task", "optimizer", "loss", "prior_bias", "threads"):
        assert zoom_record["settings"][key] == main_record["settings"][key]
    shared = ("train_scenes", "val_scenes", "steps", "batch_size", "lr", "score_every")
    assert all(zoom_record["settings"]["augmentation"][key] == main_record["settings"]["augmentation"][key]
               for key in shared)
    for seed in zoom_record["seeds"]:
        run = zoom_record["results"]["augmentation"][str(seed)]["zoom_in"]
        plain = main_record["results"]["augmentation"][str(seed)]["plain"]
        assert run["steps"] == plain["steps"] and len(run["loss"]) == len(plain["loss"])


@pytest.mark.parametrize(("flags", "message"), [
    (["--rates", "0.046"], "--suffix"),
    (["--rates", "0.046", "--suffix", "pick", "--arm", "zoom_in"], "part 2 only"),
    (["--rates", "0", "--suffix", "pick"], "between 0 and 10"),
])
def test_extra_rates_are_refused_without_their_conditions(flags: list[str], message: str, tmp_path: Path, monkeypatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["augmentation_study", *flags, "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        augmentation_study.main()  # refuses before any training
    assert message in capsys.readouterr().err


def test_a_tiny_extra_rate_run_writes_part_two_only(tmp_path: Path, monkeypatch) -> None:
    settings = copy.deepcopy(augmentation_study.SETTINGS)
    settings["learning_rate"].update(steps=2, score_every=1)
    monkeypatch.setattr(augmentation_study, "SETTINGS", settings)
    monkeypatch.setattr(augmentation_study, "PARTS_DIR", tmp_path / "parts")
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--rates", "0.05", "--suffix", "pick", "--seeds", "0",
                                      "--workers", "1", "--output", str(tmp_path / "out")])
    augmentation_study.main()
    record = json.loads((tmp_path / "out" / "augmentation_study_pick.json").read_text())
    assert "augmentation" not in record["settings"] and "augmentation" not in record["results"]
    assert record["settings"]["learning_rate"]["learning_rates"] == [0.05]
    run = record["results"]["learning_rate"]["0"]["0.05"]
    assert run["steps"] == [0, 1, 2] and len(run["loss"]) == 2 and len(run["val"]) == 3 and not run["diverged"]
    assert record["results"]["reproduce"].startswith(
        "python -m experiments.augmentation_study --seeds 0 --rates 0.05 --suffix pick")
    assert [path.name for path in (tmp_path / "parts").iterdir()] == [
        f"learning_rate_0_0.05_{augmentation_study._fingerprint('learning_rate')}.json"]


def test_kept_models_land_next_to_the_record_with_their_hashes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(augmentation_study, "SETTINGS", copy.deepcopy(augmentation_study.SETTINGS))
    monkeypatch.setattr(augmentation_study, "PARTS_DIR", tmp_path / "parts")
    monkeypatch.setattr(augmentation_study, "KEEP_MODELS", False)
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--seeds", "0", "--steps", "2", "--workers", "1",
                                      "--suffix", "models", "--keep-models", "--learning-rate-from",
                                      str(RESULTS_DIR / "augmentation_study.json"), "--output", str(tmp_path / "out")])
    augmentation_study.main()
    record = json.loads((tmp_path / "out" / "augmentation_study_models.json").read_text())
    assert set(record["results"]["checkpoints"]) == {"plain seed 0", "augmented seed 0"}
    assert "--keep-models" in record["results"]["reproduce"]
    for kept in record["results"]["checkpoints"].values():
        checkpoint = load_checkpoint(tmp_path / "out" / kept["file"], expected_sha256=kept["sha256"])
        model = UNet(1, 11, base_channels=8)
        model.load_state_dict(checkpoint["state_dict"])  # the U-Net of the study, stored in float16
        assert checkpoint["metadata"]["steps"] == 2
    assert "checkpoint_sha256" not in record["results"]["augmentation"]["0"]["plain"]
    # the shipped record's part 2 is itself a copy: the new record names where part 2 was first run
    origin = load_experiment("augmentation_study")["settings"]["learning_rate"].get("copied_from")
    assert record["settings"]["learning_rate"]["copied_from"] == (origin or record["settings"]["learning_rate"]["copied_from"])


def test_kept_models_need_a_suffix(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--keep-models", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        augmentation_study.main()
    assert "--suffix" in capsys.readouterr().err


def test_another_number_of_scenes_needs_a_suffix(tmp_path: Path, monkeypatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--train-scenes", "500", "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        augmentation_study.main()
    assert "--suffix" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["augmentation_study", "--train-scenes", "4", "--suffix", "few",
                                      "--output", str(tmp_path)])
    with pytest.raises(SystemExit):
        augmentation_study.main()
    assert "at least the batch size, 8; got 4" in capsys.readouterr().err


def test_the_shipped_renoised_record_pairs_with_the_main_one() -> None:
    """Its arm starts each seed where the main record's arms do, under the same part-1 settings."""
    main_record, renoised = load_experiment("augmentation_study"), load_experiment("augmentation_study_renoised")
    assert renoised["seeds"] == main_record["seeds"] and renoised["settings"]["augmentation"]["arms"] == ["renoised"]
    shared = ("train_scenes", "val_scenes", "steps", "batch_size", "lr", "score_every", "transform")
    assert all(renoised["settings"]["augmentation"][key] == main_record["settings"]["augmentation"][key] for key in shared)
    for seed in renoised["seeds"]:
        run = renoised["results"]["augmentation"][str(seed)]["renoised"]
        plain = main_record["results"]["augmentation"][str(seed)]["plain"]
        assert run["steps"] == plain["steps"] and run["val"][0] == plain["val"][0]  # the same starting network


def test_the_shipped_long_record_repeats_the_main_one_for_its_first_steps() -> None:
    """Lesson 14 reads the 4,000-step runs as the main record's runs continued: both arms, score for score."""
    main_record, long_record = load_experiment("augmentation_study"), load_experiment("augmentation_study_long")
    assert long_record["settings"]["augmentation"]["steps"] == 4000 and len(long_record["seeds"]) >= 3
    shared = ("train_scenes", "val_scenes", "batch_size", "lr", "score_every", "transform")
    assert all(long_record["settings"]["augmentation"][key] == main_record["settings"]["augmentation"][key]
               for key in shared)
    for seed in long_record["seeds"]:
        for arm in ("plain", "augmented"):
            run = long_record["results"]["augmentation"][str(seed)][arm]
            short = main_record["results"]["augmentation"][str(seed)][arm]
            assert run["steps"][-1] == 4000
            count = len(short["steps"])  # scorings up to step 1,500
            assert all(run[key][:count] == short[key] for key in ("steps", "train", "val"))


def test_fixed_copies_are_the_chain_drawn_once_per_seed() -> None:
    """The fixed-copy arm keeps one draw of the augmented arm's chain per scene: repeatable per seed, new per seed."""
    from segedu.core.seeding import seed_everything
    from segedu.datasets import DigitScenes
    from segedu.datasets.transforms import training_transforms

    chain = training_transforms(64, scale=augmentation_study.SCALES["fixed_copy"], flip=False, elastic=(40.0, 4.0))
    augmented = DigitScenes("train", length=8, transform=chain)
    clean = DigitScenes("train", length=8)
    copies = augmentation_study.fixed_copies(augmented, 3)
    seed_everything(augmentation_study.COPY_SEED_OFFSET + 3)
    by_hand = [augmented[index] for index in range(8)]
    for index, (image, mask) in enumerate(by_hand):
        assert torch.equal(copies[index][0], image) and torch.equal(copies[index][1], mask)
    assert torch.equal(augmentation_study.fixed_copies(augmented, 3).tensors[0], copies.tensors[0])
    assert not torch.equal(augmentation_study.fixed_copies(augmented, 4).tensors[0], copies.tensors[0])
    assert all(not torch.equal(copies[index][0], clean[index][0]) for index in range(8))  # warped, not the scene
    assert augmentation_study.SCALES["fixed_copy"] == augmentation_study.SCALES["augmented"]


def test_the_shipped_fixed_copy_record_pairs_with_the_main_one() -> None:
    """Its arm starts each seed where the main record's arms do, under the same part-1 settings and chain."""
    main_record, fixed = load_experiment("augmentation_study"), load_experiment("augmentation_study_fixedcopy")
    assert fixed["seeds"] == main_record["seeds"] and fixed["settings"]["augmentation"]["arms"] == ["fixed_copy"]
    shared = ("train_scenes", "val_scenes", "steps", "batch_size", "lr", "score_every", "transform")
    assert all(fixed["settings"]["augmentation"][key] == main_record["settings"]["augmentation"][key] for key in shared)
    assert fixed["ran_on"] == main_record["ran_on"]  # paired on one CPU model
    for seed in fixed["seeds"]:
        run = fixed["results"]["augmentation"][str(seed)]["fixed_copy"]
        plain = main_record["results"]["augmentation"][str(seed)]["plain"]
        assert run["steps"] == plain["steps"]
        assert run["val"][0] == plain["val"][0] and run["train"][0] == plain["train"][0]  # the same starting network
