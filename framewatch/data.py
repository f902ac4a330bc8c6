"""Reading and validating labelled sentences (JSON Lines, CSV or Parquet).

Format: one sentence per row, ``{"text": str, "labels": [label ids]}``; any
other field (``id``, ``group``, ``note`` ...) is kept. CSV needs a ``text``
column and a ``labels`` column of ``;``-separated ids; Parquet a ``text``
column and a ``labels`` column of string lists. A Parquet row's "line" in a
message is its row number, counted from 1.

A row of a real-text dataset carries an ``id`` and no ``text``: its text (and
``doc_id``, ``source``, ``register``) come from the corpus directory at read
time (:mod:`framewatch.corpus`), because the real text is not the project's to
ship.

Validation collects every problem with its file and line before raising, so a
researcher fixes a file in one pass rather than one error per run.
"""

from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framewatch.corpus import Corpus, load_corpus
from framewatch.errors import DataError
from framewatch.formats import STDIO, format_of
from framewatch.jsonl import iter_jsonl
from framewatch.text import is_blank

__all__ = [
    "Example",
    "ValidationReport",
    "PARQUET_BATCH_ROWS",
    "find_near_duplicates",
    "iter_rows",
    "multi_hot",
    "read_examples",
    "read_records",
    "text_problem",
    "split_leaks",
    "to_hf_dataset",
    "validate_files",
]

NEAR_DUPLICATE_JACCARD = 0.6
_BLOCK_ROWS = 1000
PARQUET_BATCH_ROWS = 1024
"""Rows decoded from a Parquet file at a time: what bounds the memory of reading one."""


@dataclass(frozen=True)
class Example:
    """One labelled sentence and where it came from."""

    text: str
    labels: tuple[str, ...]
    fields: dict[str, Any] = field(default_factory=dict, compare=False)
    source: str = ""


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


