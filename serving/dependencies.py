"""Typed dependencies shared by the route modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from framewatch.config import ServingConfig
from framewatch.serving.auth import KeyStore
from framewatch.serving.batcher import Batcher
from framewatch.serving.metrics import ServerMetrics
from framewatch.serving.registry import ModelRegistry

__all__ = ["AdminKey", "ServicesDep", "Services", "UserKey"]

_bearer = HTTPBearer(auto_error=False, description="API key, when the server is configured with keys.")


@dataclass
class Services:
    """What the routes need, built once by ``create_app``."""

    settings: ServingConfig
    registry: ModelRegistry
    batcher: Batcher
    keys: KeyStore
    metrics: ServerMetrics
    draining: bool = False  # set on SIGTERM: new requests get 503 while admitted ones finish


async def get_services(request: Request) -> Services:
    """Async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per request."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def require_user(
    request: Request, services: ServicesDep, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    services.keys.require_user(request)


async def require_admin(
    request: Request, services: ServicesDep, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    services.keys.require_admin(request)


UserKey = Depends(require_user)
AdminKey = Depends(require_admin)
