"""``framewatch evaluate``: score labelled files with a checkpoint and write a report.

Writes ``report.md``, ``report.json`` and PNG figures into ``--report DIR``;
with ``--gate`` it also applies the quality gate and exits 1 when it fails.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from framewatch.evaluation import figures
from framewatch.evaluation.baseline import TfidfBaseline
from framewatch.evaluation.behavioral import load_suites, run_suites
from framewatch.evaluation.calibration import reliability
from framewatch.evaluation.gate import check_gate, read_accepted, write_accepted
from framewatch.evaluation.metrics import bootstrap_intervals, classification_metrics
from framewatch.evaluation.report import render_markdown
from framewatch.training.thresholds import tune_thresholds

from framewatch.config import FramewatchConfig, load_config
from framewatch.data import Example, multi_hot, read_examples
from framewatch.predictor import Predictor
from framewatch.provenance import git_commit, utc_now

__all__ = ["confident_errors", "evaluate", "main"]

logger = logging.getLogger("framewatch.evaluate")


def confident_errors(
    examples: list[Example],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray,
    label_ids: list[str],
    limit: int,
) -> dict[str, list[dict[str, Any]]]:
    """Per label, the errors the model was surest of: false positives by score, false negatives by 1-score."""
    out = {}
    for k, label in enumerate(label_ids):
        wrong = np.flatnonzero(y_true[:, k] != y_pred[:, k])
        confidence = np.where(y_pred[wrong, k] == 1, y_score[wrong, k], 1 - y_score[wrong, k])
        out[label] = [
            {
                "kind": "false positive" if y_pred[i, k] else "false negative",
                "score": round(float(y_score[i, k]), 4),
                "text": examples[i].text,
                "gold": list(examples[i].labels),
                "predicted": [lab for j, lab in enumerate(label_ids) if y_pred[i, j]],
            }
            for i in wrong[np.argsort(-confidence, kind="stable")][:limit]
        ]
    return out


def _summarise(y_true, y_pred, y_score, label_ids, n_boot: int, seed: int) -> dict[str, Any]:
    return {
        "metrics": classification_metrics(y_true, y_pred, y_score, label_ids),
        "intervals": bootstrap_intervals(y_true, y_pred, y_score, label_ids, n_samples=n_boot, seed=seed),
    }


def _baseline(
    config: FramewatchConfig,
    train: Path,
    dev: Path | None,
    label_ids: list[str],
    texts: list[str],
    y_true: np.ndarray,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    train_examples = read_examples(train, label_ids)
    model = TfidfBaseline(seed=seed).fit(
        [e.text for e in train_examples], multi_hot([e.labels for e in train_examples], label_ids)
    )
    if dev is not None:
        dev_examples = read_examples(dev, label_ids)
        dev_targets = multi_hot([e.labels for e in dev_examples], label_ids)
        thresholds = tune_thresholds(
            dev_targets, model.score([e.text for e in dev_examples]), label_ids, config.thresholds
        )
    else:
        thresholds = {label: config.thresholds.default for label in label_ids}
    scores = model.score(texts)
    row = np.array([thresholds[label] for label in label_ids])
    return {
        "train": str(train),
        "thresholds": thresholds,
        **_summarise(y_true, (scores >= row).astype(int), scores, label_ids, n_boot, seed),
    }


def evaluate(
    config: FramewatchConfig,
    checkpoint: Path,
    data: list[Path],
    report_dir: Path,
    *,
    baseline_train: Path | None,
    baseline_dev: Path | None,
    gate: bool = False,
    device: str = "auto",
) -> dict[str, Any]:
    """Build the report dict, write its renderings and figures, and return it."""
    predictor = Predictor.from_checkpoint(checkpoint, device=device, dtype="fp32")
    label_ids = predictor.label_ids
    examples = read_examples(data, label_ids)
    texts = [e.text for e in examples]
    y_true = multi_hot([e.labels for e in examples], label_ids).astype(int)
    y_score = predictor.score(texts)
    y_pred = predictor.decide(y_score).astype(int)
    settings = config.evaluation
    seed = config.training.seed

    report: dict[str, Any] = {
        "created": utc_now(),
        "git_commit": git_commit(),
        "checkpoint": {
            "id": predictor.metadata.checkpoint_id,
            "path": str(checkpoint),
            "base_model": predictor.metadata.base_model,
            "thresholds": predictor.metadata.thresholds,
        },
        "data": [str(p) for p in data],
        "labels": label_ids,
        "model": _summarise(y_true, y_pred, y_score, label_ids, settings.bootstrap_samples, seed),
        "baseline": None,
        "calibration": reliability(y_true, y_score),
        "confident_errors": confident_errors(examples, y_true, y_pred, y_score, label_ids, settings.confident_errors),
    }
    if baseline_train is not None:
        report["baseline"] = _baseline(
            config, baseline_train, baseline_dev, label_ids, texts, y_true, settings.bootstrap_samples, seed
        )
    report["behavioral"] = run_suites(
        load_suites(settings.behavioral_dir), predictor.score, label_ids, predictor.thresholds
    )
    if gate:
        result = check_gate(
            report["model"]["metrics"]["macro"]["f1"],
            floor=settings.macro_f1_floor,
            accepted=read_accepted(settings.accepted_baseline),
            max_drop=settings.max_drop,
        )
        report["gate"] = result.as_dict()

    report_dir.mkdir(parents=True, exist_ok=True)
    thresholds = predictor.thresholds
    figures.plot_pr_curves(y_true, y_score, label_ids, thresholds, report_dir / "pr_curves.png")
    figures.plot_cooccurrence(y_true, y_pred, label_ids, report_dir / "cooccurrence.png")
    figures.plot_reliability(report["calibration"], report_dir / "reliability.png")
    (report_dir / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (report_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    from framewatch.cli import add_config_arguments, configure_logging

    parser = argparse.ArgumentParser(prog="framewatch evaluate", description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    parser.add_argument("--checkpoint", type=Path, default=None, help="Checkpoint (default: serving.checkpoint).")
    parser.add_argument("--data", type=Path, nargs="+", default=None, help="Labelled files (default: data.test).")
    parser.add_argument("--report", type=Path, default=Path("reports/latest"), help="Report directory.")
    parser.add_argument(
        "--baseline-train", type=Path, default=None, help="Training file for the TF-IDF baseline (default: data.train)."
    )
    parser.add_argument("--no-baseline", action="store_true", help="Skip the TF-IDF baseline.")
    parser.add_argument("--gate", action="store_true", help="Apply the quality gate; exit 1 when it fails.")
    parser.add_argument(
        "--accept",
        action="store_true",
        help="Record this macro-F1 as the accepted result (evaluation.accepted_baseline).",
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = parser.parse_args(argv)
    configure_logging()
    config = load_config(args.config, args.set)
    data = args.data or ([config.data.test] if config.data.test else None)
    if not data:
        parser.error("--data is required when the config has no data.test")
    report = evaluate(
        config,
        args.checkpoint or config.serving.checkpoint,
        data,
        args.report,
        baseline_train=None if args.no_baseline else (args.baseline_train or config.data.train),
        baseline_dev=None if args.no_baseline else config.data.dev,
        gate=args.gate,
        device=args.device,
    )
    macro = report["model"]["metrics"]["macro"]["f1"]
    print(f"framewatch macro-F1: {macro:.4f}")
    if report["baseline"]:
        print(f"baseline (TF-IDF + logistic regression) macro-F1: {report['baseline']['metrics']['macro']['f1']:.4f}")
    for kind, counts in report["behavioral"]["by_type"].items():
        print(f"behavioural {kind}: {counts['passed']}/{counts['total']} passed")
    print(f"report: {args.report / 'report.md'}")
    if args.accept:
        write_accepted(
            config.evaluation.accepted_baseline,
            macro,
            checkpoint=report["checkpoint"]["id"],
            commit=report["git_commit"],
            data=report["data"],
        )
        print(f"accepted result written to {config.evaluation.accepted_baseline}")
    if args.gate:
        from framewatch.evaluation.gate import GateResult

        result = GateResult(**report["gate"])
        print(result.render())
        return 0 if result.passed else 1
    return 0
