"""The one table from error kinds to HTTP status codes, and the handlers that apply it.

Route declarations take their documented ``responses`` from the same table, so
the OpenAPI schema lists exactly the codes the server can return.
"""

from __future__ import annotations

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
from framewatch.serving.schemas import ErrorResponse

__all__ = ["STATUS_BY_ERROR", "error_response", "install_error_handlers", "responses_for"]

# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: list[tuple[type[FramewatchError], int, str]] = [
    (LimitExceeded, 422, "limit_exceeded"),
    (InputError, 422, "invalid_input"),
    (CheckpointError, 422, "bad_checkpoint"),
    (AuthError, 401, "unauthorized"),
    (PermissionDeniedError, 403, "forbidden"),
    (OverloadedError, 503, "overloaded"),
    (NotReadyError, 503, "not_ready"),
    (ModelError, 500, "model_error"),
]

_DESCRIPTIONS = {
    400: "Malformed request body (not parseable).",
    401: "Missing or invalid API key.",
    403: "Key valid but not allowed here, or admin API disabled.",
    413: "Request body exceeds the size limit (serving.max_body_bytes).",
    422: "Validation error: empty or non-string text, unknown field, an input over a limit, a refused checkpoint.",
    500: "The model failed while scoring (every request of that batch gets this).",
    503: "Overloaded (retry after the Retry-After header) or model not ready.",
}


def error_response(status: int, kind: str, message: str, details: list | None = None, headers=None) -> JSONResponse:
    body = ErrorResponse(error={"type": kind, "message": message, "details": details})
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def status_for(exc: FramewatchError) -> tuple[int, str]:
    for error_class, status, kind in STATUS_BY_ERROR:
        if isinstance(exc, error_class):
            return status, kind
    return 500, "internal_error"


def responses_for(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` for a route, from the table above."""
    return {s: {"model": ErrorResponse, "description": _DESCRIPTIONS[s]} for s in sorted(statuses)}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FramewatchError)
    async def _framewatch_error(request: Request, exc: FramewatchError) -> JSONResponse:
        status, kind = status_for(exc)
        headers = None
        if isinstance(exc, (OverloadedError, NotReadyError)):
            headers = {"Retry-After": str(exc.retry_after_s)}
        elif isinstance(exc, AuthError):
            headers = {"WWW-Authenticate": "Bearer"}
        return error_response(status, kind, str(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return error_response(422, "validation_error", f"{where}: {first['msg']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        return error_response(
            exc.status_code,
            kinds.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )
