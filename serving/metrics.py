"""Prometheus metrics, one registry per app (so tests can build many apps).

Names follow text-embeddings-inference's where the concern is the same (queue
and inference time per request, tokens per request), under ``framewatch_``.
Drift gauges compare the last ``serving.drift_window`` served sentences with the
served checkpoint's dev reference (:mod:`framewatch.drift`); they are refreshed
when ``/metrics`` is scraped, not per request.
"""

from __future__ import annotations

import time

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from framewatch.drift import DriftReference, ScoreWindow, bin_shares, population_stability_index
from framewatch.predictor import Predictor
from framewatch.serving.batcher import RequestTiming

__all__ = ["MetricsMiddleware", "ServerMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
_TOKEN_BUCKETS = tuple(2**i for i in range(3, 18))


def _bin_bounds(edges: list[float]) -> list[str]:
    """The ``le`` label of each drift bin: its upper edge, the last one open."""
    return [*(f"{edge:g}" for edge in edges), "+Inf"]


class ServerMetrics:
    """Everything ``GET /metrics`` exposes."""

    def __init__(self, drift_window: int = 5000) -> None:
        self.drift_window = drift_window
        self._window: ScoreWindow | None = None
        self._reference: DriftReference | None = None
        self._label_ids: list[str] = []
        self.in_flight = 0  # HTTP requests being handled now; the drain on shutdown waits for zero
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "framewatch_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "framewatch_request_duration_seconds",
            "HTTP request latency by route and status.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "framewatch_batch_size", "Sentences per model batch.", buckets=_BATCH_BUCKETS, registry=self.registry
        )
        self.batch_seconds = Histogram(
            "framewatch_batch_duration_seconds",
            "Model time per batch.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge("framewatch_queue_depth", "Sentences waiting for a batch.", registry=self.registry)
        self.worker_failures = Gauge(
            "framewatch_model_worker_failures",
            "Times the model worker failed and was restarted.",
            registry=self.registry,
        )
        self.windows = Gauge(
            "framewatch_windows_scored",
            "Model windows scored (more than sentences when some are long).",
            registry=self.registry,
        )
        self.sentences = Counter("framewatch_sentences_scored_total", "Sentences scored.", registry=self.registry)
        self.queue_seconds = Histogram(
            "framewatch_request_queue_duration_seconds",
            "Time a scoring request waited before its first sentence reached the model.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inference_seconds = Histogram(
            "framewatch_request_inference_duration_seconds",
            "Time from a request's first batch to its last sentence scored.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.request_tokens = Histogram(
            "framewatch_request_input_tokens",
            "Tokens per scoring request (all windows, special tokens included).",
            buckets=_TOKEN_BUCKETS,
            registry=self.registry,
        )
        self.positives = Counter(
            "framewatch_label_positive_total",
            "Served sentences that carried the label.",
            ["label"],
            registry=self.registry,
        )
        self.drift_sentences = Gauge(
            "framewatch_drift_window_sentences", "Served sentences in the drift window now.", registry=self.registry
        )
        self.positive_rate = Gauge(
            "framewatch_drift_positive_rate",
            "Share of sentences carrying the label: source=reference (the checkpoint's dev split) or served "
            "(the drift window).",
            ["label", "source"],
            registry=self.registry,
        )
        self.score_share = Gauge(
            "framewatch_drift_score_share",
            "Share of sentences whose score falls in the bin ending at le (the reference's deciles).",
            ["label", "source", "le"],
            registry=self.registry,
        )
        self.psi = Gauge(
            "framewatch_drift_psi",
            "Population stability index of the label's served scores against the checkpoint's dev scores.",
            ["label"],
            registry=self.registry,
        )
        self.model_info = Gauge(
            "framewatch_model_info",
            "The model being served (value 1).",
            ["checkpoint_id", "device", "dtype"],
            registry=self.registry,
        )

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)
        self.sentences.inc(size)

    def observe_request(self, timing: RequestTiming) -> None:
        self.queue_seconds.observe(timing.queue_s)
        self.inference_seconds.observe(timing.inference_s)
        self.request_tokens.observe(timing.tokens)

    def observe_served(self, scores: np.ndarray, decided: np.ndarray) -> None:
        """Sentences answered to a client (not explanation variants): positives and the drift window."""
        for k, label in enumerate(self._label_ids):
            count = int(decided[:, k].sum())
            if count:
                self.positives.labels(label).inc(count)
        if self._window is not None and len(scores):
            self._window.add(scores, decided)

    def set_model(self, predictor: Predictor) -> None:
        """A new model is served: its reference replaces the old one and the drift window starts empty."""
        self.model_info.clear()
        self.model_info.labels(predictor.metadata.checkpoint_id, str(predictor.device), predictor.dtype).set(1)
        self._label_ids = list(predictor.label_ids)
        self._reference = predictor.metadata.drift_reference
        self._window = ScoreWindow(self.drift_window, len(self._label_ids))
        for gauge in (self.positive_rate, self.score_share, self.psi):
            gauge.clear()
        for label, reference in self._reference.labels.items() if self._reference else ():
            self.positive_rate.labels(label, "reference").set(reference.positive_rate)
            for le, share in zip(_bin_bounds(reference.edges), reference.shares):
                self.score_share.labels(label, "reference", le).set(share)

    def refresh_drift(self) -> None:
        """Recompute the drift gauges from the window (at scrape time; cost grows with the window, not traffic)."""
        if self._window is None:
            return
        scores, decided = self._window.snapshot()
        self.drift_sentences.set(len(scores))
        for k, label in enumerate(self._label_ids):
            if len(scores):
                self.positive_rate.labels(label, "served").set(float(decided[:, k].mean()))
            reference = self._reference.labels.get(label) if self._reference else None
            if reference is None or not len(scores):
                continue
            served = bin_shares(scores[:, k], reference.edges)
            for le, share in zip(_bin_bounds(reference.edges), served):
                self.score_share.labels(label, "served", le).set(float(share))
            self.psi.labels(label).set(population_stability_index(reference.shares, served))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (bounded label values)."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        self.metrics.in_flight += 1

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight -= 1
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            labels = (scope.get("method", ""), template, str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)
