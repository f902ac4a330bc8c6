"""What the routes share: the app's services and the API-key checks.

Both are as cheap as FastAPI allows, because they run on every request: FastAPI
resolves each dependency afresh per request, and on a single-sentence request
that resolution was a third of the event loop's time. The services are a plain
call (:func:`services_of`), and each key check is one dependency that is also
the OpenAPI bearer scheme, instead of a check that depends on the scheme and on
the services.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from framewatch.config import ServingConfig
from framewatch.serving.auth import KeyStore
from framewatch.serving.batcher import Batcher
from framewatch.serving.metrics import ServerMetrics
from framewatch.serving.registry import ModelRegistry

__all__ = ["AdminKey", "Services", "UserKey", "services_of"]


@dataclass
class Services:
    """What the routes need, built once by ``create_app``."""

    settings: ServingConfig
    registry: ModelRegistry
    batcher: Batcher
    keys: KeyStore
    metrics: ServerMetrics
    draining: bool = False  # set on SIGTERM: new requests get 503 while admitted ones finish


def services_of(request: Request) -> Services:
    """The services ``create_app`` built for the app serving ``request``."""
    return request.app.state.services


class _KeyCheck(HTTPBearer):
    """Checks ``Authorization: Bearer KEY`` against the server's keys; documented as the ``HTTPBearer`` scheme."""

    def __init__(self, *, admin: bool):
        super().__init__(
            auto_error=False, scheme_name="HTTPBearer", description="API key, when the server is configured with keys."
        )
        self.admin = admin

    async def __call__(self, request: Request) -> None:
        keys = services_of(request).keys
        if self.admin:
            keys.require_admin(request)
        else:
            keys.require_user(request)


UserKey = Depends(_KeyCheck(admin=False))
AdminKey = Depends(_KeyCheck(admin=True))
