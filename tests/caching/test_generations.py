"""Generations: what a write ends, and what Redis keeps of them."""

import fakeredis

from backend.core.caching import keys
from backend.core.caching.generations import Generations
from backend.core.caching.stores import QuietStore, RedisStore


def generations_on(redis: fakeredis.FakeAsyncRedis, ttl: int = 60) -> Generations:
    return Generations(QuietStore(RedisStore(redis)), cache_ttl_seconds=ttl)


async def test_a_write_moves_the_generations_of_its_project_and_tasks_only() -> None:
    generations = generations_on(fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer()))

    await generations.bump("p", ["t1"])
    before = (
        await generations.current("p"),
        await generations.of_task("t1"),
        await generations.of_task("t2"),
    )
    await generations.bump("p", ["t1"])
    after = (await generations.current("p"), await generations.of_task("t1"), await generations.of_task("t2"))

    assert after[0] != before[0]
    assert after[1] != before[1]
    assert after[2] == before[2] == 0  # never written: readers use 0


async def test_a_tasks_generation_is_not_kept_forever() -> None:
    # One key per task ever written, without expiry, would fill a Redis that evicts only keys with a
    # TTL (docker-compose.yml); gone after twice the cache TTL, no answer of an older value is alive.
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    generations = generations_on(redis, ttl=60)

    await generations.bump("p", ["t1"])

    assert 0 < await redis.ttl(keys.task_generation("t1")) <= 120
    assert await redis.ttl(keys.generation("p")) == -1  # projects are few: a counter, kept


async def test_a_tasks_generation_never_comes_back_to_an_earlier_value() -> None:
    # A counter restarting after its key expired would count to values whose answers may still be
    # stored; drawn values do not repeat.
    generations = generations_on(fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer()))
    seen = set()
    for _ in range(200):
        await generations.bump("p", ["t1"])
        seen.add(await generations.of_task("t1"))

    assert len(seen) == 200
    assert 0 not in seen
