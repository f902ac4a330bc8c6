"""``POST /v1/admin/reload``: swap in a new checkpoint without downtime."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from framewatch.serving.dependencies import AdminKey, services_of
from framewatch.serving.errors import responses_for
from framewatch.serving.schemas import ReloadRequest, ReloadResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[AdminKey])


@router.post("/reload", response_model=ReloadResponse, responses=responses_for(400, 401, 403, 413, 422, 503))
async def reload(request: Request, body: ReloadRequest | None = None) -> ReloadResponse:
    """Load, verify and smoke-test a checkpoint, then swap it in atomically.

    A checkpoint that fails any step is refused (422) and the current model keeps serving.
    """
    services = services_of(request)
    previous, current = await services.registry.reload(Path(body.checkpoint) if body and body.checkpoint else None)
    return ReloadResponse(previous=previous, current=current)
