"""Cache hits served before routing: the cached project reads, without FastAPI's dependency resolution.

Dependency resolution, validation and the response machinery cost a cache hit four times the hit
itself (benchmarks/README.md). A hit served here decides access exactly as the route does: the
caller resolved by `CallerMiddleware` (a live session or token, an active account), and the one
policy (`access.policy.project_access`) on the project's member map, as the route's `scope_of` does;
then it looks for an entry under the very key the route builds (`CachedRead.key_parts`). Whenever
something is not known here (no caller, the generation unreadable, a miss, a header the route would
have to validate), the request goes on to the route, which answers as always and fills the cache.
"""

import re
from collections.abc import Sequence

from beanie import PydanticObjectId
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.access.middleware import caller_of
from backend.access.policy import project_access
from backend.core.caching.cache import ResponseCache, generation_key
from backend.core.caching.cached import CachedRead, reply
from backend.core.http.routing import API_PREFIX
from backend.core.ratelimit.limits import Prefetch
from backend.projects.service import scope_parts

_PROJECTS = API_PREFIX + "/projects/"
_PROJECT_ID = re.compile(r"[0-9a-f]{24}")  # as the routes print ids: other spellings go the long way
_IF_NONE_MATCH = b"if-none-match"
_MATCHED = "cached_read"  # scope state: the read `prefetch` matched
_MAX_IF_NONE_MATCH = 1024  # the routes' own limit (a longer header is a 422 there)


class CachedReads:
    """Pure ASGI middleware answering cache hits of `reads`; everything else passes through."""

    def __init__(self, app: ASGIApp, reads: Sequence[CachedRead]) -> None:
        self.app = app
        self.reads = tuple(reads)
        self.served = 0  # hits answered here, for tests and curiosity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = scope.get("state", {}).pop(_MATCHED, None) or match(self.reads, scope)
        if matched is not None and await self._serve(scope, send, *matched):
            self.served += 1
            return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send, read: CachedRead, project_id: str) -> bool:
        state = scope["app"].state
        cache: ResponseCache = state.cache
        caller = caller_of(scope)
        if caller is None or not cache.enabled:
            return False
        conditions = [value for name, value in scope["headers"] if name == _IF_NONE_MATCH]
        if len(conditions) > 1 or (conditions and len(conditions[0]) > _MAX_IF_NONE_MATCH):
            return False  # the route judges these (it reads the first, and refuses one too long)
        if_none_match = conditions[0].decode("latin-1") if conditions else None
        # The generation came with the rate limit's round trip already, on Redis (`prefetch_for`).
        generation = await cache.generation(project_id)
        if generation is None:
            return False  # unknown: only the route may answer, from MongoDB
        # The route's decision and key (projects.dependencies.scope_of, ProjectScope.cache_parts),
        # without building the route's view of the project.
        members = await state.access_facts.member_map(PydanticObjectId(project_id))
        grant = None if members is None else project_access(caller, members)
        if grant is None:
            return False  # the route answers the 404
        parts = read.key_parts(
            scope_parts(project_id, grant.scope, generation),
            str(caller.user_id),
            scope["path"],
            scope["query_string"],
        )
        entry = await cache.peek(parts)
        if entry is None:
            return False
        answer = reply(entry, hit=True, if_none_match=if_none_match)
        headers = [(name.lower().encode(), value.encode()) for name, value in answer.headers.items()]
        if answer.status != 304:
            headers.append((b"content-length", str(len(answer.body)).encode()))
        scope["route"] = read  # metrics label the request with the route's template, as for the route
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        return True


# Every hit reads a generation first: the process follows them (core/mirror.py) rather than asking.
MIRRORED_PREFIXES = (generation_key(""),)


def match(reads: Sequence[CachedRead], scope: Scope) -> tuple[CachedRead, str] | None:
    """The cached read a request asks for, and its project id."""
    if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(_PROJECTS):
        for read in reads:
            found = read.pattern.match(scope["path"])
            if found is not None:
                project_id = found["project_id"]
                return (read, project_id) if _PROJECT_ID.fullmatch(project_id) else None
    return None


def prefetch_for(reads: Sequence[CachedRead]) -> Prefetch:
    """What a hit reads first, for the rate limiter (which runs before) to bring along in its own
    round trip to Redis: one round trip for both."""

    def prefetch(scope: Scope) -> list[str]:
        matched = match(reads, scope)
        if matched is None:
            return []
        scope["state"][_MATCHED] = matched  # the fast path, next, need not match again
        return [generation_key(matched[1])]

    return prefetch
