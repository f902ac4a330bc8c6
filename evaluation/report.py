"""Rendering an evaluation (a plain dict built once) as Markdown; JSON is the dict itself."""

from __future__ import annotations

from typing import Any

__all__ = ["render_markdown"]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _ci(ci: dict, scope: str, metric: str) -> str:
    low, high = ci.get(scope, {}).get(metric, (None, None))
    return "" if low is None else f" ({low:.2f}-{high:.2f})"


def _metrics_table(m: dict, ci: dict, thresholds: dict[str, float] | None) -> list[str]:
    rows = [
        "| label | precision | recall | F1 (95% CI) | ROC-AUC | avg. precision | support | threshold |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, v in m["per_label"].items():
        thr = _fmt(thresholds.get(label), 2) if thresholds else ""
        rows.append(
            f"| `{label}` | {_fmt(v['precision'])}{_ci(ci, label, 'precision')} | {_fmt(v['recall'])}"
            f"{_ci(ci, label, 'recall')} | **{_fmt(v['f1'])}**{_ci(ci, label, 'f1')} | {_fmt(v['roc_auc'])} "
            f"| {_fmt(v['average_precision'])} | {v['support']} | {thr} |"
        )
    for scope in ("macro", "micro"):
        v = m[scope]
        rows.append(
            f"| *{scope} avg.* | {_fmt(v['precision'])} | {_fmt(v['recall'])} | **{_fmt(v['f1'])}**"
            f"{_ci(ci, scope, 'f1')} | | | | |"
        )
    rows.append("")
    rows.append(f"Exact-match ratio: {_fmt(m['exact_match'])} over {m['n']} sentences.")
    return rows


def render_markdown(report: dict[str, Any]) -> str:
    model, baseline = report["model"], report.get("baseline")
    lines = [
        f"# Evaluation report: `{report['checkpoint']['id']}`",
        "",
        f"Data: {', '.join(f'`{d}`' for d in report['data'])} ({model['metrics']['n']} sentences). "
        f"Created {report['created']}; git commit `{report.get('git_commit')}`. "
        "Intervals are 95% bootstrap percentiles over sentences.",
        "",
        "## Summary",
        "",
        "| model | macro-F1 | micro-F1 | exact match |",
        "|---|---|---|---|",
        f"| framewatch (`{report['checkpoint']['base_model']}`) | **{_fmt(model['metrics']['macro']['f1'])}** "
        f"| {_fmt(model['metrics']['micro']['f1'])} | {_fmt(model['metrics']['exact_match'])} |",
    ]
    if baseline:
        lines.append(
            f"| baseline: TF-IDF + logistic regression | {_fmt(baseline['metrics']['macro']['f1'])} "
            f"| {_fmt(baseline['metrics']['micro']['f1'])} | {_fmt(baseline['metrics']['exact_match'])} |"
        )
        margin = model["metrics"]["macro"]["f1"] - baseline["metrics"]["macro"]["f1"]
        lines += ["", f"Margin over the baseline: {margin:+.3f} macro-F1."]
    if report.get("gate"):
        gate = report["gate"]
        lines += [
            "",
            f"**Quality gate: {'PASS' if gate['passed'] else 'FAIL'}** (floor {gate['floor']:.2f}, "
            f"accepted {_fmt(gate['accepted'], 4)}, allowed drop {gate['max_drop']:.2f})",
        ]
        lines += [f"- {r}" for r in gate["reasons"]]
    lines += ["", "## Per-label metrics (framewatch)", ""]
    lines += _metrics_table(model["metrics"], model["intervals"], report["checkpoint"]["thresholds"])
    if baseline:
        lines += ["", "## Per-label metrics (baseline)", ""]
        lines += _metrics_table(baseline["metrics"], baseline["intervals"], baseline["thresholds"])
    lines += [
        "",
        "## Figures",
        "",
        "Precision-recall curves (the dot is the operating point at the decision threshold):",
        "",
        "![precision-recall curves](pr_curves.png)",
        "",
        "Gold labels against predicted labels (a sentence counts once in every cell its labels meet):",
        "",
        "![label co-occurrence](cooccurrence.png)",
        "",
        f"Reliability diagram, expected calibration error {_fmt(report['calibration']['ece'])}:",
        "",
        "![reliability diagram](reliability.png)",
    ]
    behavioral = report.get("behavioral")
    if behavioral and behavioral["suites"]:
        lines += [
            "",
            "## Behavioural tests (CheckList)",
            "",
            "| type | passed | total | pass rate |",
            "|---|---|---|---|",
        ]
        for kind, v in behavioral["by_type"].items():
            lines.append(f"| {kind} | {v['passed']} | {v['total']} | {_fmt(v['pass_rate'])} |")
        lines += ["", "| suite | type | pass rate |", "|---|---|---|"]
        lines += [
            f"| {s['name']} | {s['type']} | {_fmt(s['pass_rate'])} ({s['passed']}/{s['total']}) |"
            for s in behavioral["suites"]
        ]
        if behavioral["failures"]:
            lines += ["", "<details><summary>Failures</summary>", ""]
            lines += [f"- `{f}`" for f in behavioral["failures"][:60]]
            lines += ["", "</details>"]
    lines += ["", "## Most confident errors", ""]
    for label, errors in report["confident_errors"].items():
        lines += [f"### `{label}`", ""]
        if not errors:
            lines += ["No errors.", ""]
            continue
        lines += ["| kind | score | text | gold | predicted |", "|---|---|---|---|---|"]
        for e in errors:
            text = e["text"].replace("|", "\\|")
            lines.append(
                f"| {e['kind']} | {e['score']:.2f} | {text} | {', '.join(e['gold']) or 'none'} "
                f"| {', '.join(e['predicted']) or 'none'} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"
