"""``framewatch annotate select|export|import``: the labelling loop around annotation tools.

select   choose sentences to label from unlabelled pools (framewatch.annotation.select)
export   write them as Label Studio tasks or doccano JSONL, with the model's labels as pre-annotations
import   read the tools' exports back into framewatch's data format, checked against the schema
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from framewatch.annotation import tools_cli
from framewatch.data import read_records
from framewatch.errors import ConfigError

__all__ = ["main"]


def _load_predictor(checkpoint: Path | None):
    if checkpoint is None:
        return None
    from framewatch.predictor import Predictor

    return Predictor.from_checkpoint(checkpoint)


def _score_with_progress(predictor, texts: list[str], chunk: int = 1024) -> np.ndarray:
    from tqdm.auto import tqdm

    out = np.zeros((len(texts), len(predictor.label_ids)), dtype=np.float32)
    with tqdm(total=len(texts), unit="sent", desc="scoring pool", disable=not sys.stderr.isatty()) as bar:
        for start in range(0, len(texts), chunk):
            out[start : start + chunk] = predictor.score(texts[start : start + chunk])
            bar.update(min(chunk, len(texts) - start))
    return out


def _excluded_ids(paths: list[Path]) -> set[str]:
    ids: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            ids.update(str(json.loads(line)["id"]) for line in handle if line.strip())
    return ids


def _write_jsonl(rows, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    partial.replace(output)


def run_select(args: argparse.Namespace) -> int:
    from framewatch.annotation.select import parse_mix, select, selection_record
    from framewatch.config import load_config_for_checkpoint

    config = load_config_for_checkpoint(args.config, args.set, args.checkpoint)
    mix = parse_mix(args.mix)
    records = [r for path in args.pool for r in read_records(path)]
    if args.exclude:
        excluded = _excluded_ids(args.exclude)
        records = [r for r in records if str(r.get("id")) not in excluded]
    texts = [r["text"] for r in records]
    predictor = _load_predictor(args.checkpoint)
    scores = thresholds = None
    label_ids = config.label_ids
    if predictor is not None:
        label_ids = predictor.label_ids
        scores = _score_with_progress(predictor, texts)
        thresholds = predictor.thresholds
    chosen = select(
        texts,
        args.n,
        mix,
        label_ids=label_ids,
        scores=scores,
        thresholds=thresholds,
        cues=config.annotation.cues,
        seed=args.seed,
        target_labels=args.labels,
    )
    _write_jsonl((selection_record(records[s.index], s, scores, label_ids) for s in chosen), args.output)
    counts: dict[str, int] = {}
    for s in chosen:
        counts[s.stratum] = counts.get(s.stratum, 0) + 1
    print(f"{len(chosen)} sentences written to {args.output}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _add_select(sub) -> None:
    from framewatch.cli import add_config_arguments

    p = sub.add_parser("select", help="choose sentences to label from unlabelled pools")
    add_config_arguments(p)
    p.add_argument("--pool", type=Path, nargs="+", required=True, help="JSONL/CSV files with 'text' (and 'id').")
    p.add_argument("--n", type=int, required=True, help="How many sentences to choose.")
    p.add_argument(
        "--mix",
        default="random=0.25,uncertain=0.25,top=0.25,cue=0.25",
        help="Strategies and their shares, e.g. random=0.5,top=0.3,cue=0.2 (random, uncertain, top, cue).",
    )
    p.add_argument("--checkpoint", type=Path, default=None, help="Model for the uncertain and top strategies.")
    p.add_argument("--exclude", type=Path, nargs="*", default=[], help="Files whose ids must not be chosen again.")
    p.add_argument("--seed", type=int, default=0, help="Same seed, same pool: same selection.")
    p.add_argument(
        "--labels", nargs="+", default=None, help="Only these labels for the cue, top and uncertain strategies."
    )
    p.add_argument("--output", type=Path, required=True, help="JSONL of the chosen rows with 'stratum'.")
    p.set_defaults(run=run_select)


def main(argv: list[str] | None = None) -> int:
    from framewatch.cli import configure_logging

    parser = argparse.ArgumentParser(prog="framewatch annotate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    _add_select(sub)
    tools_cli.add_commands(sub)
    args = parser.parse_args(argv)
    configure_logging()
    if getattr(args, "n", 1) is not None and getattr(args, "n", 1) < 1:
        raise ConfigError("--n must be at least 1")
    return args.run(args)
