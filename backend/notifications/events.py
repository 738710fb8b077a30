"""Fan-out of notifications to each person's live streams through Redis pub/sub (as the project
streams' activity, backend/activity/events.py), so any API process delivers what any other wrote."""

import json
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog
from beanie import PydanticObjectId
from redis.exceptions import RedisError

from backend.activity.events import Subscription, subscription
from backend.core.caching import keys
from backend.core.storage.redis import RedisClient

log = structlog.get_logger(__name__)

# A message telling a person's streams that their unread count may have changed (they read some).
READ_MARK: dict[str, Any] = {"read": True}


class UserEvents:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def publish(self, messages: Mapping[PydanticObjectId, list[dict[str, Any]]]) -> None:
        """Each person's messages, all in one pipelined round trip to Redis."""
        if not messages:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, payloads in messages.items():
                    for payload in payloads:
                        pipe.publish(keys.user_events(user_id), json.dumps(payload))
                await pipe.execute()
        except RedisError as exc:  # stored already: a stream resumes from MongoDB with Last-Event-ID
            log.warning("user_event_publish_failed", error=type(exc).__name__)

    def subscribe(self, user_id: PydanticObjectId) -> AbstractAsyncContextManager[Subscription]:
        return subscription(self._redis, keys.user_events(user_id))
