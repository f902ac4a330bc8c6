"""The ``framewatch`` command line: one entry point, one sub-command per job.

Every sub-command takes ``--config FILE`` and repeatable ``--set key=value``;
errors from framewatch itself print one readable line (no traceback) and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from framewatch.errors import FramewatchError

__all__ = ["add_config_arguments", "configure_logging", "main"]

COMMANDS = {
    "train": ("framewatch.training.train", "fine-tune the base model into a checkpoint"),
    "predict": ("framewatch.batch_predict", "score a JSONL, CSV or Parquet file with a checkpoint (resumable)"),
    "serve": ("framewatch.serving.server", "run the HTTP inference server"),
    "evaluate": ("framewatch.evaluation.evaluate", "write an evaluation report; optionally gate on quality"),
    "data": ("framewatch.data_cli", "dataset tools: framewatch data validate FILE..."),
    "annotate": ("framewatch.annotation.cli", "labelling loop: select, export to and import from annotation tools"),
}


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ["FRAMEWATCH_CONFIG"]) if os.environ.get("FRAMEWATCH_CONFIG") else None,
        help="YAML config file (env FRAMEWATCH_CONFIG; default configs/default.yaml, or, for a command given "
        "--checkpoint outside the repository, the config stored in the checkpoint).",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Override a config value, e.g. --set training.epochs=3 (repeatable).",
    )


def configure_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("FRAMEWATCH_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _usage() -> str:
    lines = ["usage: framewatch COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<10} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    lines += ["", "framewatch COMMAND --help shows a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from framewatch import __version__

        print(__version__)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"framewatch: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    try:
        return module.main(rest)
    except FramewatchError as exc:
        print(f"framewatch {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"framewatch {command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
