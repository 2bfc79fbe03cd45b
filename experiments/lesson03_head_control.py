"""Lesson 03's control: is fc1 hard to read because of its training or because of its shape?

`lesson03_classifier_probes` shows a linear probe reading a shape's position from fc1 less well than from
stage 3, in the untrained network already and by more after training. Two things change between those
two networks: the stages are trained, and fc1 is trained. This control separates them. For each seed it
trains the FC classifier exactly as that study does (same scenes, steps, batches and learning rate), then
probes fc1 in three networks that share the seed's initial weights:

- ``untrained``: every layer at its initial weights;
- ``trained``: every layer trained;
- ``trained stages, initial head``: the trained stages with fc1, fc2 and the classifier put back to their
  initial weights (what fc1 would give if only the stages had learned).

If fc1 reads as well in the third network as in the second, training the head did not make position harder
to read; if it reads better, the head's training removed some. One CPU thread, as in the lesson.

    python -m experiments.lesson03_head_control        # about 1.5 minutes per seed on one quiet CPU thread
"""

from __future__ import annotations

import argparse
import copy

import torch
from tqdm.auto import tqdm

from experiments.lesson03_classifier_probes import SETTINGS as PROBE_SETTINGS
from experiments.lesson03_classifier_probes import build, presence_data, probe_all, probe_data
from segedu.analysis.probes import chance_error
from segedu.course.experiments import save_experiment
from segedu.training.presence import presence_accuracy, train_presence_classifier

NAME = "lesson03_head_control"
HEAD_LAYERS = ("fc1", "fc2", "classifier")
SETTINGS = {
    **{key: value for key, value in PROBE_SETTINGS.items() if key != "models"},
    "model": PROBE_SETTINGS["models"]["fc"],
    "networks": {
        "untrained": "every layer at the seed's initial weights",
        "trained": "every layer trained",
        "trained stages, initial head": "trained stage1-3; fc1, fc2 and classifier at the seed's initial weights",
    },
}


def with_initial_head(trained: torch.nn.Module, initial: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``trained`` whose fully connected layers are ``initial``'s."""
    mixed = copy.deepcopy(trained)
    for name in HEAD_LAYERS:
        getattr(mixed, name).load_state_dict(getattr(initial, name).state_dict())
    return mixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    arguments = parser.parse_args()
    torch.set_num_threads(SETTINGS["threads"])
    train_images, train_targets, val_images, val_targets = presence_data()
    images, centres = probe_data()
    results: dict[str, dict] = {}
    for seed in tqdm(arguments.seeds, desc="seeds"):
        initial = build("fc", seed)
        trained = copy.deepcopy(initial)
        train_presence_classifier(trained, train_images, train_targets, steps=SETTINGS["steps"],
                                  batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"], seed=seed)
        networks = {"untrained": initial, "trained": trained,
                    "trained stages, initial head": with_initial_head(trained, initial)}
        results[str(seed)] = {}
        for name, network in networks.items():
            _, all_right = presence_accuracy(network, val_images, val_targets)
            results[str(seed)][name] = {"val_all_right": round(all_right, 4),
                                        "probe_error": probe_all(network, images, centres)}
    settings = {**SETTINGS, "chance_error": round(chance_error(centres["train"], centres["test"]), 4)}
    save_experiment(NAME, command=f"python -m experiments.{NAME}", settings=settings, seeds=arguments.seeds,
                    results=results)


if __name__ == "__main__":
    main()
