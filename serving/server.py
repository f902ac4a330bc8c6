"""``framewatch serve``: load a checkpoint (failing fast), then run uvicorn.

Every flag falls back to an environment variable, so a container needs no
command-line changes.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from pathlib import Path

import uvicorn

from framewatch.config import load_config_for_checkpoint

__all__ = ["DrainingServer", "main"]

logger = logging.getLogger("framewatch.serve")


def main(argv: list[str] | None = None) -> int:
    import torch

    from framewatch.cli import add_config_arguments, configure_logging
    from framewatch.serving.app import create_app, default_loader

    env = os.environ.get
    parser = argparse.ArgumentParser(prog="framewatch serve", description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=env("FRAMEWATCH_CHECKPOINT"),
        help="Checkpoint to serve (env FRAMEWATCH_CHECKPOINT; default serving.checkpoint).",
    )
    parser.add_argument(
        "--host",
        default=env("FRAMEWATCH_HOST"),
        help="Bind address (env FRAMEWATCH_HOST; default serving.host = 127.0.0.1). "
        "0.0.0.0 exposes the server to the network.",
    )
    parser.add_argument(
        "--port", type=int, default=env("FRAMEWATCH_PORT"), help="Port (env FRAMEWATCH_PORT; default serving.port)."
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=env("FRAMEWATCH_TORCH_THREADS"),
        help="torch intra-op threads (env FRAMEWATCH_TORCH_THREADS): more threads cut "
        "per-batch latency but compete with the event loop on small machines.",
    )
    args = parser.parse_args(argv)
    configure_logging()
    config = load_config_for_checkpoint(args.config, args.set, args.checkpoint)
    settings = config.serving.model_copy(
        update={
            k: v
            for k, v in {
                "checkpoint": args.checkpoint,
                "host": args.host,
                "port": args.port,
                "torch_threads": args.torch_threads,
            }.items()
            if v is not None
        }
    )
    settings = type(settings).model_validate(settings.model_dump())
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    predictor = default_loader(settings)(settings.checkpoint)  # fails fast, before binding the port
    logger.info(
        "serving %s on %s (%s, %s)",
        predictor.metadata.checkpoint_id,
        predictor.device,
        predictor.dtype,
        predictor.dtype_reason,
    )
    app = create_app(settings, predictor)
    server = DrainingServer(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            timeout_graceful_shutdown=int(settings.drain_timeout_s),
            log_level="info",
            access_log=False,
        ),
        services=app.state.services,
        drain_timeout_s=settings.drain_timeout_s,
    )
    server.run()
    return 0


class DrainingServer(uvicorn.Server):
    """uvicorn, with a drain before the shutdown: what a load balancer or Kubernetes needs.

    On the first SIGTERM or SIGINT the server keeps its socket open but
    stops admitting work: scoring requests get 503 with Retry-After and
    ``/readyz`` turns unready, so traffic moves to other replicas, while
    every admitted request is still scored and answered. Once none is in
    flight (or after ``drain_timeout_s``) uvicorn's own graceful shutdown
    runs and the process exits 0. A second signal exits at once.
    """

    def __init__(self, config, *, services, drain_timeout_s: float):
        super().__init__(config)
        self.services = services
        self.drain_timeout_s = drain_timeout_s

    def handle_exit(self, sig, frame) -> None:
        if self.services.draining:
            return super().handle_exit(sig, frame)
        self.services.draining = True
        logger.info("signal %s: draining (new work gets 503), then shutting down", sig)
        threading.Thread(target=self._exit_when_idle, daemon=True).start()

    def _exit_when_idle(self) -> None:
        deadline = time.monotonic() + self.drain_timeout_s
        while time.monotonic() < deadline:
            if self.services.metrics.in_flight == 0:
                break
            time.sleep(0.02)
        logger.info("drained; shutting down")
        self.should_exit = True  # a completed drain is a clean exit (0): uvicorn would re-raise a recorded signal