def _rows_parquet(path: Path, name: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        yield 0, None, f"{name}: not a readable Parquet file ({exc})"
        return
    if "text" not in table.schema_arrow.names:
        yield 1, None, f"{name}: Parquet schema must have a 'text' column"
        return
    row_no = 0
    for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for row in batch.to_pylist():
            row_no += 1
            yield row_no, row, None


def iter_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Stream ``(line_no, row, None)`` per row and ``(line_no, None, problem)`` per malformed one, any format."""
    name = str(path)
    if name == STDIO:
        yield from iter_jsonl(sys.stdin, "<stdin>")
        return
    path = Path(path)
    if format_of(path) == "parquet":
        yield from _rows_parquet(path, name)
        return
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        yield 0, None, f"{name}: cannot open ({exc.strerror or exc})"
        return
    with handle:
        rows = _rows_csv if format_of(path) == "csv" else iter_jsonl
        try:
            yield from rows(handle, name)
        except UnicodeDecodeError as exc:
            yield 0, None, f"{name}: not UTF-8 text ({exc.reason})"


def text_problem(row: dict[str, Any], where: str) -> str | None:
    """Why a row to score cannot be scored (it needs a non-empty string ``text``), or None."""
    text = row.get("text")
    if not isinstance(text, str) or is_blank(text):
        return f"{where}: 'text' must be a non-empty string"
    return None


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Rows to score: each needs a non-empty ``text``; ``labels`` is not required."""
    records, problems = [], []
    for line_no, row, problem in iter_rows(path):
        problem = problem or text_problem(row, f"{path}:{line_no}")
        if problem:
            problems.append(problem)
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
    elif is_blank(text):
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


CORPUS_FIELDS = ("text", "doc_id", "source", "register")
"""What a row that names only its ``id`` takes from the corpus."""


class _CorpusLookup:
    """Loads the corpus the first time a row needs it, and reports its absence once."""

    def __init__(self, corpus_dir: str | Path | None):
        self.corpus_dir = corpus_dir
        self.corpus: Corpus | None = None
        self.failure: str | None = None

    def fill(self, row: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any] | None:
        if self.failure is not None:
            return None
        if self.corpus is None:
            try:
                self.corpus = load_corpus(self.corpus_dir)
            except DataError as exc:
                self.failure = exc.problems[0]
                problems.append(f"{where}: row has an 'id' and no 'text': {self.failure}")
                return None
        found = self.corpus.get(row["id"])
        if found is None:
            problems.append(f"{where}: id {row['id']!r} is not in the corpus {self.corpus.path}")
            return None
        return {**{key: found[key] for key in CORPUS_FIELDS if key in found}, **row}


def _collect(
    paths: Sequence[str | Path], label_ids: Sequence[str], corpus_dir: str | Path | None = None
) -> tuple[list[Example], list[str]]:
    known = set(label_ids)
    examples: list[Example] = []
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    lookup = _CorpusLookup(corpus_dir)
    for path in paths:
        for line_no, row, problem in iter_rows(path):
            if problem:
                problems.append(problem)
                continue
            assert row is not None
            where = f"{path}:{line_no}"
            if "text" not in row and isinstance(row.get("id"), str):
                row = lookup.fill(row, where, problems)
                if row is None:
                    continue
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


def read_examples(
    paths: str | Path | Sequence[str | Path], label_ids: Sequence[str], *, corpus_dir: str | Path | None = None
) -> list[Example]:
    """Read labelled files; raise :class:`DataError` listing every problem at once."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    examples, problems = _collect(paths, label_ids, corpus_dir)
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
    transposed = matrix.T.tocsc()
    pairs = []
    # Row blocks keep the intersection matrix small: common words make it dense.
    for start in range(0, matrix.shape[0], _BLOCK_ROWS):
        overlap = (matrix[start : start + _BLOCK_ROWS] @ transposed).tocoo()
        rows = overlap.row + start
        keep = rows < overlap.col
        rows, cols, inter = rows[keep], overlap.col[keep], overlap.data[keep]
        union = sizes[rows] + sizes[cols] - inter
        similarity = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        hits = similarity > threshold
        pairs += [(int(i), int(j), float(v)) for i, j, v in zip(rows[hits], cols[hits], similarity[hits])]
    return sorted(pairs)


SPLIT_KEYS = ("group", "doc_id")
"""Fields that name a unit (a topic group, a real document) which must stay within one split."""


def split_leaks(examples: Sequence[Example]) -> list[str]:
    """Groups or documents found in two files of one directory, i.e. in two splits of one dataset."""
    seen: dict[tuple[str, str, str], list[str]] = {}
    for example in examples:
        file = example.source.rsplit(":", 1)[0]
        for key in SPLIT_KEYS:
            value = example.fields.get(key)
            if isinstance(value, str) and value:
                files = seen.setdefault((str(Path(file).parent), key, value), [])
                if file not in files:
                    files.append(file)
    return [
        f"{key} {value!r} is in {len(files)} splits ({', '.join(files)}); a {key} belongs to one split only"
        for (_, key, value), files in seen.items()
        if len(files) > 1
    ]


@dataclass
class ValidationReport:
    """Outcome of ``framewatch data validate``: problems and counts."""

    examples: list[Example]
    problems: list[str]
    label_ids: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self, examples: Sequence[Example] | None = None) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for example in self.examples if examples is None else examples:
            counts["sentences"] += 1
            counts["none"] += not example.labels
            counts["two_or_more_labels"] += len(example.labels) >= 2
            for label in example.labels:
                counts[label] += 1
        return {key: counts[key] for key in ["sentences", *self.label_ids, "none", "two_or_more_labels"]}

    def by_file(self) -> dict[str, dict[str, int]]:
        files: dict[str, list[Example]] = {}
        for example in self.examples:
            files.setdefault(example.source.rsplit(":", 1)[0], []).append(example)
        return {name: self.counts(rows) for name, rows in files.items()}

    def render(self) -> str:
        keys = list(self.counts())
        per_file = self.by_file()
        lines = [f"{len(self.examples)} valid rows", "  " + " ".join(f"{k:>12.12}" for k in ["", *keys])]
        for name, counts in [*per_file.items(), ("total", self.counts())]:
            label = name if len(name) <= 40 else "..." + name[-37:]
            lines.append(f"  {label}\n  " + " ".join(f"{v:>12}" for v in ["", *counts.values()]))
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  {p}" for p in self.problems]
        else:
            lines.append("no problems")
        return "\n".join(lines)


def validate_files(
    paths: Sequence[str | Path],
    label_ids: Sequence[str],
    *,
    near_duplicate_threshold: float = NEAR_DUPLICATE_JACCARD,
    corpus_dir: str | Path | None = None,
) -> ValidationReport:
    """Check files row by row and, across all of them, for near-duplicates and units shared between splits.

    Rows that carry only an ``id`` must resolve in the corpus (:mod:`framewatch.corpus`).
    """
    examples, problems = _collect(paths, label_ids, corpus_dir)
    for i, j, similarity in find_near_duplicates([e.text for e in examples], near_duplicate_threshold):
        problems.append(
            f"{examples[j].source}: near-duplicate of {examples[i].source} "
            f"(word Jaccard {similarity:.2f} > {near_duplicate_threshold})"
        )
    problems += split_leaks(examples)
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
