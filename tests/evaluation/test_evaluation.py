import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score

from framewatch.cli import main as cli
from framewatch.data import Example
from framewatch.evaluation.behavioral import BehavioralSuite, load_suites, run_suites
from framewatch.evaluation.calibration import reliability
from framewatch.evaluation.evaluate import ScoredSet, random_stratum_rates
from framewatch.evaluation.figures import cooccurrence_matrix
from framewatch.evaluation.gate import check_gate
from framewatch.metrics import bootstrap_intervals, classification_metrics

Y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0], [1, 0, 1], [0, 1, 1], [0, 0, 0]])
S = np.array(
    [
        [0.9, 0.2, 0.1],
        [0.4, 0.8, 0.3],
        [0.7, 0.3, 0.2],
        [0.1, 0.2, 0.9],
        [0.6, 0.1, 0.4],
        [0.8, 0.4, 0.7],
        [0.2, 0.9, 0.3],
        [0.1, 0.6, 0.2],
    ]
)
LABELS = ["a", "b", "c"]


def test_metrics_match_sklearn():
    pred = (S >= 0.5).astype(int)
    m = classification_metrics(Y, pred, S, LABELS)
    for k, label in enumerate(LABELS):
        assert m["per_label"][label]["precision"] == pytest.approx(precision_score(Y[:, k], pred[:, k]))
        assert m["per_label"][label]["recall"] == pytest.approx(recall_score(Y[:, k], pred[:, k]))
        assert m["per_label"][label]["f1"] == pytest.approx(f1_score(Y[:, k], pred[:, k]))
        assert m["per_label"][label]["roc_auc"] == pytest.approx(roc_auc_score(Y[:, k], S[:, k]))
        assert m["per_label"][label]["average_precision"] == pytest.approx(average_precision_score(Y[:, k], S[:, k]))
        assert m["per_label"][label]["support"] == Y[:, k].sum()
    assert m["macro"]["f1"] == pytest.approx(f1_score(Y, pred, average="macro"))
    assert m["micro"]["f1"] == pytest.approx(f1_score(Y, pred, average="micro"))
    assert m["exact_match"] == pytest.approx(np.mean((Y == pred).all(axis=1)))
    # hand check on one label: a has TP=3 (rows 0,2,5), FP=1 (row 4), FN=0
    assert m["per_label"]["a"]["precision"] == pytest.approx(0.75) and m["per_label"]["a"]["recall"] == 1.0


def test_bootstrap_interval_contains_point_estimate():
    pred = (S >= 0.5).astype(int)
    ci = bootstrap_intervals(Y, pred, S, LABELS, n_samples=200, seed=1)
    low, high = ci["macro"]["f1"]
    assert 0 <= low <= f1_score(Y, pred, average="macro") <= high <= 1


def test_gate_fails_above_floor_and_on_drop():
    assert not check_gate(0.70, floor=0.80, accepted=None, max_drop=0.02).passed
    assert not check_gate(0.70, floor=0.50, accepted=0.75, max_drop=0.02).passed
    assert check_gate(0.74, floor=0.50, accepted=0.75, max_drop=0.02).passed


def test_gate_false_alarm_ceiling():
    kwargs = dict(floor=0.5, accepted=None, max_drop=0.02, max_false_alarm_rate=0.02)
    assert check_gate(0.6, false_alarm_rate=0.019, **kwargs).passed
    failed = check_gate(0.6, false_alarm_rate=0.021, **kwargs)
    assert not failed.passed and "exceed" in failed.reasons[0]
    assert not check_gate(0.6, false_alarm_rate=None, **kwargs).passed  # a ceiling with nothing to measure


def test_random_stratum_rates_count_only_the_random_stratum():
    examples = [
        Example("t0", ("a",), {"stratum": "random"}),
        Example("t1", (), {"stratum": "random"}),
        Example("t2", (), {"stratum": "random"}),
        Example("t3", (), {"stratum": "random"}),
        Example("t4", (), {"stratum": "top"}),
    ]
    y_true = np.array([[1, 0], [0, 0], [0, 0], [0, 0], [0, 0]])
    y_pred = np.array([[1, 1], [0, 1], [0, 0], [0, 0], [1, 1]])
    y_score = np.array([[0.9, 0.6], [0.2, 0.7], [0.1, 0.1], [0.3, 0.2], [0.9, 0.9]])
    rates = random_stratum_rates(ScoredSet(examples, y_true, y_pred, y_score, ["a", "b"]), limit=5)
    assert rates["n"] == 4 and rates["base_rate"] == 0.25 and rates["flag_rate"] == 0.5
    # t0 is flagged 'b' wrongly (its 'a' is right) and t1 is flagged 'b': two false alarms in four
    assert rates["false_alarm_rate"] == 0.5 and rates["false_alarms_per_1000"] == 500.0
    assert [e["text"] for e in rates["worst_false_alarms"]] == ["t1", "t0"]
    top_only = ScoredSet(examples[4:], y_true[4:], y_pred[4:], y_score[4:], ["a", "b"])
    assert random_stratum_rates(top_only, 5) is None


def test_calibration_and_cooccurrence():
    calibration = reliability(Y, S)
    assert sum(b["count"] for b in calibration["bins"]) == Y.size and 0 <= calibration["ece"] <= 1
    matrix = cooccurrence_matrix(Y, (S >= 0.5).astype(int))
    # gold 'a' (rows 0, 2, 5) is predicted a, a, a+c; gold none (rows 4, 7) is predicted a and b
    assert matrix[0].tolist() == [3, 0, 1, 0]
    assert matrix[3].tolist() == [1, 1, 0, 0]


def test_behavioral_runner_counts_each_type():
    suites = [
        BehavioralSuite(
            name="m",
            type="MFT",
            labels=["a"],
            cases=[{"text": "alpha", "expect": ["a"]}, {"text": "beta", "expect": ["a"]}],
        ),
        BehavioralSuite(
            name="i", type="INV", swaps=[{"name": "n", "members": ["Oslo", "Lima"]}], texts=["alpha in Oslo"]
        ),
        BehavioralSuite(name="d", type="DIR", labels=["a"], cases=[{"base": "x", "variant": "x alpha", "label": "a"}]),
        BehavioralSuite(name="skip", type="MFT", labels=["zzz"], cases=[]),
    ]

    def score(texts):
        return np.array([[0.9 if "alpha" in t else 0.1, 0.1, 0.1] for t in texts])

    result = run_suites(suites, score, LABELS, np.full(3, 0.5))
    assert result["by_type"]["MFT"] == {"passed": 1, "total": 2, "pass_rate": 0.5}
    assert result["by_type"]["INV"]["total"] == 1 and result["by_type"]["INV"]["passed"] == 1
    assert result["by_type"]["DIR"]["passed"] == 1 and result["skipped"] == ["skip"]
    assert {s.type for s in load_suites()} == {"MFT", "INV", "DIR"}  # shipped suites parse


def test_evaluate_cli_on_shipped_schema_and_new_schema(tmp_path, tiny_checkpoint, tiny_config, sample_splits):
    report_dir = tmp_path / "report"
    code = cli(
        [
            "evaluate",
            "--config",
            str(tiny_config),
            "--checkpoint",
            str(tiny_checkpoint),
            "--data",
            str(sample_splits["test"]),
            "--report",
            str(report_dir),
            "--gate",
            "--set",
            "evaluation.bootstrap_samples=50",
            "--set",
            "evaluation.macro_f1_floor=0.99",
            "--set",
            f"evaluation.accepted_baseline={tmp_path / 'none.json'}",
        ]
    )
    assert code == 1  # floor above what a 4-step tiny model achieves
    report = json.loads((report_dir / "report.json").read_text())
    (result,) = report["sets"]
    assert report["gate"]["passed"] is False and result["baseline"]["metrics"]["macro"]["f1"] >= 0
    assert "below the floor" in report["gate"]["sets"][0]["reasons"][0]
    for name in ("report.md", "data-pr_curves.png", "data-cooccurrence.png", "data-reliability.png"):
        assert (report_dir / name).stat().st_size > 0
    markdown = (report_dir / "report.md").read_text()
    assert "## Behavioural tests (CheckList)" in markdown and "Quality gate: FAIL" in markdown


def test_evaluate_other_schema(tmp_path, weather_schema):
    report_dir = tmp_path / "r"
    code = cli(
        [
            "evaluate",
            "--config",
            str(weather_schema["config"]),
            "--checkpoint",
            str(weather_schema["checkpoint"]),
            "--data",
            str(weather_schema["dev"]),
            "--report",
            str(report_dir),
            "--set",
            "evaluation.bootstrap_samples=20",
        ]
    )
    assert code == 0
    report = json.loads((report_dir / "report.json").read_text())
    (result,) = report["sets"]
    assert report["labels"] == ["wet", "sunny"] and set(result["model"]["metrics"]["per_label"]) == {"wet", "sunny"}
    assert result["baseline"]["metrics"]["n"] == result["model"]["metrics"]["n"]
    assert len(report["behavioral"]["skipped"]) == 2  # the framing suites need labels this schema lacks
