"""The ``segedu`` command line: ``doctor``, ``data summary`` and ``train``.

Run ``segedu --help`` (or ``python -m segedu --help``) for the list of commands. A user error
(a bad argument, an output that cannot be written) exits with status 2 and one line that names
the argument and the rule; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


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


def _positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (1 or more); got {value}")
    return value


def _positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text}")
    return value


def _non_negative_int(text: str) -> int:
    """argparse type: an int >= 0."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer; got {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number; got {text!r}") from None


class _OneLineErrors(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block), pointing to ``--help``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one sub-command per task."""
    parser = _OneLineErrors(prog="segedu", description="Tools for the segedu course.")
    commands = parser.add_subparsers(dest="command", required=True)

    doctor = commands.add_parser("doctor", help="check that this machine can run the lessons")
    doctor.set_defaults(handler=_doctor)

    data = commands.add_parser("data", help="inspect the offline datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    summary = data_commands.add_parser("summary", help="print class frequencies of every split")
    summary.add_argument("--length", type=_positive_int, default=200, help="scenes per split to count (default 200)")
    summary.set_defaults(handler=_data_summary)

    train = commands.add_parser("train", help="train a model on an offline dataset (reproducible)")
    train.add_argument("model", help="model name, e.g. unet or fcn8s")
    train.add_argument("dataset", choices=["shapes", "digits"], help="offline dataset")
    destination = train.add_mutually_exclusive_group()
    destination.add_argument(
        "--output", default=None, help="checkpoint path (default: a new file runs/MODEL-DATASET-<time>.pt)"
    )
    destination.add_argument(
        "--ship", action="store_true",
        help="replace the shipped checkpoint in segedu/training/checkpoints/ and its manifest entry (needs --force)",
    )
    train.add_argument("--force", action="store_true", help="allow replacing an existing checkpoint file")
    train.add_argument("--steps", type=_positive_int, default=None, help="optimiser steps (overrides the recipe)")
    train.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    train.add_argument("--minutes", type=_positive_float, default=None,
                       help="train from scratch for this many minutes on the CPU instead (e.g. 3)")
    train.add_argument("--threads", type=_positive_int, default=None,
                       help="CPU threads (default: the recipe's, 2 for SegNet and 1 for the others; "
                            "every core with --minutes)")
    train.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")
    train.add_argument("--prior-bias", action="store_true",
                       help="start the last layer's bias at the class frequencies of the training scenes "
                            "(SegNet's shipped recipe does; for the other models not with --ship)")
    train.set_defaults(handler=_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``segedu`` console script; returns the exit status.

    Bad arguments exit with status 2 (``SystemExit``) after one line on stderr; Ctrl-C during a
    command returns 130.
    """
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return arguments.handler(arguments)
    except ValueError as error:
        parser.exit(EXIT_USAGE, f"segedu {arguments.command}: error: {error}\n")
    except KeyboardInterrupt:
        print(f"segedu {arguments.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
