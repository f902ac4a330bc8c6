"""``framewatch evaluate``: score each evaluation set with a checkpoint and write one report.

Every set of ``evaluation.sets`` (framing-v1, framing-v2, realtext-v1 by
default) is scored on its own and shown side by side: metrics with bootstrap
intervals, a TF-IDF baseline trained in the same run, and, where a set has a
random stratum of real text, the base rate and the false alarms per 1,000
random real sentences, the figure a media monitor feels first. Writes
``report.md``, ``report.json`` and PNG figures into ``--report DIR``; with
``--gate`` it applies each set's gate and exits 1 when one fails.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from framewatch.annotation.select import RANDOM_STRATUM
from framewatch.config import EvaluationSet, FramewatchConfig, load_config
from framewatch.data import Example, multi_hot, read_examples
from framewatch.evaluation import figures
from framewatch.evaluation.baseline import TfidfBaseline
from framewatch.evaluation.behavioral import load_suites, run_suites
from framewatch.evaluation.calibration import reliability
from framewatch.evaluation.gate import GateResult, check_gate, read_accepted, write_accepted
from framewatch.evaluation.report import render_markdown
from framewatch.metrics import bootstrap_intervals, classification_metrics
from framewatch.predictor import Predictor
from framewatch.provenance import git_commit, utc_now
from framewatch.thresholds import decide, threshold_row, tune_thresholds

__all__ = ["ScoredSet", "confident_errors", "evaluate", "main", "random_stratum_rates"]

logger = logging.getLogger("framewatch.evaluate")


class ScoredSet(NamedTuple):
    """One evaluation set's examples, gold labels, decisions and scores, in the schema's label order."""

    examples: list[Example]
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray
    label_ids: list[str]


def confident_errors(scored: ScoredSet, limit: int) -> dict[str, list[dict[str, Any]]]:
    """Per label, the errors the model was surest of: false positives by score, false negatives by 1-score."""
    examples, y_true, y_pred, y_score, label_ids = scored
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


def random_stratum_rates(scored: ScoredSet, limit: int) -> dict[str, Any] | None:
    """Base rate, flag rate and false alarms on the rows of the random stratum; None when a set has none.

    A false alarm is a random sentence flagged with a label its gold labels lack;
    only the random stratum measures how often that happens on real text.
    """
    examples, y_true, y_pred, y_score, label_ids = scored
    rows = np.array([i for i, e in enumerate(examples) if e.fields.get("stratum") == RANDOM_STRATUM], dtype=int)
    if not len(rows):
        return None
    gold, pred, score = y_true[rows].astype(bool), y_pred[rows].astype(bool), y_score[rows]
    wrong = pred & ~gold
    alarm = wrong.any(axis=1)
    worst = np.argsort(-np.where(wrong, score, -1).max(axis=1), kind="stable")
    return {
        "n": int(len(rows)),
        "base_rate": float(gold.any(axis=1).mean()),
        "flag_rate": float(pred.any(axis=1).mean()),
        "false_alarm_rate": float(alarm.mean()),
        "false_alarms_per_1000": round(1000 * float(alarm.mean()), 1),
        "per_label_false_alarm_rate": {label: float(wrong[:, k].mean()) for k, label in enumerate(label_ids)},
        "worst_false_alarms": [
            {
                "id": examples[rows[i]].fields.get("id"),
                "source": examples[rows[i]].fields.get("source"),
                "text": examples[rows[i]].text,
                "predicted": [lab for k, lab in enumerate(label_ids) if wrong[i, k]],
                "score": round(float(score[i][wrong[i]].max()), 4),
            }
            for i in worst[: min(limit, int(alarm.sum()))]
        ],
    }


def _summarise(y_true, y_pred, y_score, label_ids, n_boot: int, seed: int) -> dict[str, Any]:
    return {
        "metrics": classification_metrics(y_true, y_pred, y_score, label_ids),
        "intervals": bootstrap_intervals(y_true, y_pred, y_score, label_ids, n_samples=n_boot, seed=seed),
    }


class _Baseline:
    """The TF-IDF baseline, trained once per run on data.train with thresholds tuned on data.dev."""

    def __init__(self, config: FramewatchConfig, label_ids: list[str]):
        corpus = config.corpora.dir
        train = read_examples(config.data.train, label_ids, corpus_dir=corpus)
        self.model = TfidfBaseline(seed=config.training.seed).fit(
            [e.text for e in train], multi_hot([e.labels for e in train], label_ids)
        )
        dev = read_examples(config.data.dev, label_ids, corpus_dir=corpus)
        tuned = tune_thresholds(
            multi_hot([e.labels for e in dev], label_ids),
            self.model.score([e.text for e in dev]),
            label_ids,
            config.thresholds,
        )
        self.thresholds = tuned
        self.row = threshold_row(tuned, label_ids)
        self.train = [str(p) for p in config.data.train]

    def summarise(self, texts, y_true, label_ids, n_boot: int, seed: int) -> tuple[dict[str, Any], np.ndarray]:
        scores = self.model.score(texts)
        pred = decide(scores, self.row).astype(int)
        summary = {"train": self.train, "thresholds": self.thresholds}
        return summary | _summarise(y_true, pred, scores, label_ids, n_boot, seed), pred


def _evaluate_set(
    name: str,
    files: list[Path],
    predictor: Predictor,
    baseline: _Baseline | None,
    config: FramewatchConfig,
    report_dir: Path,
) -> dict[str, Any]:
    label_ids = predictor.label_ids
    settings = config.evaluation
    seed = config.training.seed
    examples = read_examples(files, label_ids, corpus_dir=config.corpora.dir)
    texts = [e.text for e in examples]
    y_true = multi_hot([e.labels for e in examples], label_ids).astype(int)
    y_score = predictor.score(texts)
    y_pred = predictor.decide(y_score).astype(int)
    scored = ScoredSet(examples, y_true, y_pred, y_score, label_ids)
    result: dict[str, Any] = {
        "name": name,
        "data": [str(p) for p in files],
        "model": _summarise(y_true, y_pred, y_score, label_ids, settings.bootstrap_samples, seed),
        "baseline": None,
        "calibration": reliability(y_true, y_score),
        "confident_errors": confident_errors(scored, settings.confident_errors),
        "random_stratum": random_stratum_rates(scored, settings.confident_errors),
    }
    if baseline is not None:
        result["baseline"], base_pred = baseline.summarise(texts, y_true, label_ids, settings.bootstrap_samples, seed)
        rates = random_stratum_rates(ScoredSet(examples, y_true, base_pred, base_pred.astype(float), label_ids), 0)
        result["baseline"]["random_stratum"] = rates
    prefix = f"{name}-"
    figures.plot_pr_curves(y_true, y_score, label_ids, predictor.thresholds, report_dir / f"{prefix}pr_curves.png")
    figures.plot_cooccurrence(y_true, y_pred, label_ids, report_dir / f"{prefix}cooccurrence.png")
    figures.plot_reliability(result["calibration"], report_dir / f"{prefix}reliability.png")
    result["figures"] = {kind: f"{prefix}{kind}.png" for kind in ("pr_curves", "cooccurrence", "reliability")}
    return result


def _gate(result: dict[str, Any], spec: EvaluationSet | None, config: FramewatchConfig, accepted: dict) -> GateResult:
    settings = config.evaluation
    rates = result["random_stratum"]
    floor = spec.macro_f1_floor if spec and spec.macro_f1_floor is not None else settings.macro_f1_floor
    return check_gate(
        result["model"]["metrics"]["macro"]["f1"],
        name=result["name"],
        floor=floor,
        accepted=(accepted.get(result["name"]) or {}).get("macro_f1"),
        max_drop=settings.max_drop,
        false_alarm_rate=rates["false_alarm_rate"] if rates else None,
        max_false_alarm_rate=spec.max_false_alarm_rate if spec else None,
    )


def evaluate(
    config: FramewatchConfig,
    checkpoint: Path,
    report_dir: Path,
    *,
    split: str = "test",
    data: list[Path] | None = None,
    baseline: bool = True,
    gate: bool = False,
    device: str = "auto",
) -> dict[str, Any]:
    """Build the report dict over every evaluation set, write its renderings and figures, and return it.

    ``data`` replaces the configured sets with one set of the given files.
    """
    predictor = Predictor.from_checkpoint(checkpoint, device=device, dtype="fp32")
    label_ids = predictor.label_ids
    if data:
        specs: list[tuple[str, list[Path], EvaluationSet | None]] = [("data", list(data), None)]
    else:
        specs = []
        for spec in config.evaluation_sets:
            files = spec.test if split == "test" else spec.dev
            if files:
                specs.append((spec.name, files, spec))
    if not specs:
        raise ValueError(f"nothing to evaluate: no evaluation set has {split} files (and no --data)")
    report_dir.mkdir(parents=True, exist_ok=True)
    trained_baseline = _Baseline(config, label_ids) if baseline else None
    results = [_evaluate_set(name, files, predictor, trained_baseline, config, report_dir) for name, files, _ in specs]
    report: dict[str, Any] = {
        "created": utc_now(),
        "git_commit": git_commit(),
        "split": split,
        "checkpoint": {
            "id": predictor.metadata.checkpoint_id,
            "path": str(checkpoint),
            "base_model": predictor.metadata.base_model,
            "thresholds": predictor.metadata.thresholds,
        },
        "labels": label_ids,
        "sets": results,
        "behavioral": run_suites(
            load_suites(config.evaluation.behavioral_dir), predictor.score, label_ids, predictor.thresholds
        ),
    }
    if gate:
        accepted = read_accepted(config.evaluation.accepted_baseline)
        gates = [_gate(result, spec, config, accepted) for result, (_, _, spec) in zip(results, specs)]
        report["gate"] = {"passed": all(g.passed for g in gates), "sets": [g.as_dict() for g in gates]}
    (report_dir / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (report_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return report


def accepted_results(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What ``--accept`` records per set: macro-F1, and the false-alarm rate where there is one."""
    out = {}
    for result in report["sets"]:
        entry: dict[str, Any] = {"macro_f1": round(result["model"]["metrics"]["macro"]["f1"], 4)}
        if result["random_stratum"]:
            entry["false_alarm_rate"] = round(result["random_stratum"]["false_alarm_rate"], 4)
        entry["data"] = result["data"]
        out[result["name"]] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    from framewatch.cli import add_config_arguments, configure_logging

    parser = argparse.ArgumentParser(prog="framewatch evaluate", description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    parser.add_argument("--checkpoint", type=Path, default=None, help="Checkpoint (default: serving.checkpoint).")
    parser.add_argument(
        "--data", type=Path, nargs="+", default=None, help="Evaluate these labelled files as one set instead."
    )
    parser.add_argument(
        "--split", choices=["test", "dev"], default="test", help="Which files of each set (dev: for model selection)."
    )
    parser.add_argument("--report", type=Path, default=Path("reports/latest"), help="Report directory.")
    parser.add_argument("--no-baseline", action="store_true", help="Skip the TF-IDF baseline.")
    parser.add_argument("--gate", action="store_true", help="Apply each set's quality gate; exit 1 when one fails.")
    parser.add_argument(
        "--accept",
        action="store_true",
        help="Record these results as the accepted ones (evaluation.accepted_baseline).",
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = parser.parse_args(argv)
    configure_logging()
    config = load_config(args.config, args.set)
    if args.gate and args.split != "test":
        parser.error("--gate applies to the test split")
    report = evaluate(
        config,
        args.checkpoint or config.serving.checkpoint,
        args.report,
        split=args.split,
        data=args.data,
        baseline=not args.no_baseline,
        gate=args.gate,
        device=args.device,
    )
    for result in report["sets"]:
        line = f"{result['name']}: framewatch macro-F1 {result['model']['metrics']['macro']['f1']:.4f}"
        if result["baseline"]:
            line += f", baseline {result['baseline']['metrics']['macro']['f1']:.4f}"
        if result["random_stratum"]:
            rates = result["random_stratum"]
            line += (
                f"; false alarms {rates['false_alarms_per_1000']:.1f} per 1,000 random real sentences "
                f"(base rate {rates['base_rate']:.1%}, flagged {rates['flag_rate']:.1%})"
            )
        print(line)
    for kind, counts in report["behavioral"]["by_type"].items():
        print(f"behavioural {kind}: {counts['passed']}/{counts['total']} passed")
    print(f"report: {args.report / 'report.md'}")
    if args.accept:
        write_accepted(
            config.evaluation.accepted_baseline,
            accepted_results(report),
            checkpoint=report["checkpoint"]["id"],
            commit=report["git_commit"],
        )
        print(f"accepted results written to {config.evaluation.accepted_baseline}")
    if args.gate:
        for gate in report["gate"]["sets"]:
            print(GateResult(**gate).render())
        return 0 if report["gate"]["passed"] else 1
    return 0
