"""What a scored row holds, written once for ``framewatch predict`` and ``framewatch.spark``.

A scored row is the input row with ``labels`` (after thresholds), ``scores``
(per-label sigmoid, by label id) and ``windows`` (model windows the text took)
set. Labels the input already carried are kept as ``gold_labels``, so scoring
a labelled file loses nothing and the two label lists can be compared.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from framewatch.explain import Evidence
from framewatch.predictor import Prediction

__all__ = ["EVIDENCE", "GOLD_LABELS", "LABELS", "SCORES", "WINDOWS", "scored_row"]

LABELS = "labels"
SCORES = "scores"
WINDOWS = "windows"
EVIDENCE = "evidence"
"""With ``--explain``: per label the row carries, its evidence spans (as the server's ``evidence``)."""
GOLD_LABELS = "gold_labels"
"""Where a row's own ``labels`` move to when the model's labels take that field."""


def scored_row(
    record: dict[str, Any], prediction: Prediction, evidence: dict[str, list[Evidence]] | None = None
) -> dict[str, Any]:
    """A copy of ``record`` with the prediction's fields set (the input's ``labels`` kept as ``gold_labels``)."""
    out = dict(record)
    if LABELS in out:
        out[GOLD_LABELS] = out.pop(LABELS)
    out[LABELS] = prediction.labels
    out[SCORES] = prediction.scores
    out[WINDOWS] = prediction.windows
    if evidence is not None:
        out[EVIDENCE] = {label: [asdict(span) for span in spans] for label, spans in evidence.items()}
    return out
