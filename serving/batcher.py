"""Dynamic micro-batching: one asyncio task owns the queue and forms model batches.

Requests enqueue their sentences and await one future each. The task closes a
batch when it reaches ``max_batch_size`` sentences, the padded-token budget, or
``max_wait_ms`` after its first sentence, then scores it in a worker thread so
the event loop keeps accepting requests. Cancelled requests are skipped; a
failed batch fails every waiter with the same error. Past
``max_queue_sentences`` new work is refused at once (the caller answers 503),
never queued without bound.

Each request is pinned to the predictor that was current when it arrived, and a
batch only mixes requests of one predictor: a hot reload never splits one
request across two models.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from framewatch.errors import ModelError, OverloadedError
from framewatch.predictor import Predictor

__all__ = ["BatchStats", "Batcher"]

logger = logging.getLogger(__name__)

_CHARS_PER_TOKEN = 4  # rough English average; the token budget only needs to be approximate


@dataclass
class _Request:
    predictor: Predictor
    texts: Sequence[str]
    future: asyncio.Future
    scores: np.ndarray
    remaining: int


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
    batch_sizes: collections.deque[int] = field(default_factory=lambda: collections.deque(maxlen=10_000))


class Batcher:
    """Owns the queue; ``await batcher.score(predictor, texts)`` returns a score matrix."""

    def __init__(
        self,
        *,
        max_batch_size: int,
        max_batch_tokens: int,
        max_wait_ms: float,
        max_queue_sentences: int,
        on_batch: Callable[[int, float], None] | None = None,
    ):
        self.max_batch_size = max_batch_size
        self.max_batch_tokens = max_batch_tokens
        self.max_wait_s = max_wait_ms / 1000
        self.max_queue_sentences = max_queue_sentences
        self.on_batch = on_batch
        self.stats = BatchStats()
        self._queue: collections.deque[_Item] = collections.deque()
        self._wakeup = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task | None = None
        self._closing = True  # until start()

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        """Start (or restart, after ``stop``) the task that owns the queue, on the running loop."""
        if self._task is None:
            self._closing = False
            self._wakeup = asyncio.Event()
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="framewatch-model")
            self._task = asyncio.get_running_loop().create_task(self._run(), name="framewatch-batcher")

    async def stop(self) -> None:
        """Finish what is queued, then stop the task and the worker thread."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def score(self, predictor: Predictor, texts: Sequence[str]) -> np.ndarray:
        if self._closing:
            raise OverloadedError("server is not accepting work (starting or shutting down)", retry_after_s=5)
        if len(self._queue) + len(texts) > self.max_queue_sentences:
            raise OverloadedError(
                f"queue full ({len(self._queue)} sentences waiting, limit {self.max_queue_sentences})", retry_after_s=1
            )
        loop = asyncio.get_running_loop()
        request = _Request(
            predictor,
            texts,
            loop.create_future(),
            np.zeros((len(texts), len(predictor.label_ids)), np.float32),
            len(texts),
        )
        self._queue.extend(_Item(request, i) for i in range(len(texts)))
        self._wakeup.set()
        return await request.future

    def _take_batch(self) -> list[_Item]:
        batch: list[_Item] = []
        longest = 0
        while self._queue:
            item = self._queue[0]
            if item.request.future.done():  # cancelled or failed: drop its remaining sentences
                self._queue.popleft()
                continue
            if batch and item.request.predictor is not batch[0].request.predictor:
                break
            tokens = len(item.text) // _CHARS_PER_TOKEN + 2
            if batch and max(longest, tokens) * (len(batch) + 1) > self.max_batch_tokens:
                break
            longest = max(longest, tokens)
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
            # Let a partial batch fill for up to max_wait, unless it is already full.
            deadline = loop.time() + self.max_wait_s
            while len(self._queue) < self.max_batch_size and not self._closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), remaining)
                except asyncio.TimeoutError:
                    break
            batch = self._take_batch()
            if batch:
                await self._execute(batch)

    async def _execute(self, batch: list[_Item]) -> None:
        predictor = batch[0].request.predictor
        started = time.perf_counter()
        try:
            scores = await asyncio.get_running_loop().run_in_executor(
                self._executor, predictor.score, [item.text for item in batch]
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
        self.stats.batch_sizes.append(len(batch))
        if self.on_batch:
            self.on_batch(len(batch), time.perf_counter() - started)
        for item, row in zip(batch, scores):
            request = item.request
            if request.future.done():
                continue
            request.scores[item.index] = row
            request.remaining -= 1
            if request.remaining == 0:
                request.future.set_result(request.scores)
