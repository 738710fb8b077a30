"""Fan-out of activity to live streams through Redis pub/sub, so any API process delivers events
written through any other. Without REDIS_URL the in-process Redis gives one process the same."""

import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import Header, Query
from fastapi.sse import ServerSentEvent
from pymongo.errors import ConnectionFailure
from redis.exceptions import RedisError

from backend.core.caching import keys
from backend.core.http.errors import ServiceUnavailable
from backend.core.metrics import OPEN_STREAMS
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

    def subscribe(self, project_id: object) -> AbstractAsyncContextManager["Subscription"]:
        return subscription(self._redis, keys.events(project_id))


@asynccontextmanager
async def subscription(redis: RedisClient, channel: str) -> AsyncIterator["Subscription"]:
    """Subscribed on entry, so messages published from then on are kept for the caller (every
    stream's: a project's events, a person's notifications)."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    try:
        yield Subscription(pubsub)
    finally:
        # After Redis went away mid-stream there is nothing left to unsubscribe from.
        with contextlib.suppress(RedisError):
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


# Seconds a stream's client is asked to wait when Redis is unreachable.
REDIS_RETRY_AFTER = "5"


@asynccontextmanager
async def subscribed(subscribing: AbstractAsyncContextManager[Subscription]) -> AsyncIterator[Subscription]:
    """A stream's subscription, opened before its answer starts (enter it in a dependency): with
    Redis unreachable the client gets 503 SERVICE_UNAVAILABLE and Retry-After, not a 200 whose body
    ends at once. Shared by every stream (a project's, a person's)."""
    async with AsyncExitStack() as stack:
        try:
            live = await stack.enter_async_context(subscribing)
        except RedisError as exc:
            log.warning("stream_subscribe_failed", error=type(exc).__name__)
            raise ServiceUnavailable(
                "Live events are unavailable; retry shortly.", headers={"Retry-After": REDIS_RETRY_AFTER}
            ) from None
        yield live


async def streamed(events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[ServerSentEvent]:
    """A stream's events, counted as open. When Redis or MongoDB fails after the answer started (a
    503 can no longer be sent), the stream ends with a `retry` of Redis's Retry-After instead of a
    cut connection and a traceback: the EventSource reconnects then, gets 503 while the dependency
    is down, and resumes with Last-Event-ID once it is back."""
    OPEN_STREAMS.inc()
    try:
        async for event in events:
            yield event
    except (RedisError, ConnectionFailure) as exc:
        log.warning("stream_dependency_lost", error=type(exc).__name__)  # the type: messages name hosts
        yield ServerSentEvent(
            comment="live events are unavailable: reconnect", retry=int(REDIS_RETRY_AFTER) * 1000
        )
    finally:
        OPEN_STREAMS.dec()


# Where a stream resumes, for both streams: the header an EventSource sends when it reconnects by
# itself, and the query parameter a new one (which cannot set headers) passes instead.
LastEventIdHeader = Annotated[
    str | None, Header(alias="Last-Event-ID", max_length=64, description="Resume after this event.")
]
ResumeAfterQuery = Annotated[
    str | None,
    Query(
        alias="last_event_id",
        max_length=64,
        description="Resume after this event, for a new EventSource (which cannot set Last-Event-ID); "
        "the header wins when both are sent.",
    ),
]
