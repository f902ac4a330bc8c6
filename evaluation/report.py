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


def _rate(rates: dict | None, key: str, per_1000: bool = False) -> str:
    if not rates:
        return "n/a"
    return f"{rates[key]:.1f}" if per_1000 else f"{rates[key]:.1%}"


def _summary(report: dict[str, Any]) -> list[str]:
    lines = [
        "| set | sentences | framewatch macro-F1 (95% CI) | baseline macro-F1 | false alarms per 1,000 random real "
        "sentences (baseline) | base rate | flagged | gate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    gates = {g["name"]: g for g in (report.get("gate") or {}).get("sets", [])}
    for result in report["sets"]:
        model, baseline, rates = result["model"], result["baseline"], result["random_stratum"]
        base_f1 = _fmt(baseline["metrics"]["macro"]["f1"]) if baseline else "n/a"
        alarms = _rate(rates, "false_alarms_per_1000", per_1000=True)
        if rates and baseline and baseline.get("random_stratum"):
            alarms += f" ({_rate(baseline['random_stratum'], 'false_alarms_per_1000', per_1000=True)})"
        gate = gates.get(result["name"])
        verdict = ("PASS" if gate["passed"] else "FAIL") if gate else ""
        lines.append(
            f"| {result['name']} | {model['metrics']['n']} | **{_fmt(model['metrics']['macro']['f1'])}**"
            f"{_ci(model['intervals'], 'macro', 'f1')} | {base_f1} | {alarms} | {_rate(rates, 'base_rate')} "
            f"| {_rate(rates, 'flag_rate')} | {verdict} |"
        )
    lines += [
        "",
        "False alarms: sentences of a set's plain random stratum of real text flagged with a label that its "
        "gold labels lack; base rate: the share of that stratum that carries a frame; flagged: the share the "
        "model flags.",
    ]
    return lines


def _gate_lines(report: dict[str, Any]) -> list[str]:
    gate = report.get("gate")
    if not gate:
        return []
    lines = ["", f"**Quality gate: {'PASS' if gate['passed'] else 'FAIL'}**", ""]
    for g in gate["sets"]:
        ceiling = (
            f", false alarms {g['false_alarm_rate']:.1%} (ceiling {g['max_false_alarm_rate']:.1%})"
            if g.get("max_false_alarm_rate") is not None and g.get("false_alarm_rate") is not None
            else ""
        )
        lines.append(
            f"- {g['name']}: {'PASS' if g['passed'] else 'FAIL'}: macro-F1 {g['macro_f1']:.4f} (floor "
            f"{g['floor']:.2f}, accepted {_fmt(g['accepted'], 4)}, allowed drop {g['max_drop']:.2f}){ceiling}"
        )
        lines += [f"  - {r}" for r in g["reasons"]]
    return lines


def _worst_false_alarms(rates: dict | None) -> list[str]:
    if not rates or not rates["worst_false_alarms"]:
        return []
    lines = [
        "",
        f"#### Worst false alarms in the random stratum ({rates['n']} real sentences)",
        "",
        "| score | flagged as | source | text |",
        "|---|---|---|---|",
    ]
    for e in rates["worst_false_alarms"]:
        text = e["text"].replace("|", "\\|")
        lines.append(f"| {e['score']:.2f} | {', '.join(e['predicted'])} | {e.get('source') or ''} | {text} |")
    return lines


def _confident_errors(errors_by_label: dict[str, list[dict]]) -> list[str]:
    lines = ["", "#### Most confident errors", ""]
    for label, errors in errors_by_label.items():
        lines += [f"`{label}`:", ""]
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
    return lines


def _set_section(result: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    model, baseline, figs = result["model"], result["baseline"], result["figures"]
    lines = [
        "",
        f"## {result['name']}",
        "",
        f"Data: {', '.join(f'`{d}`' for d in result['data'])} ({model['metrics']['n']} sentences).",
        "",
        "### Per-label metrics (framewatch)",
        "",
    ]
    lines += _metrics_table(model["metrics"], model["intervals"], thresholds)
    if baseline:
        margin = model["metrics"]["macro"]["f1"] - baseline["metrics"]["macro"]["f1"]
        lines += ["", f"### Per-label metrics (baseline; margin {margin:+.3f} macro-F1)", ""]
        lines += _metrics_table(baseline["metrics"], baseline["intervals"], baseline["thresholds"])
    lines += _worst_false_alarms(result["random_stratum"])
    lines += [
        "",
        "### Figures",
        "",
        "Precision-recall curves (the dot is the operating point at the decision threshold):",
        "",
        f"![precision-recall curves, {result['name']}]({figs['pr_curves']})",
        "",
        "Gold labels against predicted labels (a sentence counts once in every cell its labels meet):",
        "",
        f"![label co-occurrence, {result['name']}]({figs['cooccurrence']})",
        "",
        f"Reliability diagram, expected calibration error {_fmt(result['calibration']['ece'])}:",
        "",
        f"![reliability diagram, {result['name']}]({figs['reliability']})",
    ]
    lines += _confident_errors(result["confident_errors"])
    return lines


def _behavioral(behavioral: dict | None) -> list[str]:
    if not behavioral or not behavioral["suites"]:
        return []
    lines = [
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
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    checkpoint = report["checkpoint"]
    lines = [
        f"# Evaluation report: `{checkpoint['id']}`",
        "",
        f"Split: {report['split']}. Model: framewatch (`{checkpoint['base_model']}`); baseline: TF-IDF + "
        f"logistic regression trained in the same run. Created {report['created']}; git commit "
        f"`{report.get('git_commit')}`. Intervals are 95% bootstrap percentiles over sentences.",
        "",
        "## Summary",
        "",
    ]
    lines += _summary(report)
    lines += _gate_lines(report)
    for result in report["sets"]:
        lines += _set_section(result, checkpoint["thresholds"])
    lines += _behavioral(report.get("behavioral"))
    return "\n".join(lines) + "\n"
