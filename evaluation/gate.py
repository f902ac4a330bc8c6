"""The CI quality gate, per evaluation set: a macro-F1 floor, a bound on the drop from the
accepted result, and (for real text) a ceiling on false alarms in the random stratum."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from framewatch.errors import ConfigError

__all__ = ["GateResult", "check_gate", "read_accepted", "write_accepted"]


@dataclass(frozen=True)
class GateResult:
    name: str
    macro_f1: float
    floor: float
    accepted: float | None
    max_drop: float
    passed: bool
    reasons: list[str]
    false_alarm_rate: float | None = None
    max_false_alarm_rate: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        accepted = f"{self.accepted:.4f}" if self.accepted is not None else "none recorded"
        verdict = "PASS" if self.passed else "FAIL"
        alarms = ""
        if self.false_alarm_rate is not None:
            ceiling = f", ceiling {self.max_false_alarm_rate:.1%}" if self.max_false_alarm_rate is not None else ""
            alarms = f"; false alarms {self.false_alarm_rate:.1%} of random real sentences{ceiling}"
        lines = [
            f"quality gate {self.name}: {verdict}: macro-F1 {self.macro_f1:.4f} (floor {self.floor:.4f}, "
            f"accepted {accepted}, allowed drop {self.max_drop:.4f}){alarms}"
        ]
        return "\n".join(lines + [f"  - {r}" for r in self.reasons])


def read_accepted(path: Path) -> dict[str, dict[str, Any]]:
    """Accepted results by evaluation-set name: ``{"sets": {name: {"macro_f1": ..., ...}}}``."""
    if not path.is_file():
        return {}
    try:
        sets = json.loads(path.read_text(encoding="utf-8"))["sets"]
        for result in sets.values():
            float(result["macro_f1"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{path}: expected {{'sets': {{NAME: {{'macro_f1': number}}}}}}") from exc
    return sets


def write_accepted(path: Path, results: dict[str, dict[str, Any]], **provenance: object) -> None:
    """Record new accepted results, one per evaluation set; meant to be committed deliberately."""
    body = {"sets": results, **provenance}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def check_gate(
    macro_f1: float,
    *,
    floor: float,
    accepted: float | None,
    max_drop: float,
    name: str = "test",
    false_alarm_rate: float | None = None,
    max_false_alarm_rate: float | None = None,
) -> GateResult:
    """Fail below ``floor``, more than ``max_drop`` below ``accepted``, or above the false-alarm ceiling.

    >>> check_gate(0.70, floor=0.6, accepted=0.73, max_drop=0.02).passed
    False
    >>> check_gate(0.72, floor=0.6, accepted=0.73, max_drop=0.02).passed
    True
    >>> check_gate(0.72, floor=0.6, accepted=None, max_drop=0.02,
    ...            false_alarm_rate=0.03, max_false_alarm_rate=0.02).passed
    False
    """
    reasons = []
    if macro_f1 < floor:
        reasons.append(f"macro-F1 {macro_f1:.4f} is below the floor {floor:.4f}")
    if accepted is not None and macro_f1 < accepted - max_drop - 1e-9:
        reasons.append(f"macro-F1 {macro_f1:.4f} dropped more than {max_drop:.4f} below accepted {accepted:.4f}")
    if max_false_alarm_rate is not None:
        if false_alarm_rate is None:
            reasons.append("a false-alarm ceiling is set but the set has no random stratum to measure it on")
        elif false_alarm_rate > max_false_alarm_rate + 1e-12:
            reasons.append(
                f"false alarms on {false_alarm_rate:.2%} of random real sentences exceed {max_false_alarm_rate:.2%}"
            )
    return GateResult(
        name, macro_f1, floor, accepted, max_drop, not reasons, reasons, false_alarm_rate, max_false_alarm_rate
    )
