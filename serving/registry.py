"""The model being served, and its atomic replacement (hot reload).

A reload loads, probes (dtype) and smoke-tests the new checkpoint on the model
worker's thread, between batches, while the old one keeps serving; only a
checkpoint that passes is swapped in. The registry itself never touches
tensors. Requests already queued hold a reference to the predictor they
started with, so they finish on the old model.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from framewatch.errors import CheckpointError, NotReadyError
from framewatch.predictor import Predictor

__all__ = ["ModelRegistry", "smoke_test"]

logger = logging.getLogger(__name__)

SMOKE_TEXTS = ["The ministry published the figures on Tuesday.", "They died for a holy and eternal cause."]

PredictorLoader = Callable[[Path], Predictor]
ModelThreadRunner = Callable[..., Awaitable[Any]]


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

    def __init__(self, loader: PredictorLoader, default_checkpoint: Path, run_on_model_thread: ModelThreadRunner):
        self._loader = loader
        self._run_on_model_thread = run_on_model_thread
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

    async def install(self, predictor: Predictor, path: Path) -> None:
        """Smoke-test ``predictor`` on the model thread and make it current."""
        await self._run_on_model_thread(smoke_test, predictor)
        self._swap(predictor, path)

    def _swap(self, predictor: Predictor, path: Path) -> None:
        self._predictor, self.checkpoint_path = predictor, Path(path)
        if self.on_swap:
            self.on_swap(predictor)

    async def reload(self, path: Path | None = None) -> tuple[str, str]:
        """Load, smoke-test and swap; on any failure the old model stays."""
        path = Path(path) if path else self.default_checkpoint
        async with self._lock:
            previous = self.current.metadata.checkpoint_id if self._predictor else ""

            def load_and_check() -> Predictor:
                candidate = self._loader(path)
                smoke_test(candidate)
                return candidate

            candidate = await self._run_on_model_thread(load_and_check)
            self._swap(candidate, path)
            logger.info("reloaded model %s -> %s from %s", previous, candidate.metadata.checkpoint_id, path)
            return previous, candidate.metadata.checkpoint_id
