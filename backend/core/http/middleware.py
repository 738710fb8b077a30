"""Pure ASGI middleware: request ids, access logs and the last-resort 500, and the body size limit.

Pure ASGI rather than BaseHTTPMiddleware: the scope and context variables stay shared with the app,
and responses are not buffered.
"""

import random
import re
import time
from collections.abc import Sequence

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.http.drain import Drain, ShuttingDown
from backend.core.http.errors import InternalError, PayloadTooLarge, ProblemError
from backend.core.http.problems import problem_response, request_id_of, unavailable
from backend.core.logging import ACCESS_LOGGER, access_log
from backend.core.metrics import HttpMetrics, handler_of

log = structlog.get_logger(ACCESS_LOGGER)

METRICS_PATH = "/metrics"  # scrapes are not requests worth counting
LIVENESS_PATH = "/health/live"  # alive while draining: the orchestrator must not kill it early
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_LOG_FIELDS = "log_fields"
MAX_USER_AGENT = 256


def add_log_field(scope: Scope, name: str, value: object) -> None:
    """Add a field to this request's access log line (e.g. who the caller turned out to be)."""
    fields: dict[str, object] | None = scope.get("state", {}).get(_LOG_FIELDS)
    if fields is not None:
        fields[name] = value


def accept_request_id(value: str | None) -> str:
    """A client's id when it is short and safe to log, otherwise a fresh one."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    # An id, not a secret: the process's PRNG, not a system call for entropy on every request.
    return f"{random.getrandbits(128):032x}"


def header(scope: Scope, name: bytes) -> str | None:
    """One request header by its lower-case name (ASGI servers lower-case them), without building a
    whole Headers mapping on the hot path."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    """Gives every request an id (echoed and logged), logs one line and records metrics per request,
    and answers a problem 500 for any exception that escapes the app, with the traceback only in the
    log."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, drain: Drain) -> None:
        self.app = app
        self.metrics = metrics
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(header(scope, b"x-request-id"))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # The client as the server saw it: a proxy's X-Forwarded-For counts only from the proxies
        # FORWARDED_ALLOW_IPS trusts (uvicorn applies it before the app).
        client = scope.get("client")
        fields: dict[str, object] = {
            "client": client[0] if client else None,
            "user_agent": (header(scope, b"user-agent") or "")[:MAX_USER_AGENT],
        }
        state[_LOG_FIELDS] = fields
        started = time.perf_counter()
        status = 500
        response_started = False
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            if self.drain.started and scope["path"] != LIVENESS_PATH:
                # Arrived on a kept-alive connection after SIGTERM: say so, and close it.
                refused = problem_response(ShuttingDown(), path=scope["path"], request_id=request_id)
                refused.headers["Connection"] = "close"
                await refused(scope, receive, send_with_id)
                return
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # MongoDB unreachable (also from middleware, before any route) is a 503, not a bug.
            error: ProblemError | None = unavailable(exc)
            if error is None:
                log.exception("unhandled_exception", method=scope["method"], path=scope["path"])
                error = InternalError()
            if not response_started:
                response = problem_response(error, path=scope["path"], request_id=request_id)
                await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            handler = handler_of(scope)
            if handler != METRICS_PATH:
                self.metrics.observe(handler, scope["method"], status, seconds)
            access_log().info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 2),
                **fields,
            )
            structlog.contextvars.reset_contextvars(**bound)


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with 413, whether announced by Content-Length or streamed.

    A streamed body is read up to the limit before the app runs, so the app never sees a partial body;
    the memory held is bounded by the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, streamed: Sequence[re.Pattern[str]] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # POSTs to these paths pass unread: their endpoints stream the body under limits of their own.
        self.streamed = tuple(streamed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and any(p.match(scope["path"]) for p in self.streamed):
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
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

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"The request body exceeds {self.max_bytes} bytes.")
        response = problem_response(error, path=scope["path"], request_id=request_id_of(scope))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
