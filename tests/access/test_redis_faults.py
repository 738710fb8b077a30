"""Access taken away stays away, whatever Redis does: Redis holds no input of an access decision.

Two instances share MongoDB and Redis. A member is removed through the first while Redis stalls, or
Redis is put back to what it held before the removal (a restore, old keys); the second instance
never lets the removed member in again: not from its cache-hit fast path, not on a miss, not for a
write.
"""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from backend.core.storage.redis import RedisClient
from backend.testing import Team, another_instance

pytestmark = pytest.mark.real_servers


@pytest.fixture
async def second(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with another_instance(app) as (_, client):
        yield client


async def removed_member_is_refused(team: Team, via: httpx.AsyncClient, task_url: str) -> None:
    """Every way in answers 404 to the removed viewer: a cached read, a list, a write."""
    headers = team.viewer.headers
    assert (await via.get(task_url, headers=headers)).status_code == 404
    assert (await via.get(team.tasks_url, headers=headers)).status_code == 404
    assert (await via.post(team.tasks_url, json={"title": "x"}, headers=headers)).status_code == 404


async def cached_for_viewer(team: Team, via: httpx.AsyncClient) -> str:
    task = (await team.member.client.post(team.tasks_url, json={"title": "Secret"})).json()
    url = f"{team.tasks_url}/{task['id']}"
    for _ in range(3):
        if (await via.get(url, headers=team.viewer.headers)).headers.get("x-cache") == "HIT":
            return url
    raise AssertionError("not cached")


async def test_a_member_removed_while_redis_stalls_stays_removed(
    team: Team, second: httpx.AsyncClient, redis: RedisClient
) -> None:
    url = await cached_for_viewer(team, second)
    await redis.client_pause(2500, all=True)  # every Redis command waits: a hang

    started = time.monotonic()
    removed = await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")

    assert removed.status_code == 204
    assert time.monotonic() - started < 10  # each Redis call is bounded by its timeout
    await removed_member_is_refused(team, second, url)  # while Redis still stalls
    await asyncio.sleep(2.6)  # Redis answers again, with the generation bump lost
    await removed_member_is_refused(team, second, url)


async def test_a_member_removed_stays_removed_when_redis_comes_back_with_old_keys(
    team: Team, second: httpx.AsyncClient, redis: RedisClient
) -> None:
    url = await cached_for_viewer(team, second)
    snapshot = {key: await redis.dump(key) for key in await redis.keys("*")}

    assert (await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")).status_code == 204
    await redis.flushdb()
    for key, value in snapshot.items():
        if value is not None:
            await redis.restore(key, 0, value, replace=True)

    for _ in range(3):
        await removed_member_is_refused(team, second, url)
        await removed_member_is_refused(team, team.viewer.client, url)
        await asyncio.sleep(0.5)
