"""Reading JSON Lines row by row, with the file and line of every malformed row."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

__all__ = ["iter_jsonl"]


def iter_jsonl(handle: io.TextIOBase, name: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield ``(line_no, row, None)`` per object, ``(line_no, None, problem)`` per bad line; blank lines skipped."""
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
