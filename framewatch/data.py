"""Reading and validating labelled sentences (JSON Lines or CSV).

Format: one sentence per row, ``{"text": str, "labels": [label ids]}``; any
other field (``id``, ``group``, ``note`` ...) is kept. CSV needs a ``text``
column and a ``labels`` column of ``;``-separated ids.

Validation collects every problem with its file and line before raising, so a
researcher fixes a file in one pass rather than one error per run.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framewatch.errors import DataError

__all__ = [
    "Example",
    "ValidationReport",
    "find_near_duplicates",
    "multi_hot",
    "read_examples",
    "read_records",
    "to_hf_dataset",
    "validate_files",
]

NEAR_DUPLICATE_JACCARD = 0.6


@dataclass(frozen=True)
class Example:
    """One labelled sentence and where it came from."""

    text: str
    labels: tuple[str, ...]
    fields: dict[str, Any] = field(default_factory=dict, compare=False)
    source: str = ""


def _rows_jsonl(handle: io.TextIOBase, name: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    for line_no, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, None, f"{name}:{line_no}: invalid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(row, dict):
            yield line_no, None, f"{name}:{line_no}: expected a JSON object, got {type(row).__name__}"
            continue
        yield line_no, row, None


def _rows_csv(handle: io.TextIOBase, name: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or "text" not in reader.fieldnames:
        yield 1, None, f"{name}:1: CSV header must have a 'text' column"
        return
    for row in reader:
        line_no = reader.line_num
        if None in row:
            yield line_no, None, f"{name}:{line_no}: more fields than the header has"
            continue
        record: dict[str, Any] = dict(row)
        if "labels" in record:
            raw = (record["labels"] or "").strip()
            record["labels"] = [part.strip() for part in raw.split(";") if part.strip()]
        yield line_no, record, None


def _open_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    name = str(path)
    if name == "-":
        yield from _rows_jsonl(sys.stdin, "<stdin>")
        return
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        yield 0, None, f"{name}: cannot open ({exc.strerror or exc})"
        return
    with handle:
        rows = _rows_csv if path.suffix.lower() == ".csv" else _rows_jsonl
        try:
            yield from rows(handle, name)
        except UnicodeDecodeError as exc:
            yield 0, None, f"{name}: not UTF-8 text ({exc.reason})"


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Rows to score: each needs a non-empty ``text``; ``labels`` is not required."""
    records, problems = [], []
    for line_no, row, problem in _open_rows(path):
        if problem:
            problems.append(problem)
            continue
        assert row is not None
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{path}:{line_no}: 'text' must be a non-empty string")
            continue
        records.append(row)
    if problems:
        raise DataError(problems)
    return records


def _check_labelled_row(row: dict[str, Any], where: str, known: set[str]) -> list[str]:
    problems = []
    text = row.get("text")
    if "text" not in row:
        problems.append(f"{where}: missing 'text'")
    elif not isinstance(text, str):
        problems.append(f"{where}: 'text' must be a string, got {type(text).__name__}")
    elif not text.strip():
        problems.append(f"{where}: empty text")
    labels = row.get("labels")
    if "labels" not in row:
        problems.append(f"{where}: missing 'labels' (use [] for none)")
    elif not isinstance(labels, list):
        problems.append(f"{where}: 'labels' must be a list, got {type(labels).__name__}")
    else:
        for label in labels:
            if not isinstance(label, str):
                problems.append(f"{where}: label {label!r} is not a string")
            elif label not in known:
                problems.append(f"{where}: unknown label {label!r} (schema: {', '.join(sorted(known))})")
        if len(set(map(str, labels))) != len(labels):
            problems.append(f"{where}: repeated label in {labels}")
    return problems


