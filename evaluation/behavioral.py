"""Behavioural tests in the style of CheckList (Ribeiro et al., 2020), kept as YAML data.

Three test types, each a YAML file in ``evaluation/behavioral/`` (or a directory
of a researcher's own):

- ``MFT`` (minimum functionality): ``cases: [{text, expect: [labels]}]``; passes
  when the predicted label set equals ``expect``.
- ``INV`` (invariance): ``cases: [{text, variants: [...]}]`` and/or generated
  perturbations (``swap`` lists of interchangeable names, dates or clauses);
  passes when every variant gets the same label set as the original.
- ``DIR`` (directional): ``cases: [{base, variant, label, direction: up|down}]``;
  passes when the label's score moves the stated way.

Suites whose labels are not in the checkpoint's schema are skipped, so the
shipped suites do not break evaluation of a different schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from framewatch.errors import ConfigError
from framewatch.thresholds import decide

__all__ = ["BehavioralSuite", "load_suites", "run_suites", "shipped_suites_dir"]

ScoreFn = Callable[[Sequence[str]], np.ndarray]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MftCase(_Strict):
    text: str
    expect: list[str]


class InvCase(_Strict):
    text: str
    variants: list[str] = []


class SwapGroup(_Strict):
    """Interchangeable strings: each occurrence in a text is replaced by each other member."""

    name: str
    members: list[str] = Field(min_length=2)


class DirCase(_Strict):
    base: str
    variant: str
    label: str
    direction: Literal["up", "down"] = "up"


class BehavioralSuite(_Strict):
    name: str
    type: Literal["MFT", "INV", "DIR"]
    description: str = ""
    labels: list[str] = Field(default_factory=list, description="Labels the suite needs in the schema.")
    cases: list[dict[str, Any]] = []
    swaps: list[SwapGroup] = []
    texts: list[str] = Field(default_factory=list, description="INV: texts to perturb with every swap group.")


def shipped_suites_dir() -> Path:
    return Path(__file__).parent / "behavioral"


def load_suites(directory: str | Path | None = None) -> list[BehavioralSuite]:
    directory = Path(directory) if directory else shipped_suites_dir()
    suites = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            suites.append(BehavioralSuite.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
        except (yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"behavioural suite {path}: {exc}") from exc
    return suites


def _swap_variants(text: str, swaps: Sequence[SwapGroup]) -> list[str]:
    variants = []
    for group in swaps:
        for member in group.members:
            pattern = re.compile(rf"(?<!\w){re.escape(member)}(?!\w)")
            if pattern.search(text):
                variants += [pattern.sub(other, text) for other in group.members if other != member]
    return variants


def _label_set(row: np.ndarray, thresholds: np.ndarray, label_ids: Sequence[str]) -> list[str]:
    return [label for label, on in zip(label_ids, decide(row, thresholds)) if on]


def run_suites(
    suites: Sequence[BehavioralSuite], score: ScoreFn, label_ids: Sequence[str], thresholds: np.ndarray
) -> dict[str, Any]:
    """Run every applicable suite; returns pass rates per type and per suite, and the failures."""
    results: dict[str, Any] = {"by_type": {}, "suites": [], "failures": [], "skipped": []}
    for suite in suites:
        if not set(suite.labels) <= set(label_ids):
            results["skipped"].append(suite.name)
            continue
        passed, total, failures = 0, 0, []
        if suite.type == "MFT":
            cases = [MftCase.model_validate(c) for c in suite.cases]
            scores = score([c.text for c in cases])
            for case, row in zip(cases, scores):
                got = _label_set(row, thresholds, label_ids)
                ok = sorted(got) == sorted(case.expect)
                passed, total = passed + ok, total + 1
                if not ok:
                    failures.append({"text": case.text, "expected": case.expect, "got": got})
        elif suite.type == "INV":
            cases = [InvCase.model_validate(c) for c in suite.cases]
            cases += [InvCase(text=t) for t in suite.texts]
            for case in cases:
                variants = case.variants + _swap_variants(case.text, suite.swaps)
                if not variants:
                    continue
                rows = score([case.text, *variants])
                original = _label_set(rows[0], thresholds, label_ids)
                for variant, row in zip(variants, rows[1:]):
                    got = _label_set(row, thresholds, label_ids)
                    ok = got == original
                    passed, total = passed + ok, total + 1
                    if not ok:
                        failures.append({"text": case.text, "variant": variant, "original": original, "got": got})
        else:
            cases = [DirCase.model_validate(c) for c in suite.cases]
            rows = score([t for c in cases for t in (c.base, c.variant)])
            for k, case in enumerate(cases):
                j = list(label_ids).index(case.label)
                before, after = float(rows[2 * k, j]), float(rows[2 * k + 1, j])
                ok = after > before if case.direction == "up" else after < before
                passed, total = passed + ok, total + 1
                if not ok:
                    failures.append(
                        {
                            "base": case.base,
                            "variant": case.variant,
                            "label": case.label,
                            "before": round(before, 4),
                            "after": round(after, 4),
                        }
                    )
        summary = {
            "name": suite.name,
            "type": suite.type,
            "passed": passed,
            "total": total,
            "pass_rate": passed / total if total else None,
        }
        results["suites"].append(summary)
        results["failures"] += [{"suite": suite.name, **f} for f in failures]
        by_type = results["by_type"].setdefault(suite.type, {"passed": 0, "total": 0})
        by_type["passed"] += passed
        by_type["total"] += total
    for counts in results["by_type"].values():
        counts["pass_rate"] = counts["passed"] / counts["total"] if counts["total"] else None
    return results
