"""Evaluation: metrics, baseline, behavioural tests, figures, reports and the CI gate."""
