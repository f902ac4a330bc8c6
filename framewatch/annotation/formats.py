"""Label Studio and doccano: the task files framewatch writes and the exports it reads back.

Label Studio (https://labelstud.io/guide/task_format): a JSON list of tasks,
``{"data": {...}, "predictions": [...], "annotations": [...]}``; a choice
annotation is a result ``{"from_name", "to_name", "type": "choices",
"value": {"choices": [...]}}``. Pre-annotations go in ``predictions`` with a
``score``, which the Community edition can sort tasks by.

doccano (text classification): JSON Lines ``{"text", "label": [...]}``, plus
any other keys; an export holds one file per annotator (or an ``annotator``
/ ``user`` key per line when collaborative).

Imports check every label against the schema and report each problem with its
file and position at once, like ``framewatch data validate``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from framewatch.config import LabelSpec
from framewatch.errors import DataError
from framewatch.text import is_blank

__all__ = [
    "CHOICES_NAME",
    "TEXT_NAME",
    "from_doccano",
    "from_label_studio",
    "label_studio_config",
    "merge_annotations",
    "to_doccano",
    "to_label_studio",
]

CHOICES_NAME = "labels"
TEXT_NAME = "text"
_TASK_KEYS = ("text", "labels")


def label_studio_config(labels: Sequence[LabelSpec]) -> str:
    """The labelling interface: the sentence and one multiple-choice checkbox per label of the schema."""
    choices = "\n".join(
        f'    <Choice value="{escape(label.id)}" alias="{escape(label.id)}" hint="{escape(label.description)}"/>'
        for label in labels
    )
    return (
        "<View>\n"
        f'  <Text name="{TEXT_NAME}" value="${TEXT_NAME}"/>\n'
        f'  <Choices name="{CHOICES_NAME}" toName="{TEXT_NAME}" choice="multiple" showInLine="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def _choice_result(labels: Sequence[str]) -> list[dict[str, Any]]:
    if not labels:
        return []
    return [
        {
            "id": "framewatch",
            "from_name": CHOICES_NAME,
            "to_name": TEXT_NAME,
            "type": "choices",
            "value": {"choices": list(labels)},
        }
    ]


def to_label_studio(
    rows: Sequence[Mapping[str, Any]],
    predicted: Sequence[Sequence[str]] | None = None,
    uncertainty: Sequence[float] | None = None,
    model_version: str = "",
) -> list[dict[str, Any]]:
    """Tasks for Label Studio; every field of a row travels in ``data`` and comes back on import."""
    tasks = []
    for k, row in enumerate(rows):
        task: dict[str, Any] = {"data": dict(row)}
        if predicted is not None:
            prediction: dict[str, Any] = {"model_version": model_version, "result": _choice_result(predicted[k])}
            if uncertainty is not None:
                prediction["score"] = round(float(uncertainty[k]), 6)
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


ROW_ID = "row_id"
"""doccano numbers examples in its own ``id``: the row's id travels as ``row_id`` and is restored on import."""


def to_doccano(rows: Sequence[Mapping[str, Any]], predicted: Sequence[Sequence[str]] | None = None) -> list[dict]:
    """doccano lines: ``label`` holds the pre-annotation (or the row's own labels), other keys are kept."""
    out = []
    for k, row in enumerate(rows):
        line = {(ROW_ID if key == "id" else key): value for key, value in row.items() if key != "labels"}
        line["label"] = list(predicted[k]) if predicted is not None else list(row.get("labels", []))
        out.append(line)
    return out


def _check_labels(labels: Any, where: str, known: set[str], problems: list[str]) -> list[str] | None:
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        problems.append(f"{where}: labels must be a list of label ids, got {labels!r}")
        return None
    unknown = [label for label in labels if label not in known]
    if unknown:
        shown = ", ".join(map(repr, unknown))
        problems.append(f"{where}: unknown label(s) {shown} (schema: {', '.join(sorted(known))})")
        return None
    return sorted(set(labels), key=labels.index)


