"""Serving a GET from the response cache, with strong ETags and conditional requests."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response, status

from backend.core.cache import CachedResponse, ResponseCache
from backend.core.preconditions import none_match

JSON = "application/json"


def json_entry(payload: Any, etag: str | None = None) -> CachedResponse:
    """A 200 JSON response to cache; without an ETag of its own, the body's hash is its ETag."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    tag = etag or '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return CachedResponse(200, body, {"ETag": tag, "Content-Type": JSON})


async def cached_response(
    request: Request,
    cache: ResponseCache,
    scope_parts: list[str],
    compute: Callable[[], Awaitable[CachedResponse]],
    *,
    if_none_match: str | None,
) -> Response:
    query = sorted(request.query_params.multi_items())
    parts = [*scope_parts, request.url.path, json.dumps(query)]
    entry, hit = await cache.fetch(parts, compute)
    headers = {**entry.headers, "X-Cache": "HIT" if hit else "MISS", "Cache-Control": "private"}
    if none_match(if_none_match, entry.headers["ETag"]):
        headers.pop("Content-Type", None)
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(entry.body, status_code=entry.status, headers=headers, media_type=JSON)


_HEADER_DOCS = {
    "ETag": {"description": "Strong validator; send it back as If-None-Match.", "schema": {"type": "string"}},
    "X-Cache": {
        "description": "HIT when served from the cache.",
        "schema": {"type": "string", "enum": ["HIT", "MISS"]},
    },
    "Cache-Control": {"description": "`private`: for this caller only.", "schema": {"type": "string"}},
}


def cached_responses() -> dict[int | str, dict[str, Any]]:
    """Contract entries of a cached GET: its headers, and 304 for a current If-None-Match."""
    return {
        200: {"headers": _HEADER_DOCS},
        304: {"description": "Not modified: your If-None-Match is current.", "headers": _HEADER_DOCS},
    }
