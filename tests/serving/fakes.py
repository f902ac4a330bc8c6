"""A fake predictor for HTTP tests: deterministic keyword scores, counts its calls, can be made slow or broken."""

from __future__ import annotations

import threading
import time

import numpy as np

from framewatch.checkpoint import CheckpointMetadata
from framewatch.config import LabelSpec
from framewatch.predictor import ScoredTexts

LABELS = ["sacred_mission", "unverified_historical_claim", "soft_diplomacy_symbolism"]
KEYWORDS = {"sacred_mission": "holy", "unverified_historical_claim": "supposedly", "soft_diplomacy_symbolism": "wreath"}


class FakePredictor:
    def __init__(self, checkpoint_id: str = "fake-1", *, delay_s: float = 0.0, fail: bool = False):
        self.label_ids = list(LABELS)
        self.thresholds = np.full(len(LABELS), 0.5, dtype=np.float32)
        self.metadata = CheckpointMetadata(
            checkpoint_id=checkpoint_id,
            labels=[LabelSpec(id=lab, name=lab, description=f"about {lab}") for lab in LABELS],
            thresholds={lab: 0.5 for lab in LABELS},
            base_model="fake",
            created="2026-01-01T00:00:00+00:00",
            dev_metrics={"macro": {"f1": 0.5}},
        )
        self.device = "cpu"
        self.dtype = "fp32"
        self.dtype_reason = "fake"
        self.delay_s = delay_s
        self.fail = fail
        self.batches: list[int] = []
        self._lock = threading.Lock()
        self.threads: set[str] = set()

    def score_windows(self, texts, *, truncation=None):
        self.threads.add(threading.current_thread().name)
        windows = np.array([1 if truncation else 1 + len(t) // 1000 for t in texts], dtype=np.int64)
        tokens = np.array([len(t.split()) + 2 for t in texts], dtype=np.int64)
        return ScoredTexts(self.score(texts), windows, tokens)

    def score(self, texts):
        if self.fail:
            raise RuntimeError("model exploded")
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.batches.append(len(texts))
        return np.array(
            [[0.9 if KEYWORDS[lab] in t.lower() else 0.1 for lab in LABELS] for t in texts], dtype=np.float32
        )
