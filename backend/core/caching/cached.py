"""Cached GET routes: their keys, strong ETags and conditional requests.

A `CachedRead` names one cached route and what, beyond the caller's access scope and the request's
path and query, its answer depends on. The route's handler (on a miss) and the cache-hit fast path
(`backend/projects/cached_reads.py`) both build the key from it, so the two cannot disagree.
"""

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response, status

from backend.core.caching.cache import CachedResponse, ResponseCache
from backend.core.http.headers import header_refs
from backend.core.http.preconditions import none_match

JSON = "application/json"

# What an answer depends on beyond scope, path and query: the caller's id and the last value of each
# query parameter (FastAPI reads a repeated single-valued parameter as its last value).
Variance = Callable[[str, Mapping[str, str]], list[str]]


def invariant(_: str, __: Mapping[str, str]) -> list[str]:
    return []


@dataclass(frozen=True)
class CachedRead:
    path: str  # the route's template, e.g. /api/v1/projects/{project_id}/tasks/{task_id}
    vary: Variance = invariant
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        object.__setattr__(self, "pattern", re.compile(regex + "$"))

    def key_parts(self, scope_parts: list[str], user_id: str, path: str, query_string: bytes) -> list[str]:
        """Everything the answer depends on: the caller's access scope, this route's variance, the
        path and the normalised query."""
        query = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        return [*scope_parts, *self.vary(user_id, dict(query)), path, json.dumps(sorted(query))]


def json_entry(payload: Any, etag: str | None = None) -> CachedResponse:
    """A 200 JSON response to cache; without an ETag of its own, the body's hash is its ETag."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    tag = etag or '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return CachedResponse(200, body, {"ETag": tag, "Content-Type": JSON})


def reply(entry: CachedResponse, *, hit: bool, if_none_match: str | None) -> CachedResponse:
    """What the client gets for a cached entry: its headers for this cache, or a 304 without a body."""
    headers = {**entry.headers, "X-Cache": "HIT" if hit else "MISS", "Cache-Control": "private"}
    if none_match(if_none_match, entry.headers["ETag"]):
        headers.pop("Content-Type", None)
        return CachedResponse(status.HTTP_304_NOT_MODIFIED, b"", headers)
    return CachedResponse(entry.status, entry.body, headers)


async def cached_response(
    request: Request,
    cache: ResponseCache,
    read: CachedRead,
    scope_parts: list[str],
    compute: Callable[[], Awaitable[CachedResponse]],
    *,
    user_id: str,
    if_none_match: str | None,
) -> Response:
    parts = read.key_parts(scope_parts, user_id, request.scope["path"], request.scope["query_string"])
    entry, hit = await cache.fetch(parts, compute)
    answer = reply(entry, hit=hit, if_none_match=if_none_match)
    if answer.status == status.HTTP_304_NOT_MODIFIED:
        return Response(status_code=answer.status, headers=answer.headers)
    return Response(answer.body, status_code=answer.status, headers=answer.headers, media_type=JSON)


_HEADER_DOCS = header_refs("ETag", "X-Cache", "Cache-Control")


def cached_responses() -> dict[int | str, dict[str, Any]]:
    """Contract entries of a cached GET: its headers, and 304 for a current If-None-Match."""
    return {
        200: {"headers": _HEADER_DOCS},
        304: {"description": "Not modified: your If-None-Match is current.", "headers": _HEADER_DOCS},
    }
