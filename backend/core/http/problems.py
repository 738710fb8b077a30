"""Rendering problem responses, and the handlers that turn every failure into one."""

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pymongo.errors import ConnectionFailure, OperationFailure
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from backend.core.http.errors import (
    PROBLEM_MEDIA_TYPE,
    BadRequest,
    MalformedJson,
    MethodNotAllowed,
    PayloadTooLarge,
    Problem,
    ProblemError,
    RouteNotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
    problem_type,
)
from backend.core.logging import OccasionalWarning

log = structlog.get_logger(__name__)

# Seconds a client is asked to wait when MongoDB is unreachable: about one server selection.
MONGODB_RETRY_AFTER = "5"
_mongodb_down = OccasionalWarning("mongodb_unavailable")


# Server answers that say the database cannot serve now, not that the command was wrong: shutting
# down or stepping down (91, 189, 10107, 11600, 11602, 13435, 13436), unreachable peers (6, 7, 89,
# 9001), out of time (50, 262) or of resources for now (365, TemporarilyUnavailable).
_NOT_NOW_CODES = frozenset({6, 7, 50, 89, 91, 189, 262, 365, 9001, 10107, 11600, 11602, 13435, 13436})


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for a failure that means MongoDB is unreachable, timing out or unable to serve now
    (None for any other).

    PyMongo raises `ConnectionFailure` and its subclasses (`AutoReconnect`, `NetworkTimeout`,
    `ServerSelectionTimeoutError`, `WaitQueueTimeoutError`) for exactly that, and an
    `OperationFailure` whose code says so when the server answered: the request itself was fine,
    so the client should retry, and no traceback is worth logging for each one.
    """
    not_now = isinstance(exc, OperationFailure) and exc.code in _NOT_NOW_CODES  # ExecutionTimeout: 50
    if not (isinstance(exc, ConnectionFailure) or not_now):
        return None
    _mongodb_down(log, exc)
    return ServiceUnavailable(
        "The database is unreachable; retry shortly.", headers={"Retry-After": MONGODB_RETRY_AFTER}
    )


_BY_STATUS: dict[int, type[ProblemError]] = {
    400: BadRequest,
    404: RouteNotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def request_id_of(scope: Any) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


def problem_of(error: ProblemError, *, path: str, request_id: str) -> Problem:
    """The problem details of an error, without the extension members Problem does not declare
    (as in answers with one result per item, where each item's problem is one member)."""
    return Problem(
        type=problem_type(error.error_code),
        title=error.title,
        status=error.status,
        detail=error.detail,
        instance=path,
        error_code=error.error_code,
        request_id=request_id,
        field_errors=error.field_errors,
    )


def problem_response(error: ProblemError, *, path: str, request_id: str) -> JSONResponse:
    body = problem_of(error, path=path, request_id=request_id).model_dump(exclude_none=True)
    body.update(error.extra)
    return JSONResponse(body, status_code=error.status, headers=error.headers, media_type=PROBLEM_MEDIA_TYPE)


def _respond(request: Request, error: ProblemError) -> JSONResponse:
    return problem_response(error, path=request.url.path, request_id=request_id_of(request.scope))


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return _respond(request, exc)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8): malformed JSON, like any other.
        return _respond(request, MalformedJson("The request body is not valid UTF-8 JSON."))
    error_class = _BY_STATUS.get(exc.status_code, BadRequest)
    detail = error_class.default_detail if exc.status_code in (404, 405) else str(exc.detail)
    headers = dict(exc.headers or {})
    return _respond(request, error_class(detail, headers=headers))


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(e.get("ctx", {}).get("error", "") for e in errors if e.get("type") == "json_invalid")
        return _respond(request, MalformedJson(f"The request body is not valid JSON: {reason}."))
    return _respond(request, ValidationFailed(field_errors=field_errors(errors)))


def field_errors(errors: Sequence[Any]) -> dict[str, list[str]]:
    """Group pydantic errors by field path: body fields bare, other locations prefixed (`query.limit`)."""
    grouped: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:] or ["body"]
        key = ".".join(loc) or "request"
        grouped.setdefault(key, []).append(str(error.get("msg", "Invalid value")))
    return grouped


async def _on_database_unreachable(request: Request, exc: Exception) -> Response:
    error = unavailable(exc)
    assert error is not None
    return _respond(request, error)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(ConnectionFailure, _on_database_unreachable)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
