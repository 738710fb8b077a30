"""Idempotent creates: a retry with the same `Idempotency-Key` and body gets the first response again.

Keys live in Redis for 24 hours, scoped by the caller and the collection. While the first request
runs, its key is reserved, so a concurrent retry is told to wait instead of creating a twin.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import structlog
from fastapi import Header
from redis.exceptions import RedisError
from starlette.responses import Response

from backend.core.caching import keys
from backend.core.http.errors import ProblemError
from backend.core.storage.redis import RedisClient

log = structlog.get_logger(__name__)

TTL_SECONDS = 24 * 3600
PENDING_TTL_SECONDS = 60
REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("location", "etag", "content-type")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique string (a UUID); a retry with the same key and body replays the first answer.",
    ),
]


class IdempotencyKeyReused(ProblemError):
    status = 422
    error_code = "IDEMPOTENCY_KEY_REUSED"
    title = "Idempotency key reused"
    default_detail = "This Idempotency-Key was used with a different request body."


class IdempotencyKeyInUse(ProblemError):
    status = 409
    error_code = "IDEMPOTENCY_KEY_IN_USE"
    title = "Idempotency key in use"
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."


class Idempotency:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def run(
        self, scope: str, key: str | None, body: Any, produce: Callable[[], Awaitable[Response]]
    ) -> Response:
        if key is None:
            return await produce()
        redis_key = keys.idempotency(scope, key)
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        try:
            reserved = await self._redis.set(
                redis_key, json.dumps({"f": fingerprint}), nx=True, ex=PENDING_TTL_SECONDS
            )
            if not reserved:
                return await self._replay(redis_key, fingerprint)
        except RedisError as exc:  # without Redis, creating without the guarantee beats failing
            log.warning("idempotency_unavailable", error=type(exc).__name__)
            return await produce()
        try:
            response = await produce()
        except BaseException:
            await self._redis.delete(redis_key)
            raise
        stored = {
            "f": fingerprint,
            "status": response.status_code,
            "headers": {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS},
            "body": bytes(response.body).decode("utf-8"),
        }
        await self._redis.set(redis_key, json.dumps(stored), ex=TTL_SECONDS)
        return response

    async def _replay(self, redis_key: str, fingerprint: str) -> Response:
        raw = await self._redis.get(redis_key)
        if raw is None:  # expired between our two calls: treat as in use, the client retries
            raise IdempotencyKeyInUse()
        stored = json.loads(raw)
        if stored["f"] != fingerprint:
            raise IdempotencyKeyReused()
        if "status" not in stored:
            raise IdempotencyKeyInUse()
        headers = {**stored["headers"], REPLAYED_HEADER: "true"}
        return Response(stored["body"], status_code=stored["status"], headers=headers)
