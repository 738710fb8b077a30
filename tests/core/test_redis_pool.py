"""The Redis pool waits for a free connection when all are in use, up to its timeout (real tier)."""

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.core.config import Settings
from backend.core.redis import WaitingConnectionPool


@pytest.mark.real_servers
async def test_a_caller_waits_for_the_connection_another_releases(settings: Settings) -> None:
    pool = WaitingConnectionPool.from_url(str(settings.redis_url), max_connections=1, timeout=2)
    held = await pool.get_connection()
    waiting = asyncio.create_task(pool.get_connection())
    await asyncio.sleep(0.05)
    assert not waiting.done()

    await pool.release(held)

    assert await asyncio.wait_for(waiting, 1) is held
    await pool.release(held)
    await pool.disconnect()


@pytest.mark.real_servers
async def test_a_caller_gives_up_after_the_timeout(settings: Settings) -> None:
    pool = WaitingConnectionPool.from_url(str(settings.redis_url), max_connections=1, timeout=0.1)
    held = await pool.get_connection()

    with pytest.raises(RedisConnectionError, match="No connection available"):
        await pool.get_connection()

    await pool.release(held)
    assert await pool.get_connection() is held  # a waiter that gave up holds nothing
    await pool.release(held)
    await pool.disconnect()
