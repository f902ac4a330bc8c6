"""Helpers shared by the benchmarks: sentences and rows to score, percentiles, a free port."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def sentences(n: int) -> list[str]:
    """``n`` real sentences from the shipped dev and test splits (cycled if needed)."""
    texts = []
    for split in ("test", "dev"):
        path = REPO / "datasets" / "framing-v1" / f"{split}.jsonl"
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    return [texts[i % len(texts)] for i in range(n)]


SHORT_WORDS = 8
"""Words kept of each sentence in :func:`short_rows`: one window, no long tail."""


def short_rows(start: int, n: int) -> list[dict]:
    """Rows ``start`` to ``start + n`` of an endless file of short sentences (the first words of real ones)."""
    texts = [" ".join(text.split()[:SHORT_WORDS]) for text in sentences(2000)]
    return [{"id": i, "text": texts[i % len(texts)]} for i in range(start, start + n)]


def percentile_ms(latencies_s: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(latencies_s) * 1000, q)) if latencies_s else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
