"""The CI quality gate: an absolute floor and a bound on the drop from the accepted result."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from framewatch.errors import ConfigError

__all__ = ["GateResult", "check_gate", "read_accepted", "write_accepted"]


@dataclass(frozen=True)
class GateResult:
    macro_f1: float
    floor: float
    accepted: float | None
    max_drop: float
    passed: bool
    reasons: list[str]

    def as_dict(self) -> dict:
        return asdict(self)

    def render(self) -> str:
        accepted = f"{self.accepted:.4f}" if self.accepted is not None else "none recorded"
        verdict = "PASS" if self.passed else "FAIL"
        lines = [
            f"quality gate: {verdict}: macro-F1 {self.macro_f1:.4f} (floor {self.floor:.4f}, "
            f"accepted {accepted}, allowed drop {self.max_drop:.4f})"
        ]
        return "\n".join(lines + [f"  - {r}" for r in self.reasons])


def read_accepted(path: Path) -> float | None:
    if not path.is_file():
        return None
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["macro_f1"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: expected a JSON object with a numeric 'macro_f1'") from exc


def write_accepted(path: Path, macro_f1: float, **provenance: object) -> None:
    """Record a new accepted result; meant to be committed deliberately."""
    path.write_text(json.dumps({"macro_f1": round(macro_f1, 4), **provenance}, indent=2) + "\n", encoding="utf-8")


def check_gate(macro_f1: float, *, floor: float, accepted: float | None, max_drop: float) -> GateResult:
    """Fail below ``floor`` or more than ``max_drop`` below ``accepted``.

    >>> check_gate(0.70, floor=0.6, accepted=0.73, max_drop=0.02).passed
    False
    >>> check_gate(0.72, floor=0.6, accepted=0.73, max_drop=0.02).passed
    True
    """
    reasons = []
    if macro_f1 < floor:
        reasons.append(f"macro-F1 {macro_f1:.4f} is below the floor {floor:.4f}")
    if accepted is not None and macro_f1 < accepted - max_drop - 1e-9:
        reasons.append(f"macro-F1 {macro_f1:.4f} dropped more than {max_drop:.4f} below accepted {accepted:.4f}")
    return GateResult(macro_f1, floor, accepted, max_drop, not reasons, reasons)
