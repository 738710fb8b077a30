"""Cached reads served before routing, without FastAPI's dependency resolution.

Dependency resolution, validation and the response machinery cost a cache hit four times the hit
itself, and an uncached read a third of its CPU (benchmarks/README.md). A read served here decides
access exactly as the route does (the read's `keys.fast`, which asks the same policy as the route's
dependency), then looks for an entry under the very key the route builds (`CachedRead.key_parts`).
A miss is computed here too when the read declares its `load` (the same function its handler
calls); its errors are answered by the app's own exception handlers, as the route's are. Whenever
something is not known here (no caller, a generation unreadable, a miss without `load`, a header the
route would have to validate), the request goes on to the route, which answers as always and fills
the cache.
"""

import functools
import inspect

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.core.caching.reads import CachedRead, declared_reads, response_cache
from backend.core.caching.responses import reply

_IF_NONE_MATCH = b"if-none-match"
_MAX_IF_NONE_MATCH = 1024  # the routes' own limit (a longer header is a 422 there)


class CachedReads:
    """Pure ASGI middleware answering cache hits of every cached read the app declares."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._reads: tuple[CachedRead, ...] | None = None
        self.served = 0  # hits answered here, for tests and curiosity
        self.loaded = 0  # misses answered here (their errors included)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and await self._serve(scope, receive, send):
            return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> bool:
        if self._reads is None:  # the routes are all in place by the first request
            self._reads = tuple(declared_reads(scope["app"].routes))
        path = scope["path"]
        for read in self._reads:
            found = read.pattern.match(path)
            if found is not None:
                return await self._answer(scope, receive, send, read, found.groupdict())
        return False

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, read: CachedRead, params: dict[str, str]
    ) -> bool:
        cache = response_cache(scope["app"])
        if not cache.enabled:
            return False
        conditions = [value for name, value in scope["headers"] if name == _IF_NONE_MATCH]
        if len(conditions) > 1 or (conditions and len(conditions[0]) > _MAX_IF_NONE_MATCH):
            return False  # the route judges these (it reads the first, and refuses one too long)
        try:
            key_scope = await read.keys.fast(scope, params)
            if key_scope is None:
                return False
            parts = read.key_parts(key_scope, scope["path"], scope["query_string"])
            entry = await cache.peek(parts)
            # Metrics label the request with the route's template, as they would the route's answer
            # (the router sets its own when the request goes on to it).
            scope["route"] = read
            if entry is not None:
                self.served += 1
                hit = True
            elif read.load is None:
                return False
            else:
                self.loaded += 1
                entry, hit = await cache.fetch(parts, functools.partial(read.load, scope["app"], key_scope))
        except Exception as exc:
            # As the route's errors are answered: by the app's handlers, inside the rate limiter.
            failure = await _error_response(scope["app"], Request(scope, receive), exc)
            await failure(scope, receive, send)
            return True
        if_none_match = conditions[0].decode("latin-1") if conditions else None
        answer = reply(entry, hit=hit, if_none_match=if_none_match)
        headers = [(name.lower().encode(), value.encode()) for name, value in answer.headers.items()]
        if answer.status != 304:
            headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        return True


async def _error_response(app: Starlette, request: Request, exc: Exception) -> Response:
    """The app's answer to an error, looked up as Starlette's ExceptionMiddleware (inside routing)
    does: by status code for an HTTPException, then by class. `Exception`'s and 500's handlers are
    FastAPI's ServerErrorMiddleware's, outside the rate limiter, never the route's: an error no
    other handler takes is raised on, to the last-resort 500 (or 503) as from the route."""
    handlers = app.exception_handlers
    handler = None
    if isinstance(exc, HTTPException) and exc.status_code != 500:
        handler = handlers.get(exc.status_code)
    for kind in type(exc).__mro__:
        if handler is not None or kind is Exception:
            break
        handler = handlers.get(kind)
    if handler is None:
        raise exc
    if inspect.iscoroutinefunction(handler):
        response = await handler(request, exc)
    else:
        response = await run_in_threadpool(handler, request, exc)
    if not isinstance(response, Response):
        raise exc  # Starlette would send nothing; the last resort answers instead
    return response
