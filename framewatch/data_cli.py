"""``framewatch data validate FILE...``: check dataset files and print label counts."""

from __future__ import annotations

import argparse
from pathlib import Path

from framewatch.config import load_config
from framewatch.data import NEAR_DUPLICATE_JACCARD, validate_files

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from framewatch.cli import add_config_arguments

    parser = argparse.ArgumentParser(prog="framewatch data", description="Dataset tools.")
    sub = parser.add_subparsers(dest="action", required=True)
    validate = sub.add_parser("validate", help="Report every malformed row, duplicate and near-duplicate at once.")
    add_config_arguments(validate)
    validate.add_argument("files", nargs="+", type=Path, help="JSONL or CSV files, checked together.")
    validate.add_argument(
        "--near-duplicate-threshold",
        type=float,
        default=NEAR_DUPLICATE_JACCARD,
        help="Word-set Jaccard similarity above which two sentences count as near-duplicates.",
    )
    args = parser.parse_args(argv)
    config = load_config(args.config, args.set)
    report = validate_files(
        args.files,
        config.label_ids,
        near_duplicate_threshold=args.near_duplicate_threshold,
        corpus_dir=config.corpora.dir,
    )
    print(report.render())
    return 0 if report.ok else 1
