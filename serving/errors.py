"""The one table from error kinds to HTTP status codes, and the handlers that apply it.

Route declarations take their documented ``responses`` from the same table, so
the OpenAPI schema lists exactly the codes the server can return.

Routes tagged :data:`TEI_TAG` speak text-embeddings-inference's wire format, so
their errors use TEI's ``{"error", "error_type"}`` body and TEI's codes (429 when
overloaded, 424 when the model fails); the table holds both columns.
"""

from __future__ import annotations

from typing import NamedTuple

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from framewatch.errors import (
    AuthError,
    CheckpointError,
    FramewatchError,
    InputError,
    LimitExceeded,
    ModelError,
    NotReadyError,
    OverloadedError,
    PermissionDeniedError,
)
from framewatch.serving.schemas import ErrorResponse, TEIError

__all__ = [
    "STATUS_BY_ERROR",
    "TEI_TAG",
    "error_response",
    "install_error_handlers",
    "responses_for",
    "tei_error_response",
    "tei_responses_for",
]

TEI_TAG = "text-embeddings-inference"
"""OpenAPI tag of the routes that answer in TEI's wire format, errors included."""


class ErrorKind(NamedTuple):
    status: int
    kind: str
    tei_status: int
    tei_type: str


# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: list[tuple[type[FramewatchError], ErrorKind]] = [
    (LimitExceeded, ErrorKind(422, "limit_exceeded", 422, "Validation")),
    (InputError, ErrorKind(422, "invalid_input", 422, "Validation")),
    (CheckpointError, ErrorKind(422, "bad_checkpoint", 422, "Validation")),
    (AuthError, ErrorKind(401, "unauthorized", 401, "Unauthorized")),
    (PermissionDeniedError, ErrorKind(403, "forbidden", 403, "Unauthorized")),
    (OverloadedError, ErrorKind(503, "overloaded", 429, "Overloaded")),
    (NotReadyError, ErrorKind(503, "not_ready", 503, "Unhealthy")),
    (ModelError, ErrorKind(500, "model_error", 424, "Backend")),
]
_UNEXPECTED = ErrorKind(500, "internal_error", 424, "Backend")

_DESCRIPTIONS = {
    400: "Malformed request body (not parseable).",
    401: "Missing or invalid API key.",
    403: "Key valid but not allowed here, or admin API disabled.",
    413: "Request body exceeds the size limit (serving.max_body_bytes).",
    422: "Validation error: empty or non-string text, unknown field, an input over a limit, a refused checkpoint.",
    500: "The model failed while scoring (every request of that batch gets this).",
    503: "Overloaded (retry after the Retry-After header) or model not ready.",
}
_TEI_DESCRIPTIONS = {
    400: "Empty: `inputs` is an empty list.",
    401: "Unauthorized: missing or invalid API key.",
    413: "Request body exceeds the size limit (serving.max_body_bytes).",
    422: "Validation: a text empty or over serving.max_chars_per_text, more inputs than max_client_batch_size, "
    "text pairs, or a malformed body.",
    424: "Backend: the model failed while scoring.",
    429: "Overloaded: retry after the Retry-After header.",
    503: "Unhealthy: model not loaded, worker restarting, or the server draining.",
}


def error_response(status: int, kind: str, message: str, details: list | None = None, headers=None) -> JSONResponse:
    body = ErrorResponse(error={"type": kind, "message": message, "details": details})
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def tei_error_response(status: int, error_type: str, message: str, headers=None) -> JSONResponse:
    body = TEIError(error=message, error_type=error_type)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def kind_of(exc: FramewatchError) -> ErrorKind:
    for error_class, kind in STATUS_BY_ERROR:
        if isinstance(exc, error_class):
            return kind
    return _UNEXPECTED


def responses_for(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` for a route, from the table above."""
    return {s: {"model": ErrorResponse, "description": _DESCRIPTIONS[s]} for s in sorted(statuses)}


def tei_responses_for(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` for a TEI-format route."""
    return {s: {"model": TEIError, "description": _TEI_DESCRIPTIONS[s]} for s in sorted(statuses)}


def _speaks_tei(request: Request) -> bool:
    return TEI_TAG in getattr(request.scope.get("route"), "tags", ())


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FramewatchError)
    async def _framewatch_error(request: Request, exc: FramewatchError) -> JSONResponse:
        kind = kind_of(exc)
        headers = None
        if isinstance(exc, (OverloadedError, NotReadyError)):
            headers = {"Retry-After": str(exc.retry_after_s)}
        elif isinstance(exc, AuthError):
            headers = {"WWW-Authenticate": "Bearer"}
        if _speaks_tei(request):
            return tei_error_response(kind.tei_status, kind.tei_type, str(exc), headers=headers)
        return error_response(kind.status, kind.kind, str(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        if _speaks_tei(request):
            return tei_error_response(422, "Validation", f"{where}: {first['msg']}")
        return error_response(422, "validation_error", f"{where}: {first['msg']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        if _speaks_tei(request):
            return tei_error_response(exc.status_code, "Validation", str(exc.detail), getattr(exc, "headers", None))
        return error_response(
            exc.status_code,
            kinds.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )
