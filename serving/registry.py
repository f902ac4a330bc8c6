"""The model being served, and its atomic replacement (hot reload).

A reload loads and smoke-tests the new checkpoint off the event loop while the
old one keeps serving; only a checkpoint that passes is swapped in. Requests
already queued hold a reference to the predictor they started with, so they
finish on the old model.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from framewatch.errors import CheckpointError, NotReadyError
from framewatch.predictor import Predictor

__all__ = ["ModelRegistry", "smoke_test"]

logger = logging.getLogger(__name__)

SMOKE_TEXTS = ["The ministry published the figures on Tuesday.", "They died for a holy and eternal cause."]

PredictorLoader = Callable[[Path], Predictor]


def smoke_test(predictor: Predictor) -> None:
    """Score fixed sentences; a checkpoint that cannot, or yields non-finite scores, is refused."""
    try:
        scores = predictor.score(SMOKE_TEXTS)
    except Exception as exc:
        raise CheckpointError(f"smoke test failed: {exc}") from exc
    if scores.shape != (len(SMOKE_TEXTS), len(predictor.label_ids)) or not np.isfinite(scores).all():
        raise CheckpointError(f"smoke test failed: scores of shape {scores.shape} with non-finite values")


class ModelRegistry:
    """Holds the current predictor and where it came from."""

    def __init__(self, loader: PredictorLoader, default_checkpoint: Path):
        self._loader = loader
        self.default_checkpoint = Path(default_checkpoint)
        self._predictor: Predictor | None = None
        self.checkpoint_path: Path | None = None
        self._lock = asyncio.Lock()
        self.on_swap: Callable[[Predictor], None] | None = None

    @property
    def ready(self) -> bool:
        return self._predictor is not None

    @property
    def current(self) -> Predictor:
        if self._predictor is None:
            raise NotReadyError("model not loaded yet")
        return self._predictor

    def install(self, predictor: Predictor, path: Path) -> None:
        """Warm up (one prediction) and make ``predictor`` current."""
        smoke_test(predictor)
        self._predictor, self.checkpoint_path = predictor, Path(path)
        if self.on_swap:
            self.on_swap(predictor)

    async def reload(self, path: Path | None = None) -> tuple[str, str]:
        """Load, smoke-test and swap; on any failure the old model stays."""
        path = Path(path) if path else self.default_checkpoint
        async with self._lock:
            previous = self.current.metadata.checkpoint_id if self._predictor else ""
            loop = asyncio.get_running_loop()

            def load_and_check() -> Predictor:
                candidate = self._loader(path)
                smoke_test(candidate)
                return candidate

            candidate = await loop.run_in_executor(None, load_and_check)
            self.install(candidate, path)
            logger.info("reloaded model %s -> %s from %s", previous, candidate.metadata.checkpoint_id, path)
            return previous, candidate.metadata.checkpoint_id
