"""Real text that the project reads but does not ship.

Real, licensed sentences (news, speeches, diplomatic records) live in a corpus
directory outside the repository; datasets built on them ship only ids, labels
and strata. This module is the one place that knows where that directory is
and how a row without ``text`` gets its text back from its ``id``, so every
reader (training, evaluation, ``data validate``, ``annotate``) says the same
clear thing when the directory is absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from framewatch.errors import DataError
from framewatch.jsonl import iter_jsonl

__all__ = [
    "CORPORA_ENV",
    "DEFAULT_CORPORA_DIR",
    "POOL_FILE",
    "Corpus",
    "corpora_dir",
    "load_corpus",
]

CORPORA_ENV = "FRAMEWATCH_CORPORA_DIR"
"""Environment variable that overrides the corpus directory of the config."""

DEFAULT_CORPORA_DIR = Path("../shared/corpora")
POOL_FILE = "realtext-pool.jsonl"
"""The pool of real sentences: one JSON object a line with ``id``, ``text``, ``doc_id``, ``source``, ..."""


def corpora_dir(configured: str | Path | None = None) -> Path:
    """The corpus directory: the environment variable wins over the config, which wins over the default."""
    return Path(os.environ.get(CORPORA_ENV) or configured or DEFAULT_CORPORA_DIR)


class Corpus:
    """Pool rows by id, read once per process."""

    def __init__(self, rows: dict[str, dict[str, Any]], path: Path):
        self.rows = rows
        self.path = path

    def __contains__(self, row_id: str) -> bool:
        return row_id in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, row_id: str) -> dict[str, Any] | None:
        return self.rows.get(row_id)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows.values())


def _read_pool(path: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    problems = []
    with path.open(encoding="utf-8") as handle:
        for line_no, row, problem in iter_jsonl(handle, str(path)):
            if problem is not None:
                problems.append(problem)
                continue
            if not isinstance(row.get("id"), str) or not isinstance(row.get("text"), str):
                problems.append(f"{path}:{line_no}: a pool row needs string 'id' and 'text'")
                continue
            rows[row["id"]] = row
    if problems:
        raise DataError(problems)
    return rows


@lru_cache(maxsize=4)
def _cached(path: Path, mtime_ns: int) -> Corpus:
    return Corpus(_read_pool(path), path)


def load_corpus(directory: str | Path | None = None, pool_file: str = POOL_FILE) -> Corpus:
    """Load the pool of real sentences, or raise a :class:`DataError` saying where it was looked for."""
    base = corpora_dir(directory)
    path = (base / pool_file).resolve()
    if not path.is_file():
        raise DataError(
            [
                f"real-text corpus not found: {base / pool_file} does not exist. Rows that carry only an 'id' "
                f"take their text from it; point {CORPORA_ENV} or corpora.dir in the config at the directory "
                f"that holds {pool_file}."
            ]
        )
    return _cached(path, path.stat().st_mtime_ns)
