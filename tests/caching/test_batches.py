"""Cache reads and stores asked for in one turn of the event loop reach Redis as one round trip, and
each caller gets its own answer, or its own failure (which the cache answers without Redis)."""

import asyncio
from typing import Any

import fakeredis
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from backend.core.caching.batches import TurnBatches
from backend.core.caching.stores import QuietStore, RedisStore


class CountedRedis(fakeredis.FakeAsyncRedis):
    """An in-process Redis noting each round trip: a command, or a pipeline's execution."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(server=fakeredis.FakeServer(), **kwargs)
        self.round_trips: list[str] = []

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.round_trips.append(str(args[0]))
        return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        pipeline = super().pipeline(transaction, shard_hint)
        execute = pipeline.execute

        async def counted(raise_on_error: bool = True) -> Any:
            self.round_trips.append("pipeline: " + " ".join(str(c[0][0]) for c in pipeline.command_stack))
            return await execute(raise_on_error)

        pipeline.execute = counted  # type: ignore[method-assign]
        return pipeline


@pytest.fixture
def redis() -> CountedRedis:
    return CountedRedis()


async def test_reads_of_one_turn_are_one_mget_and_each_caller_gets_its_own_values(
    redis: CountedRedis,
) -> None:
    store = RedisStore(redis)
    await redis.mset({"a": b"1", "b": b"2", "c": b"3"})
    redis.round_trips.clear()

    a, b_and_missing, c, a_again = await asyncio.gather(
        store.get("a"), store.mget(["b", "missing"]), store.get("c"), store.get("a")
    )

    assert (a, b_and_missing, c, a_again) == (b"1", [b"2", None], b"3", b"1")
    assert redis.round_trips == ["MGET"]


async def test_stores_of_one_turn_are_one_pipeline(redis: CountedRedis) -> None:
    store = RedisStore(redis)

    await asyncio.gather(store.set("a", b"1", 60), store.set("b", b"2", 60), store.set("c", b"3", 30))

    assert redis.round_trips == ["pipeline: SET SET SET"]
    assert await redis.mget(["a", "b", "c"]) == [b"1", b"2", b"3"]
    assert 25 < await redis.ttl("c") <= 30


async def test_a_store_alone_is_one_command_and_turns_apart_are_round_trips_apart(
    redis: CountedRedis,
) -> None:
    store = RedisStore(redis)

    await store.set("a", b"1", 60)
    assert await store.get("a") == b"1"

    assert redis.round_trips == ["SET", "MGET"]


async def test_a_failed_round_trip_fails_each_of_its_callers_and_the_next_turn_tries_again(
    redis: CountedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet = QuietStore(RedisStore(redis))
    await redis.set("a", b"1")
    mget = redis.mget

    async def down(*_: Any, **__: Any) -> Any:
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(redis, "mget", down)
    during = await asyncio.gather(*(quiet.run(quiet.store.get("a"), b"fallback") for _ in range(3)))
    monkeypatch.setattr(redis, "mget", mget)
    after = await quiet.run(quiet.store.get("a"), b"fallback")

    assert during == [b"fallback"] * 3
    assert after == b"1"


async def test_a_caller_cancelled_while_waiting_leaves_the_others_their_answers() -> None:
    async def send(items: list[int]) -> list[int]:
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    batches: TurnBatches[int, int] = TurnBatches(send)
    first, second, third = (asyncio.create_task(batches(i)) for i in (1, 2, 3))
    await asyncio.sleep(0)
    second.cancel()

    assert await asyncio.wait_for(first, 1) == 10
    assert await asyncio.wait_for(third, 1) == 30
    assert second.cancelled()


async def test_a_caller_cancelled_while_its_round_trip_fails_leaves_the_others_their_failure() -> None:
    async def send(items: list[int]) -> list[int]:
        await asyncio.sleep(0.01)
        raise RedisConnectionError("Redis is down")

    batches: TurnBatches[int, int] = TurnBatches(send)
    first, second, third = (asyncio.create_task(batches(i)) for i in (1, 2, 3))
    await asyncio.sleep(0)
    second.cancel()

    for caller in (first, third):
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(caller, 1)
    assert second.cancelled()


async def test_no_caller_waits_for_ever_when_its_round_trip_is_cancelled() -> None:
    started = asyncio.Event()

    async def send(items: list[int]) -> list[int]:
        started.set()
        await asyncio.sleep(60)
        return items

    batches: TurnBatches[int, int] = TurnBatches(send)
    callers = [asyncio.create_task(batches(i)) for i in range(3)]
    await started.wait()
    for sending in list(batches._sending):
        sending.cancel()

    done, pending = await asyncio.wait(callers, timeout=1)

    assert not pending
    assert all(caller.cancelled() for caller in done)


async def test_many_values_stored_at_once_are_one_round_trip_with_their_ttl(redis: CountedRedis) -> None:
    store = RedisStore(redis)

    await store.set_many({"a": b"1", "b": b"2"}, 30)

    assert redis.round_trips == ["pipeline: SET SET"]
    assert await redis.mget(["a", "b"]) == [b"1", b"2"]
    assert 25 < await redis.ttl("b") <= 30
