"""``framewatch annotate export`` and ``import``: files for Label Studio and doccano, and back."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from framewatch.data import read_records

__all__ = ["add_commands", "uncertainty"]

FORMATS = ("label-studio", "doccano")


def uncertainty(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """1 where some label's score sits on its threshold, 0 where every score is as far from it as it can be."""
    reach = np.maximum(thresholds, 1 - thresholds)
    return np.max(1 - np.abs(scores - thresholds) / reach, axis=1)


def run_export(args: argparse.Namespace) -> int:
    from framewatch.annotation.formats import label_studio_config, to_doccano, to_label_studio
    from framewatch.checkpoint import load_metadata
    from framewatch.config import load_config

    rows = read_records(args.input)
    predicted = unsure = None
    model_version = ""
    if args.checkpoint is not None:
        from framewatch.predictor import Predictor

        predictor = Predictor.from_checkpoint(args.checkpoint)
        scores = predictor.score([r["text"] for r in rows])
        predicted = [p.labels for p in predictor.predict([r["text"] for r in rows])]
        unsure = uncertainty(scores, predictor.thresholds)
        labels = predictor.metadata.labels
        model_version = load_metadata(args.checkpoint).checkpoint_id
    else:
        labels = load_config(args.config, args.set).labels
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.format == "label-studio":
        tasks = to_label_studio(rows, predicted, unsure, model_version)
        args.output.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
        config_path = args.output.with_name(args.output.stem + ".label_config.xml")
        config_path.write_text(label_studio_config(labels), encoding="utf-8")
        print(f"{len(tasks)} Label Studio tasks written to {args.output}; labelling config: {config_path}")
    else:
        with args.output.open("w", encoding="utf-8") as handle:
            for line in to_doccano(rows, predicted):
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        print(f"{len(rows)} doccano examples written to {args.output}; labels: {', '.join(x.id for x in labels)}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from framewatch.annotation.formats import from_doccano, from_label_studio
    from framewatch.config import load_config

    label_ids = load_config(args.config, args.set).label_ids
    if args.format == "label-studio":
        rows = [row for path in args.input for row in from_label_studio(path, label_ids, use=args.use)]
    else:
        rows = from_doccano(args.input, label_ids)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    disagreements = sum(1 for row in rows if row.get("agreement") is False)
    print(f"{len(rows)} rows written to {args.output}; {disagreements} with annotators disagreeing")
    return 0


def add_commands(sub) -> None:
    from framewatch.cli import add_config_arguments

    export = sub.add_parser("export", help="write sentences as Label Studio tasks or doccano JSONL")
    add_config_arguments(export)
    export.add_argument("--input", required=True, help="JSONL/CSV rows with 'text' (e.g. from annotate select).")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--checkpoint", type=Path, default=None, help="Pre-annotate with this model's labels.")
    export.add_argument("--output", type=Path, required=True)
    export.set_defaults(run=run_export)

    imp = sub.add_parser("import", help="read Label Studio or doccano exports into framewatch's data format")
    add_config_arguments(imp)
    imp.add_argument("--input", type=Path, nargs="+", required=True, help="Export file(s); doccano: one per annotator.")
    imp.add_argument("--format", choices=FORMATS, required=True)
    imp.add_argument(
        "--use",
        choices=["annotations", "predictions"],
        default="annotations",
        help="Label Studio: read the annotators' results (default) or the pre-annotations.",
    )
    imp.add_argument("--output", type=Path, required=True, help="JSONL in framewatch's data format.")
    imp.set_defaults(run=run_import)
