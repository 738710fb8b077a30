"""Fan-out of activity to live streams through Redis pub/sub, so any API process delivers events
written through any other. Without REDIS_URL the in-process Redis gives one process the same."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from redis.exceptions import RedisError

from backend.core.caching import keys
from backend.core.storage.redis import RedisClient

log = structlog.get_logger(__name__)


class EventBus:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def publish(self, project_id: object, event: dict[str, Any]) -> None:
        try:
            await self._redis.publish(keys.events(project_id), json.dumps(event))
        except RedisError as exc:  # the change is stored; streams resume from the log with Last-Event-ID
            log.warning("event_publish_failed", error=type(exc).__name__)

    @asynccontextmanager
    async def subscribe(self, project_id: object) -> AsyncIterator["Subscription"]:
        """Subscribed on entry, so events published from then on are kept for the caller."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(keys.events(project_id))
        try:
            yield Subscription(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]


class Subscription:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def next(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None when `timeout` seconds pass without one."""
        message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        if message is None:
            return None
        event: dict[str, Any] = json.loads(message["data"])
        return event
