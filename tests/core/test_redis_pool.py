"""The Redis pool's promise to ops (REDIS_MAX_CONNECTIONS): at most that many connections per process;
past it a command waits for a free one, up to REDIS_TIMEOUT_SECONDS, and then fails as Redis being
unavailable (which every cache user answers without Redis)."""

import asyncio
import os
import time
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.core.config import Settings
from backend.core.storage.redis import WaitingConnectionPool, make_redis


class Connection:
    """A connection that is always up, so the pool's own behaviour is what a test sees."""

    def __init__(self, **_: Any) -> None:
        self.pid = os.getpid()

    async def connect(self) -> None: ...

    async def can_read(self) -> bool:
        return False

    async def disconnect(self, **_: Any) -> None: ...

    async def re_auth(self) -> None: ...

    def should_reconnect(self) -> bool:
        return False


def pool(size: int, timeout: float = 5.0) -> WaitingConnectionPool:
    return WaitingConnectionPool(max_connections=size, timeout=timeout, connection_class=Connection)


async def test_a_command_past_the_pool_size_waits_for_a_released_connection() -> None:
    connections = pool(1)
    held = await connections.get_connection()
    waiting = asyncio.create_task(connections.get_connection())
    await asyncio.sleep(0.01)
    assert not waiting.done()

    await connections.release(held)

    assert await asyncio.wait_for(waiting, 1) is held


async def test_waiting_past_the_timeout_fails_as_redis_unavailable() -> None:
    connections = pool(1, timeout=0.05)
    await connections.get_connection()
    started = time.monotonic()

    with pytest.raises(RedisConnectionError, match="No connection available"):
        await asyncio.wait_for(connections.get_connection(), 1)

    assert 0.04 < time.monotonic() - started < 1


async def test_a_caller_cancelled_as_it_is_woken_passes_the_connection_on() -> None:
    connections = pool(1)
    held = await connections.get_connection()
    first = asyncio.create_task(connections.get_connection())
    second = asyncio.create_task(connections.get_connection())
    await asyncio.sleep(0.01)

    await connections.release(held)  # wakes `first`, which is cancelled before it runs
    first.cancel()

    assert await asyncio.wait_for(second, 1) is held
    assert first.cancelled()


async def test_a_caller_waiting_behind_one_that_timed_out_gets_the_released_connection() -> None:
    connections = pool(1, timeout=0.05)
    held = await connections.get_connection()
    timed_out = asyncio.create_task(connections.get_connection())
    await asyncio.sleep(0.01)
    connections.timeout = 5.0
    waiting = asyncio.create_task(connections.get_connection())
    await asyncio.gather(timed_out, return_exceptions=True)

    await connections.release(held)

    assert await asyncio.wait_for(waiting, 1) is held


async def test_while_redis_moves_the_pool_a_connection_is_taken_after_the_move() -> None:
    # redis-py applies a MOVING notification (Redis Cloud, Enterprise) under the pool's lock.
    connections = pool(2)
    connections.set_in_maintenance(True)
    await connections._lock.acquire()
    taking = asyncio.create_task(connections.get_connection())
    await asyncio.sleep(0.01)
    assert not taking.done()

    connections._lock.release()

    assert isinstance(await asyncio.wait_for(taking, 1), Connection)


async def test_no_connection_is_lost_to_callers_that_time_out() -> None:
    connections = pool(2, timeout=0.02)
    held = [await connections.get_connection(), await connections.get_connection()]
    late = [asyncio.create_task(connections.get_connection()) for _ in range(5)]
    await asyncio.gather(*late, return_exceptions=True)
    for connection in held:
        await connections.release(connection)

    again = [await connections.get_connection(), await connections.get_connection()]

    assert set(again) == set(held)


@pytest.mark.real_servers
async def test_the_apps_redis_client_queues_commands_past_its_pool_size() -> None:
    redis = make_redis(Settings(redis_url=os.environ["REDIS_URL"], redis_max_connections=2))
    connections = redis.connection_pool._available_connections
    try:
        # Eight commands that each hold a connection for 0.1 s, on a pool of two.
        holds = [redis.blpop([f"test:pool:empty:{i}"], timeout=0.1) for i in range(8)]
        answers = await asyncio.gather(*holds)
        assert answers == [None] * 8
        assert len(connections) == 2
    finally:
        await redis.aclose()
    assert not any(connection.is_connected for connection in connections)  # closed with the client
