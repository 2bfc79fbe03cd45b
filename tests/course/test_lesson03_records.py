"""Lesson 03's stored study: its checkpoint matches the record, and its curves agree with its numbers."""

from __future__ import annotations

import torch

from segedu.course.experiments import RESULTS_DIR, load_experiment
from segedu.models import TinyClassifier
from segedu.training.checkpoints import file_sha256, load_checkpoint


def test_the_seed_0_checkpoint_is_the_one_the_record_names() -> None:
    record = load_experiment("lesson03_classifier_probes")
    stored = record["settings"]["checkpoint"]
    path = RESULTS_DIR / stored["file"]
    assert file_sha256(path) == stored["sha256"]
    checkpoint = load_checkpoint(path, expected_sha256=stored["sha256"])
    assert checkpoint["metadata"]["seed"] == stored["seed"] == 0
    model = TinyClassifier(3, 3, base_channels=8, image_size=32, hidden_features=64)
    model.load_state_dict(checkpoint["state_dict"])  # strict: every tensor present, shapes right
    untrained = TinyClassifier(3, 3, base_channels=8, image_size=32, hidden_features=64)
    assert not torch.equal(model.fc1.weight, untrained.fc1.weight)


def test_loss_curves_cover_every_step_and_end_at_the_final_loss() -> None:
    record = load_experiment("lesson03_classifier_probes")
    every, steps = record["settings"]["loss_curve_every"], record["settings"]["steps"]
    for seed, networks in record["results"].items():
        assert "loss_curve" not in networks["untrained"], seed
        for kind in ("fc", "gap"):
            curve = networks[kind]["loss_curve"]
            assert len(curve) == steps // every, (seed, kind)
            assert abs(curve[-1] - networks[kind]["final_loss"]) < 1e-3, (seed, kind)  # both: the last 50 steps
            assert curve[-1] < curve[0], (seed, kind)


def test_silent_units_are_counts_of_fc1_units() -> None:
    record = load_experiment("lesson03_classifier_probes")
    for seed, networks in record["results"].items():
        for kind, key in (("untrained", "silent_fc1_units"), ("fc", "silent_fc1_units"),
                          ("fc", "silent_fc1_units_initial_fc1")):
            assert 0 <= networks[kind][key] <= 64, (seed, kind, key)


def test_trained_networks_store_training_and_validation_accuracy_and_cpu_time() -> None:
    record = load_experiment("lesson03_classifier_probes")
    for seed, networks in record["results"].items():
        assert "train_all_right" not in networks["untrained"], seed
        for kind in ("fc", "gap"):
            run = networks[kind]
            assert len(run["train_accuracy"]) == len(run["val_accuracy"]) == 3, (seed, kind)
            assert 0 <= run["train_all_right"] <= min(run["train_accuracy"]) <= 1, (seed, kind)
            assert 0 <= run["val_all_right"] <= min(run["val_accuracy"]) <= 1, (seed, kind)
            assert run["train_cpu_seconds"] > 0, (seed, kind)


def test_the_head_control_repeats_the_studys_networks() -> None:
    record = load_experiment("lesson03_classifier_probes")
    control = load_experiment("lesson03_head_control")
    assert control["seeds"] == record["seeds"]
    assert control["settings"]["steps"] == record["settings"]["steps"]
    for seed, networks in control["results"].items():
        assert networks["trained"]["probe_error"] == record["results"][seed]["fc"]["probe_error"], seed
        assert networks["untrained"]["probe_error"] == record["results"][seed]["untrained"]["probe_error"], seed
        mixed = networks["trained stages, initial head"]["probe_error"]["whole"]
        for layer in ("input", "stage1", "stage2", "stage3"):  # the stages are the trained ones
            assert mixed[layer] == networks["trained"]["probe_error"]["whole"][layer], (seed, layer)
