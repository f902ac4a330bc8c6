"""The model worker: one thread owns all model compute; one asyncio task forms its batches.

As in text-embeddings-inference's backend, nothing else touches the model.
Requests enqueue their sentences and await one future each. The task closes a
batch when it reaches ``max_batch_size`` sentences or ``max_wait_ms`` after its
first sentence, and hands it to the model thread, which tokenizes it (long
sentences become overlapping windows), cuts it into forward passes by real
token counts, and scores it. Loading, smoke-testing and the dtype probe of a
new checkpoint run on the same thread (:meth:`Batcher.run_on_model_thread`),
so a reload never competes with scoring for torch's threads.

Failures never strand a request:
- a failed batch fails every waiter of that batch with the same error (500);
- a failure of the task itself (forming batches, metrics hooks) fails every
  queued request, is logged and counted, turns :attr:`Batcher.ready` false for
  ``restart_delay_s`` and restarts the task;
- each request waits at most ``request_timeout_s`` (then 503 with Retry-After).

Admission: an article is admitted as a unit when it fits the free part of the
queue (the config guarantees that any request within the limits fits an empty
queue); otherwise the server really is saturated and the caller gets 503.

Each request is pinned to the predictor that was current when it arrived, and a
batch only mixes requests of one predictor and one truncation mode: a hot
reload never splits one request across two models.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from framewatch.errors import RETRY_AFTER_BUSY_S, RETRY_AFTER_UNAVAILABLE_S, ModelError, OverloadedError
from framewatch.predictor import Predictor, ScoredTexts

__all__ = ["BatchStats", "Batcher", "RequestTiming"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

ARRIVAL_GAP_S = 0.001
"""A filling batch closes early when no sentence arrived for this long (the event loop's timer resolution)."""


@dataclass
class _Request:
    predictor: Predictor
    truncation: str | None
    texts: Sequence[str]
    future: asyncio.Future
    scores: np.ndarray
    windows: np.ndarray
    tokens: np.ndarray
    remaining: int
    enqueued: float
    started: float | None = None  # when its first sentence entered a batch

    @property
    def batch_key(self) -> tuple[int, str | None]:
        """Requests share a batch only with the same predictor and truncation."""
        return id(self.predictor), self.truncation


@dataclass(frozen=True)
class RequestTiming:
    """Where one request's time went in the worker, and how many tokens it took."""

    queue_s: float
    inference_s: float
    tokens: int


@dataclass
class _Item:
    request: _Request
    index: int

    @property
    def text(self) -> str:
        return self.request.texts[self.index]


@dataclass
class BatchStats:
    """Counters the metrics module reads; also what tests assert on."""

    batches: int = 0
    sentences: int = 0
    windows: int = 0
    worker_failures: int = 0
    batch_sizes: collections.deque[int] = field(default_factory=lambda: collections.deque(maxlen=10_000))


class Batcher:
    """Owns the queue and the model thread; ``await batcher.score(predictor, texts)`` returns :class:`ScoredTexts`."""

    def __init__(
        self,
        *,
        max_batch_size: int,
        max_wait_ms: float,
        max_queue_sentences: int,
        request_timeout_s: float = 60.0,
        restart_delay_s: float = 0.5,
        on_batch: Callable[[int, float], None] | None = None,
        on_request: Callable[[RequestTiming], None] | None = None,
    ):
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.max_queue_sentences = max_queue_sentences
        self.request_timeout_s = request_timeout_s
        self.restart_delay_s = restart_delay_s
        self.on_batch = on_batch
        self.on_request = on_request
        self.stats = BatchStats()
        self._queue: collections.deque[_Item] = collections.deque()
        self._wakeup = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task | None = None
        self._closing = True  # until start()
        self._restarting = False

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def ready(self) -> bool:
        """Accepting and scoring work: started, not stopping, worker not restarting after a failure."""
        return self._task is not None and not (self._closing or self._restarting)

    def start(self) -> None:
        """Start (or restart, after ``stop``) the model thread and the task that owns the queue."""
        if self._task is None:
            self._closing = False
            self._wakeup = asyncio.Event()
            self._model_thread()
            self._spawn()

    def _spawn(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="framewatch-batcher")
        self._task.add_done_callback(self._on_task_done)

    def _on_task_done(self, task: asyncio.Task) -> None:
        if task.cancelled() or self._closing:
            return
        exc = task.exception()
        if exc is None:
            return
        self.stats.worker_failures += 1
        logger.error("model worker failed: %s: %s; restarting", type(exc).__name__, exc, exc_info=exc)
        self._fail_queued(ModelError(f"model worker failed: {type(exc).__name__}: {exc}"))
        self._restarting = True
        asyncio.get_running_loop().call_later(self.restart_delay_s, self._restart)

    def _restart(self) -> None:
        self._restarting = False
        if not self._closing:
            self._spawn()

    def _fail_queued(self, error: Exception) -> None:
        while self._queue:
            future = self._queue.popleft().request.future
            if not future.done():
                future.set_exception(error)

    async def stop(self) -> None:
        """Finish what is queued, then stop the task and the model thread."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            try:
                await self._task
            except Exception:  # already counted and logged by the done-callback
                pass
            self._task = None
        self._fail_queued(OverloadedError("server is shutting down", retry_after_s=RETRY_AFTER_UNAVAILABLE_S))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _model_thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="framewatch-model")
        return self._executor

    async def run_on_model_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function`` on the model thread, between batches (checkpoint loading, smoke tests)."""
        return await asyncio.get_running_loop().run_in_executor(self._model_thread(), function, *args)

    async def score(self, predictor: Predictor, texts: Sequence[str], *, truncation: str | None = None) -> ScoredTexts:
        """Scores of ``texts`` by ``predictor`` (over windows, or truncated to one when ``truncation`` is set)."""
        n_labels = len(predictor.label_ids)
        if not texts:
            return ScoredTexts.empty(n_labels)
        if not self.ready:
            raise OverloadedError(
                "server is not accepting work (starting, shutting down or restarting its model worker)",
                retry_after_s=RETRY_AFTER_UNAVAILABLE_S,
            )
        if len(self._queue) + len(texts) > self.max_queue_sentences:
            raise OverloadedError(
                f"server saturated: {len(self._queue)} sentences waiting, this request adds {len(texts)}, "
                f"queue limit {self.max_queue_sentences}",
                retry_after_s=RETRY_AFTER_BUSY_S,
            )
        loop = asyncio.get_running_loop()
        request = _Request(
            predictor,
            truncation,
            texts,
            loop.create_future(),
            np.zeros((len(texts), n_labels), np.float32),
            np.zeros(len(texts), np.int64),
            np.zeros(len(texts), np.int64),
            len(texts),
            enqueued=time.perf_counter(),
        )
        self._queue.extend(_Item(request, i) for i in range(len(texts)))
        self._wakeup.set()
        try:
            await asyncio.wait_for(asyncio.shield(request.future), self.request_timeout_s)
        except asyncio.TimeoutError:
            request.future.cancel()  # its sentences still queued are skipped
            raise OverloadedError(
                f"not scored within serving.request_timeout_s={self.request_timeout_s:g}s",
                retry_after_s=RETRY_AFTER_BUSY_S,
            ) from None
        except asyncio.CancelledError:
            request.future.cancel()  # the client went away
            raise
        return ScoredTexts(request.scores, request.windows, request.tokens)

    def _take_batch(self) -> list[_Item]:
        batch: list[_Item] = []
        while self._queue:
            item = self._queue[0]
            if item.request.future.done():  # cancelled, timed out or failed: drop its remaining sentences
                self._queue.popleft()
                continue
            if batch and item.request.batch_key != batch[0].request.batch_key:
                break
            batch.append(self._queue.popleft())
            if len(batch) >= self.max_batch_size:
                break
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            # Let a partial batch fill for up to max_wait, unless it is already full or arrivals pause:
            # once ARRIVAL_GAP_S passes with nothing new, waiting longer only idles the model.
            deadline = loop.time() + self.max_wait_s
            while len(self._queue) < self.max_batch_size and not self._closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), min(remaining, ARRIVAL_GAP_S))
                except asyncio.TimeoutError:
                    break
            batch = self._take_batch()
            if batch:
                await self._execute(batch)

    async def _execute(self, batch: list[_Item]) -> None:
        first = batch[0].request
        started = time.perf_counter()
        for item in batch:
            if item.request.started is None:
                item.request.started = started
        try:
            scored = await self.run_on_model_thread(
                functools.partial(first.predictor.score_windows, truncation=first.truncation),
                [item.text for item in batch],
            )
        except Exception as exc:  # the model failed: every waiter of this batch learns why
            logger.exception("batch of %d failed", len(batch))
            error = ModelError(f"model failed while scoring a batch of {len(batch)}: {type(exc).__name__}: {exc}")
            for item in batch:
                if not item.request.future.done():
                    item.request.future.set_exception(error)
            return
        self.stats.batches += 1
        self.stats.sentences += len(batch)
        self.stats.windows += int(scored.windows.sum())
        self.stats.batch_sizes.append(len(batch))
        finished = time.perf_counter()
        for item, row, windows, tokens in zip(batch, scored.scores, scored.windows, scored.tokens):
            request = item.request
            if request.future.done():
                continue
            request.scores[item.index] = row
            request.windows[item.index] = windows
            request.tokens[item.index] = tokens
            request.remaining -= 1
            if request.remaining == 0:
                request.future.set_result(None)
                if self.on_request:
                    self.on_request(
                        RequestTiming(
                            queue_s=request.started - request.enqueued,
                            inference_s=finished - request.started,
                            tokens=int(request.tokens.sum()),
                        )
                    )
        if self.on_batch:
            self.on_batch(len(batch), time.perf_counter() - started)
