"""Output files of ``framewatch predict`` that a killed run can continue without losing or repeating a row.

Rows are written in input order into a work file beside the output,
``OUTPUT.partial``, and the work file becomes ``OUTPUT`` only when every row is
in it, so ``OUTPUT`` is always complete. The work file itself is the record of
progress: nothing else is kept, so the two can never disagree.

- JSON Lines and CSV are appended to and flushed after every chunk. A process
  killed mid-write leaves at most one torn record at the end; ``recover``
  counts the complete records, cuts the file after the last one, and the run
  continues with the next input row.
- Parquet cannot be appended to, and a file without its footer is unreadable,
  so ``OUTPUT.partial`` is a directory of parts, each written under a temporary
  name and renamed when complete. ``recover`` counts the rows of the complete
  parts (from their footers); a kill loses at most the part being filled, whose
  rows are scored again. Publishing streams the parts, one row group each, into
  one file.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framewatch.errors import DataError
from framewatch.formats import format_of
from framewatch.scored_rows import EVIDENCE, GOLD_LABELS, LABELS, SCORES

__all__ = [
    "PARQUET_PART_ROWS",
    "PARTIAL_SUFFIX",
    "SCORE_COLUMN_PREFIX",
    "CsvOutput",
    "JsonlOutput",
    "ParquetOutput",
    "ResumableOutput",
    "ResumePoint",
    "jsonl_text",
    "open_output",
]

logger = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
PARQUET_PART_ROWS = 65_536
"""Rows per Parquet part (and row group): a kill re-scores at most this many; memory holds at most this many."""
SCORE_COLUMN_PREFIX = "score_"
"""CSV has no nested columns: the score of label ``x`` is the column ``score_x``."""


@dataclass(frozen=True)
class ResumePoint:
    """How many rows an earlier run completed, and the text of the last, to check it scored this input."""

    rows: int = 0
    last_text: str | None = None


class ResumableOutput:
    """One output file, written through ``OUTPUT.partial``; subclasses know their format's records."""

    def __init__(self, path: Path):
        self.path = path
        self.partial = path.with_name(path.name + PARTIAL_SUFFIX)

    def start(self, *, resume: bool) -> ResumePoint:
        """Begin writing: continue the work file where its last complete record ends, or start it afresh."""
        if resume and self.partial.exists():
            point = self.recover()
            logger.info("--resume: %s holds %d complete rows; continuing after them", self.partial, point.rows)
            return point
        if self.partial.exists():
            logger.warning("discarding the interrupted run in %s (use --resume to continue it)", self.partial)
            self._remove_partial()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._create()
        return ResumePoint()

    def _remove_partial(self) -> None:
        if self.partial.is_dir():
            shutil.rmtree(self.partial)
        else:
            self.partial.unlink()

    def publish(self) -> Path:
        """Make the complete work file the output (an atomic rename on one filesystem)."""
        self.close()
        os.replace(self.partial, self.path)
        return self.path

    def recover(self) -> ResumePoint:
        raise NotImplementedError

    def published_rows(self) -> int:
        """Rows in a finished ``OUTPUT`` (so ``--resume`` of a completed run can check and stop)."""
        raise NotImplementedError

    def _create(self) -> None:
        raise NotImplementedError

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _LineRecords(ResumableOutput):
    """Shared by JSON Lines and CSV: an append-only text file whose records end in a newline."""

    handle: io.TextIOWrapper | None = None

    def _records(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(end_offset, row)`` of each complete record in order; stops at the first torn or unreadable one."""
        raise NotImplementedError

    def recover(self) -> ResumePoint:
        rows, complete_bytes, last = 0, 0, None
        for record_end, row in self._records(self.partial):
            rows, complete_bytes, last = rows + 1, record_end, row
        with self.partial.open("r+b") as handle:
            handle.truncate(complete_bytes)
        self._reopen()
        return ResumePoint(rows, None if last is None else last.get("text"))

    def published_rows(self) -> int:
        return sum(1 for _ in self._records(self.path))

    def _reopen(self) -> None:
        self.handle = self.partial.open("a", encoding="utf-8", newline="")

    def _create(self) -> None:
        self.partial.write_bytes(b"")
        self._reopen()

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        assert self.handle is not None, "start() first"
        self.handle.write(self._encode(rows))
        self.handle.flush()  # a kill loses nothing written so far, and tears at most the record in flight

    def _encode(self, rows: Sequence[dict[str, Any]]) -> str:
        raise NotImplementedError

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _lines_with_offsets(path: Path) -> Iterator[tuple[int, bytes]]:
    """Each newline-terminated line and the byte offset after it; an unterminated last line is torn."""
    offset = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                return
            offset += len(line)
            yield offset, line


def jsonl_text(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as JSON Lines, non-ASCII text kept as it is."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


class JsonlOutput(_LineRecords):
    """One JSON object a line, nested as the row is (``scores`` a mapping of label to score)."""

    def _records(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        for end, line in _lines_with_offsets(path):
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return
            if not isinstance(row, dict):
                return
            yield end, row

    def _encode(self, rows: Sequence[dict[str, Any]]) -> str:
        return jsonl_text(rows)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ";".join(value)  # the input format's own convention for labels
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    flat = {key: _csv_cell(value) for key, value in row.items() if key != SCORES}
    for label, score in row.get(SCORES, {}).items():
        flat[SCORE_COLUMN_PREFIX + label] = score
    return flat


class CsvOutput(_LineRecords):
    """A header, then one record a row; ``labels`` and ``gold_labels`` ``;``-separated, one ``score_x`` per label.

    The columns are those of the first row: a later row with a field the first
    did not have is an error (it would be silently dropped otherwise).
    """

    columns: list[str] | None = None

    def _records(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        ends: list[int] = []

        def lines() -> Iterator[str]:
            for end, line in _lines_with_offsets(path):
                ends.append(end)
                yield line.decode("utf-8", errors="replace")

        reader = csv.reader(lines())
        try:
            header = next(reader)
            self.columns = header
            for record in reader:
                if len(record) != len(header):
                    return
                yield ends[-1], dict(zip(header, record))
        except (StopIteration, csv.Error):
            return

    def recover(self) -> ResumePoint:
        self.columns = None
        point = super().recover()
        if point.rows == 0:
            self.columns = None  # the file was cut back to nothing: the next write starts with the header again
        return point

    def _encode(self, rows: Sequence[dict[str, Any]]) -> str:
        buffer = io.StringIO()
        flat_rows = [_flat(row) for row in rows]
        if self.columns is None and flat_rows:
            self.columns = list(flat_rows[0])
            csv.writer(buffer).writerow(self.columns)
        writer = csv.DictWriter(buffer, fieldnames=self.columns or [], restval="")
        for row in flat_rows:
            extra = sorted(set(row) - set(writer.fieldnames))
            if extra:
                raise DataError([f"{self.path}: a row has field(s) {extra} that the first row had no column for"])
            writer.writerow(row)
        return buffer.getvalue()


def _schema_of(inferred):
    """The first chunk's inferred schema, with label lists typed even where that chunk had only empty ones."""
    import pyarrow as pa

    span = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()), ("weight", pa.float64())])
    fields = []
    for field in inferred:
        if field.name == EVIDENCE:
            field = field.with_type(pa.map_(pa.string(), pa.list_(span)))  # label -> spans, whatever the labels
        elif field.name in (LABELS, GOLD_LABELS) and pa.types.is_list(field.type):
            field = field.with_type(pa.list_(pa.string()))
        elif pa.types.is_null(field.type):
            field = field.with_type(pa.string())  # all-null in the first chunk: strings are the likeliest
        fields.append(field)
    return pa.schema(fields)


