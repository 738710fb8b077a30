"""Cache hits served before routing, without FastAPI's dependency resolution.

Dependency resolution, validation and the response machinery cost a cache hit four times the hit
itself (benchmarks/README.md). A hit served here decides access exactly as the route does (the
read's `keys.fast`, which asks the same policy as the route's dependency), then looks for an entry
under the very key the route builds (`CachedRead.key_parts`). Whenever something is not known here
(no caller, a generation unreadable, a miss, a header the route would have to validate), the request
goes on to the route, which answers as always and fills the cache.
"""

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and await self._serve(scope, send):
            self.served += 1
            return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send) -> bool:
        if self._reads is None:  # the routes are all in place by the first request
            self._reads = tuple(declared_reads(scope["app"].routes))
        path = scope["path"]
        for read in self._reads:
            found = read.pattern.match(path)
            if found is not None:
                return await self._answer(scope, send, read, found.groupdict())
        return False

    async def _answer(self, scope: Scope, send: Send, read: CachedRead, params: dict[str, str]) -> bool:
        cache = response_cache(scope["app"])
        if not cache.enabled:
            return False
        conditions = [value for name, value in scope["headers"] if name == _IF_NONE_MATCH]
        if len(conditions) > 1 or (conditions and len(conditions[0]) > _MAX_IF_NONE_MATCH):
            return False  # the route judges these (it reads the first, and refuses one too long)
        key_scope = await read.keys.fast(scope, params)
        if key_scope is None:
            return False
        entry = await cache.peek(read.key_parts(key_scope, scope["path"], scope["query_string"]))
        if entry is None:
            return False
        if_none_match = conditions[0].decode("latin-1") if conditions else None
        answer = reply(entry, hit=True, if_none_match=if_none_match)
        headers = [(name.lower().encode(), value.encode()) for name, value in answer.headers.items()]
        if answer.status != 304:
            headers.append((b"content-length", str(len(answer.body)).encode()))
        scope["route"] = read  # metrics label the request with the route's template, as for the route
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        return True
