"""Which table format a file holds: the one rule, read from its name.

Every reader and writer of rows (``framewatch data``, ``framewatch predict``,
the annotation loop) asks here, so a file is never read as one format and
written as another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["STDIO", "FileFormat", "format_of"]

FileFormat = Literal["jsonl", "csv", "parquet"]

STDIO = "-"
"""The path that stands for standard input or output, always read and written as JSON Lines."""

_BY_SUFFIX: dict[str, FileFormat] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def format_of(path: str | Path) -> FileFormat:
    """``.csv`` is CSV, ``.parquet``/``.pq`` Parquet, anything else (``.jsonl``, ``.json``, stdin) JSON Lines."""
    if str(path) == STDIO:
        return "jsonl"
    return _BY_SUFFIX.get(Path(path).suffix.lower(), "jsonl")