def _collect(paths: Sequence[str | Path], label_ids: Sequence[str]) -> tuple[list[Example], list[str]]:
    known = set(label_ids)
    examples: list[Example] = []
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for path in paths:
        for line_no, row, problem in _open_rows(path):
            if problem:
                problems.append(problem)
                continue
            assert row is not None
            where = f"{path}:{line_no}"
            row_problems = _check_labelled_row(row, where, known)
            if row_problems:
                problems.extend(row_problems)
                continue
            key = " ".join(row["text"].split()).lower()
            if key in first_seen:
                problems.append(f"{where}: duplicate text (first seen at {first_seen[key]})")
                continue
            first_seen[key] = where
            extra = {k: v for k, v in row.items() if k not in ("text", "labels")}
            examples.append(Example(row["text"], tuple(row["labels"]), extra, where))
    return examples, problems


def read_examples(paths: str | Path | Sequence[str | Path], label_ids: Sequence[str]) -> list[Example]:
    """Read labelled files; raise :class:`DataError` listing every problem at once."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    examples, problems = _collect(paths, label_ids)
    if problems:
        raise DataError(problems)
    if not examples:
        raise DataError([f"{', '.join(map(str, paths))}: no rows"])
    return examples


def find_near_duplicates(
    texts: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[tuple[int, int, float]]:
    """Pairs whose word sets have Jaccard similarity above ``threshold``.

    Exact, not sampled: one sparse product of binary bag-of-words vectors gives
    every pairwise intersection, which is fast for tens of thousands of rows.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if len(texts) < 2:
        return []
    vectorizer = CountVectorizer(binary=True, lowercase=True, token_pattern=r"[a-z0-9']+")
    try:
        matrix = vectorizer.fit_transform(texts).astype(np.int32).tocsr()
    except ValueError:  # no tokens at all
        return []
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    overlap = (matrix @ matrix.T).tocoo()
    pairs = []
    for i, j, inter in zip(overlap.row, overlap.col, overlap.data):
        if i < j:
            union = sizes[i] + sizes[j] - inter
            similarity = inter / union if union else 0.0
            if similarity > threshold:
                pairs.append((int(i), int(j), float(similarity)))
    return sorted(pairs)


@dataclass
class ValidationReport:
    """Outcome of ``framewatch data validate``: problems and counts."""

    examples: list[Example]
    problems: list[str]
    label_ids: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for example in self.examples:
            counts["sentences"] += 1
            counts["none"] += not example.labels
            counts["two_or_more_labels"] += len(example.labels) >= 2
            for label in example.labels:
                counts[label] += 1
        return {key: counts[key] for key in ["sentences", *self.label_ids, "none", "two_or_more_labels"]}

    def render(self) -> str:
        lines = [f"{len(self.examples)} valid rows"]
        lines += [f"  {key:<30} {value}" for key, value in self.counts().items()]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  {p}" for p in self.problems]
        else:
            lines.append("no problems")
        return "\n".join(lines)


def validate_files(
    paths: Sequence[str | Path], label_ids: Sequence[str], *, near_duplicate_threshold: float = NEAR_DUPLICATE_JACCARD
) -> ValidationReport:
    """Check files row by row and, across all of them, for near-duplicate sentences."""
    examples, problems = _collect(paths, label_ids)
    for i, j, similarity in find_near_duplicates([e.text for e in examples], near_duplicate_threshold):
        problems.append(
            f"{examples[j].source}: near-duplicate of {examples[i].source} "
            f"(word Jaccard {similarity:.2f} > {near_duplicate_threshold})"
        )
    return ValidationReport(examples, problems, list(label_ids))


def multi_hot(labels: Sequence[Sequence[str]], label_ids: Sequence[str]) -> np.ndarray:
    """Label-id lists to a float32 (n, len(label_ids)) indicator matrix."""
    index = {label: k for k, label in enumerate(label_ids)}
    matrix = np.zeros((len(labels), len(label_ids)), dtype=np.float32)
    for row, row_labels in enumerate(labels):
        for label in row_labels:
            matrix[row, index[label]] = 1.0
    return matrix


def to_hf_dataset(examples: Sequence[Example], label_ids: Sequence[str]):
    """A ``datasets.Dataset`` with ``text`` and float multi-hot ``labels`` (what BCE expects)."""
    from datasets import Dataset

    targets = multi_hot([e.labels for e in examples], label_ids)
    return Dataset.from_dict({"text": [e.text for e in examples], "labels": targets.tolist()})