def _annotator_name(annotation: Mapping[str, Any], position: int) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        who = who.get("email") or who.get("id")
    return str(who) if who is not None else f"annotator-{position + 1}"


def merge_annotations(row: dict[str, Any], annotations: dict[str, list[str]], label_ids: Sequence[str]) -> dict:
    """One data row from several annotators' labels, kept apart in ``annotations``.

    ``labels`` holds what a strict majority of annotators chose; ``agreement``
    says whether they all agreed, so disagreements are found for adjudication.
    """
    votes = Counter(label for labels in annotations.values() for label in labels)
    majority = [label for label in label_ids if votes[label] * 2 > len(annotations)]
    out = dict(row)
    out["labels"] = majority
    if len(annotations) > 1:
        out["annotations"] = annotations
        out["agreement"] = len({tuple(sorted(v)) for v in annotations.values()}) == 1
    return out


def from_label_studio(path: Path, label_ids: Sequence[str], *, use: str = "annotations") -> list[dict[str, Any]]:
    """Rows from a Label Studio JSON export (``use="predictions"`` reads the pre-annotations instead)."""
    where_file = str(path)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError([f"{where_file}: not a readable Label Studio JSON export ({exc})"]) from exc
    if not isinstance(tasks, list):
        raise DataError([f"{where_file}: a Label Studio export is a JSON list of tasks"])
    known, problems, rows = set(label_ids), [], []
    for t, task in enumerate(tasks):
        where = f"{where_file}: task {t}" + (f" (id {task['id']})" if isinstance(task, dict) and "id" in task else "")
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            problems.append(f"{where}: a task needs a 'data' object")
            continue
        text = task["data"].get(TEXT_NAME)
        if not isinstance(text, str) or is_blank(text):
            problems.append(f"{where}: data.{TEXT_NAME} is missing or empty")
            continue
        entries = [a for a in task.get(use) or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not entries:
            problems.append(f"{where}: no {use[:-1]} to import")
            continue
        annotations: dict[str, list[str]] = {}
        for position, entry in enumerate(entries):
            chosen: list[str] = []
            for result in entry.get("result") or []:
                if result.get("type") == "choices" and result.get("from_name", CHOICES_NAME) == CHOICES_NAME:
                    chosen += result.get("value", {}).get("choices", [])
            labels = _check_labels(chosen, f"{where} {use[:-1]} {position}", known, problems)
            if labels is not None:
                name = _annotator_name(entry, position) if use == "annotations" else f"model-{position + 1}"
                annotations[name] = labels
        if annotations:
            rows.append(merge_annotations(dict(task["data"]), annotations, label_ids))
    if problems:
        raise DataError(problems)
    return rows


def from_doccano(paths: Sequence[Path], label_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Rows from doccano JSONL exports; each file is one annotator unless lines name theirs."""
    known, problems = set(label_ids), []
    merged: dict[str, tuple[dict[str, Any], dict[str, list[str]]]] = {}
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise DataError([f"{path}: cannot read ({exc.strerror or exc})"]) from exc
        for line_no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: invalid JSON ({exc.msg})")
                continue
            if not isinstance(item, dict) or not isinstance(item.get("text"), str) or is_blank(item["text"]):
                problems.append(f"{where}: a line needs a non-empty 'text'")
                continue
            if "label" not in item:
                problems.append(f"{where}: no 'label' (an unannotated example)")
                continue
            labels = _check_labels(item["label"], where, known, problems)
            if labels is None:
                continue
            annotator = str(item.get("annotator") or item.get("user") or path.stem)
            row = {k: v for k, v in item.items() if k not in ("label", "annotator", "user", ROW_ID)}
            if ROW_ID in item:
                row["id"] = item[ROW_ID]
            key = str(row.get("id", row["text"]))
            merged.setdefault(key, (row, {}))[1][annotator] = labels
    if problems:
        raise DataError(problems)
    return [merge_annotations(row, annotations, label_ids) for row, annotations in merged.values()]
