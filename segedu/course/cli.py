"""The ``segedu`` command line: ``doctor``, ``data summary`` and ``train``.

Run ``segedu --help`` (or ``python -m segedu --help``) for the list of commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def _doctor(arguments: argparse.Namespace) -> int:
    from segedu.course.doctor import main as doctor_main

    return doctor_main()


def _data_summary(arguments: argparse.Namespace) -> int:
    from segedu.datasets.summary import data_summary_text

    print(data_summary_text(length=arguments.length))
    return 0


def _train(arguments: argparse.Namespace) -> int:
    from segedu.training.recipes import train_from_command_line

    return train_from_command_line(arguments)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(prog="segedu", description="Tools for the segedu course.")
    commands = parser.add_subparsers(dest="command", required=True)

    doctor = commands.add_parser("doctor", help="check that this machine can run the lessons")
    doctor.set_defaults(handler=_doctor)

    data = commands.add_parser("data", help="inspect the offline datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    summary = data_commands.add_parser("summary", help="print class frequencies of every split")
    summary.add_argument("--length", type=int, default=200, help="scenes per split to count (default 200)")
    summary.set_defaults(handler=_data_summary)

    train = commands.add_parser("train", help="train a model on an offline dataset (reproducible)")
    train.add_argument("model", help="model name, e.g. unet or fcn8s")
    train.add_argument("dataset", choices=["shapes", "digits"], help="offline dataset")
    train.add_argument("--output", default=None, help="checkpoint path (default: segedu/training/checkpoints/)")
    train.add_argument("--steps", type=int, default=None, help="optimiser steps (overrides the recipe)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    train.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")
    train.set_defaults(handler=_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``segedu`` console script; returns the exit status."""
    arguments = build_parser().parse_args(argv)
    return arguments.handler(arguments)