class ParquetOutput(ResumableOutput):
    """A Parquet file: ``labels`` and ``gold_labels`` lists of strings, ``scores`` a struct of one float per label.

    The schema is the first chunk's; every later chunk is converted to it.
    """

    def __init__(self, path: Path):
        super().__init__(path)
        self.schema = None
        self.buffered: list[Any] = []
        self.buffered_rows = 0

    def _parts(self) -> list[Path]:
        return sorted(self.partial.glob("part-*.parquet"))

    def _create(self) -> None:
        self.partial.mkdir()

    def recover(self) -> ResumePoint:
        import pyarrow.parquet as pq

        for leftover in self.partial.glob("*.tmp"):
            leftover.unlink()  # a part that was being written when the run was killed
        parts = self._parts()
        if not parts:
            return ResumePoint()
        last = pq.ParquetFile(parts[-1])
        self.schema = last.schema_arrow
        rows = sum(pq.ParquetFile(part).metadata.num_rows for part in parts)
        texts = last.read_row_group(last.num_row_groups - 1, columns=["text"]).column("text")
        return ResumePoint(rows, texts[len(texts) - 1].as_py())

    def published_rows(self) -> int:
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path).metadata.num_rows

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        import pyarrow as pa

        if not rows:
            return
        if self.schema is None:
            self.schema = _schema_of(pa.Table.from_pylist(list(rows)).schema)
        try:
            table = pa.Table.from_pylist(list(rows), schema=self.schema)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise DataError([f"{self.path}: a row does not fit the columns of the first rows ({exc})"]) from exc
        extra = sorted({key for row in rows for key in row} - set(self.schema.names))
        if extra:
            raise DataError([f"{self.path}: a row has field(s) {extra} that the first rows had no column for"])
        self.buffered.append(table)
        self.buffered_rows += table.num_rows
        if self.buffered_rows >= PARQUET_PART_ROWS:
            self._write_part()

    def _write_part(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.buffered_rows:
            return
        final = self.partial / f"part-{len(self._parts()):06d}.parquet"
        temporary = final.with_name(final.name + ".tmp")
        pq.write_table(pa.concat_tables(self.buffered), temporary, row_group_size=self.buffered_rows)
        os.replace(temporary, final)
        self.buffered, self.buffered_rows = [], 0

    def close(self) -> None:
        self._write_part()

    def publish(self) -> Path:
        """Stream every part into one file (one part in memory at a time), then swap it in for the parts."""
        import pyarrow.parquet as pq

        self.close()
        parts = self._parts()
        temporary = self.path.with_name(self.path.name + ".tmp")
        if not parts:
            raise DataError([f"{self.path}: no rows to write"])
        with pq.ParquetWriter(temporary, pq.ParquetFile(parts[0]).schema_arrow) as writer:
            for part in parts:
                source = pq.ParquetFile(part)
                for group in range(source.num_row_groups):
                    writer.write_table(source.read_row_group(group))
        os.replace(temporary, self.path)
        shutil.rmtree(self.partial)
        return self.path


def open_output(path: str | Path) -> ResumableOutput:
    """The resumable writer for ``path``'s format (:func:`framewatch.formats.format_of`)."""
    path = Path(path)
    kind = format_of(path)
    if kind == "parquet":
        return ParquetOutput(path)
    return CsvOutput(path) if kind == "csv" else JsonlOutput(path)
