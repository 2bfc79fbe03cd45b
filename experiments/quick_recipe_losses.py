"""Why some seeds of the three-minute recipe stalled, and what the recipe does about it.

The recipe of :mod:`segedu.training.quick` counts seconds, so its result depends on the machine's speed and
load. This study counts steps instead: 1000 steps of batch 32 on the digit scenes, about what 180 s give on
2 quiet cores, with the recipe's one-cycle schedule spread over those steps, one thread, so that every run is
repeatable on any machine. It trains the shipped-size U-Net for three seeds with:

* ``cross_entropy``: the loss alone, the bias of the last layer at its default start;
* ``cross_entropy+dice``: soft Dice added (every class weighs the same however few pixels it has);
* ``cross_entropy+dice, prior``: and the last layer's bias started at the log class frequencies
  (:func:`segedu.training.quick.start_at_class_frequencies`), the recipe's default.

Run ``python -m experiments.quick_recipe_losses`` (9 runs of 3.5 CPU-minutes on an AMX CPU, about 10 without AMX).
"""

from __future__ import annotations

import argparse

import torch
from tqdm.auto import tqdm

from segedu.core.seeding import seed_everything
from segedu.course.experiments import save_experiment
from segedu.models import get_model
from segedu.training.evaluation import evaluate
from segedu.training.quick import _LOSSES, one_cycle_lr, render_pool, start_at_class_frequencies
from segedu.training.recipes import RECIPES, offline_dataset, training_scenes

VARIANTS = {
    "cross_entropy": ("cross_entropy", False),
    "cross_entropy+dice": ("cross_entropy+dice", False),
    "cross_entropy+dice, prior": ("cross_entropy+dice", True),
}
SETTINGS = {"model": "unet", "dataset": "digits", "steps": 1000, "batch_size": 32, "peak_lr": 5e-3,
            "warmup_fraction": 0.1, "weight_decay": 1e-4, "pool_size": 12000, "bfloat16": True, "threads": 1}


def run(loss: str, prior: bool, seed: int) -> dict[str, object]:
    """Train one model for ``SETTINGS['steps']`` steps; return its test mean IoU and loss curve."""
    torch.set_num_threads(SETTINGS["threads"])
    seed_everything(seed)
    test = offline_dataset(SETTINGS["dataset"], "test")
    model = get_model("unet", in_channels=test.channels, num_classes=test.num_classes,
                      **RECIPES[("unet", SETTINGS["dataset"])].model_kwargs)
    torch.manual_seed(seed)
    images, masks = render_pool(training_scenes(SETTINGS["dataset"], SETTINGS["pool_size"]), SETTINGS["pool_size"])
    if prior:
        start_at_class_frequencies(model, masks)
    optimizer = torch.optim.AdamW(model.parameters(), lr=SETTINGS["peak_lr"], weight_decay=SETTINGS["weight_decay"])
    sampler = torch.Generator().manual_seed(seed)
    curve = []
    model.train()
    for step in range(SETTINGS["steps"]):
        for group in optimizer.param_groups:
            group["lr"] = one_cycle_lr(step / SETTINGS["steps"], peak_lr=SETTINGS["peak_lr"],
                                       warmup_fraction=SETTINGS["warmup_fraction"])
        batch = torch.randint(0, SETTINGS["pool_size"], (SETTINGS["batch_size"],), generator=sampler)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=SETTINGS["bfloat16"]):
            logits = model(images[batch])  # (B, K, H, W)
        loss_value = _LOSSES[loss](logits.float(), masks[batch])
        loss_value.backward()
        optimizer.step()
        if (step + 1) % 50 == 0:
            curve.append([step + 1, round(loss_value.item(), 4)])
    model.eval()
    return {"test_mean_iou": round(float(evaluate(model, test)["mean_iou"]), 4), "loss_curve": curve}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.quick_recipe_losses", description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    arguments = parser.parse_args()
    cases = [(name, seed) for name in VARIANTS for seed in arguments.seeds]
    results: dict[str, dict[str, object]] = {name: {} for name in VARIANTS}
    for name, seed in tqdm(cases, desc="runs", unit="run"):
        results[name][str(seed)] = run(*VARIANTS[name], seed)
    save_experiment("quick_recipe_losses", command="python -m experiments.quick_recipe_losses",
                    settings=SETTINGS, seeds=arguments.seeds, results=results)


if __name__ == "__main__":
    main()
