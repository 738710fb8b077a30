"""Redis wiring: a real server on `REDIS_URL`, or an in-process Redis (fakeredis) when it is unset.

Both are `redis.asyncio.Redis`, so the cache, limiter and event code see one interface.
"""

import asyncio
from collections import deque
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.core.config import Settings
from backend.core.storage.in_memory import in_memory_package

RedisClient = Redis


class WaitingConnectionPool(ConnectionPool):
    """redis-py's pool, bounded: past `max_connections` a command waits up to `timeout` seconds for
    a connection to be released, then fails with `ConnectionError("No connection available.")`.

    Not redis-py's `BlockingConnectionPool`, which does the same: it takes an `asyncio.Condition`
    and starts a timeout for every command, free connections or not: about 50 of the 215 µs of
    client CPU a `GET` took here (benchmarks/README.md; redis/redis-py#3692). redis-py's plain pool is
    cheaper but raises when full (redis/redis-py#2517). This one takes a free connection at once
    and waits only when there is none.
    """

    def __init__(self, *, timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._in_maintenance = False

    def set_in_maintenance(self, in_maintenance: bool) -> None:
        """Called by redis-py around a server's MOVING notification (Redis Cloud and Enterprise),
        whose handler rewrites the pool's connections under the pool's lock."""
        self._in_maintenance = in_maintenance

    async def get_connection(self, *_: Any, **__: Any) -> AbstractConnection:
        while not self.can_get_connection() or (self._in_maintenance and self._lock.locked()):
            if not self.can_get_connection():
                await self._wait_for_release()
            else:  # a MOVING notification is being applied: take a connection after it
                async with self._lock:
                    pass
        # Free, and the pool not being rewritten: nothing was awaited since the check.
        connection: AbstractConnection = self.get_available_connection()  # type: ignore[no-untyped-call]
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        try:
            await super().release(connection)
        finally:
            self._wake_one()

    async def _wait_for_release(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                while not self.can_get_connection():
                    waiter: asyncio.Future[None] = loop.create_future()
                    self._waiters.append(waiter)
                    try:
                        await waiter
                    except BaseException:
                        if waiter.done() and not waiter.cancelled():
                            self._wake_one()  # woken, but leaving without the connection: pass it on
                        raise
        except TimeoutError as exc:
            raise RedisConnectionError("No connection available.") from exc

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a waiter that timed out or was cancelled is skipped
                waiter.set_result(None)
                return


def make_redis(settings: Settings) -> RedisClient:
    if settings.redis_url is None:
        fakeredis = in_memory_package("fakeredis", "REDIS_URL")
        # A private server per app, so two apps in one process (tests) do not share data.
        redis: RedisClient = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=False)
        return redis
    pool = WaitingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_timeout_seconds,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
    )
    return Redis.from_pool(pool)  # closing the client closes the pool's connections too
