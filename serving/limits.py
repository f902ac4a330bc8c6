"""Request-size limits enforced before a body reaches JSON parsing.

A declared ``Content-Length`` over the limit is refused at once; a chunked
body is counted as it arrives and refused as soon as it passes the limit, so
an oversize upload never sits in memory whole. Refusing here, rather than from
inside the app, keeps the answer a 413 (FastAPI turns body-read errors into 400).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from framewatch.errors import RETRY_AFTER_UNAVAILABLE_S
from framewatch.serving.errors import error_response

__all__ = ["AdmissionGate", "BodySizeLimitMiddleware"]

_ALWAYS_OPEN = ("/healthz", "/metrics")


class AdmissionGate:
    """While the server drains for shutdown, new requests get 503 at the door; admitted ones finish.

    Liveness and metrics stay open so an orchestrator does not kill a draining
    process; ``/readyz`` answers 503, which takes the replica out of rotation.
    """

    def __init__(self, app: ASGIApp, is_draining):
        self.app = app
        self.is_draining = is_draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.is_draining() and scope.get("path") not in _ALWAYS_OPEN:
            response = error_response(
                503,
                "overloaded",
                "server is shutting down; retry on another replica",
                headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "payload_too_large", f"request body exceeds {self.max_body_bytes} bytes (serving.max_body_bytes)"
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_body_bytes:
                    await self._reject(scope, receive, send)
                    return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks, received = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                await self._reject(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
