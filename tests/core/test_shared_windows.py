"""Shared rate limits with most requests counted in process: what each request is told, and what Redis
holds, against the exact count (on an in-process Redis running the same script)."""

from typing import Any

import fakeredis
import pytest

from backend.core.ratelimit.limiter import RateLimiter
from backend.core.ratelimit.rules import RateLimited, Rule
from backend.core.ratelimit.shared_windows import SharedWindows
from backend.core.ratelimit.stores import RedisWindows, SharedWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class CountedWindows(RedisWindows):
    """Redis's side, with the requests that asked it noted (how many each added)."""

    def __init__(self, redis: fakeredis.FakeAsyncRedis) -> None:
        super().__init__(redis)
        self.asked: list[int] = []

    async def exchange(self, key: str, rule: Rule, *, add: int = 0, take: bool = True) -> SharedWindow:
        self.asked.append(add)
        return await super().exchange(key, rule, add=add, take=take)


@pytest.fixture
def redis() -> fakeredis.FakeAsyncRedis:
    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())


async def shared_count(redis: Any, rule: Rule) -> int:
    """What Redis holds for the key "bucket" now."""
    return (
        await RedisWindows(redis).exchange(f"tasklane:rl:{rule.period}:bucket", rule, take=False)
    ).window.count


async def remaining(limiter: RateLimiter, rule: Rule) -> list[int | None]:
    """Take until refused; each request's RateLimit-Remaining, None for the refusal."""
    told: list[int | None] = []
    while True:
        try:
            told.append((await limiter.hit(rule, "bucket")).remaining)
        except RateLimited:
            told.append(None)
            return told


async def test_far_from_the_limit_requests_are_counted_here_and_shared_in_one_batch(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    rule = Rule.parse("1000/day")
    store = CountedWindows(redis)
    windows = SharedWindows(store)
    limiter = RateLimiter(windows)

    told = [(await limiter.hit(rule, "bucket")).remaining for _ in range(200)]

    assert told == list(range(999, 799, -1))  # exact within the process
    assert store.asked == [0]  # only the first request asked Redis
    assert await shared_count(redis, rule) == 1
    await windows.flush()
    assert await shared_count(redis, rule) == 200


async def test_near_the_limit_every_request_asks_redis_and_the_limit_is_exact(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    rule = Rule.parse("100/day")
    store = CountedWindows(redis)
    limiter = RateLimiter(SharedWindows(store))

    told = await remaining(limiter, rule)

    assert told == [*range(99, -1, -1), None]
    # The first request, then the last tenth of the limit and the refusal; the one after the
    # requests counted here adds them first.
    assert store.asked == [0, 89, *[0] * 10]
    assert await shared_count(redis, rule) == 100


async def test_small_limits_ask_redis_for_every_request(redis: fakeredis.FakeAsyncRedis) -> None:
    rule = Rule.parse("5/day")
    store = CountedWindows(redis)

    told = await remaining(RateLimiter(SharedWindows(store)), rule)

    assert told == [4, 3, 2, 1, 0, None]
    assert len(store.asked) == 6


async def test_two_processes_share_one_limit(redis: fakeredis.FakeAsyncRedis) -> None:
    rule = Rule.parse("1000/day")
    first, second = SharedWindows(CountedWindows(redis)), SharedWindows(CountedWindows(redis))
    via_first, via_second = RateLimiter(first), RateLimiter(second)
    for _ in range(300):
        await via_first.hit(rule, "bucket")
    await first.flush()

    assert (await via_second.hit(rule, "bucket")).remaining == 699  # the second learns the first's 300

    allowed = 301
    for turn in range(2000):  # both take in turns, each sharing its count every 10 requests
        limiter, windows = (via_first, first) if turn % 2 else (via_second, second)
        try:
            await limiter.hit(rule, "bucket")
            allowed += 1
        except RateLimited:
            pass
        if turn % 20 in (18, 19):
            await windows.flush()

    assert allowed == 1000
    await first.flush()
    await second.flush()
    assert await shared_count(redis, rule) == 1000


async def test_a_count_learnt_over_a_second_ago_is_asked_again_with_what_is_pending(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    rule = Rule.parse("1000/day")
    clock = Clock()
    store = CountedWindows(redis)
    limiter = RateLimiter(SharedWindows(store, clock=clock))
    for _ in range(10):
        await limiter.hit(rule, "bucket")

    clock.now += SharedWindows.FRESH_SECONDS + 0.1
    quota = await limiter.hit(rule, "bucket")

    assert store.asked == [0, 9]
    assert quota.remaining == 989
    assert await shared_count(redis, rule) == 11


async def test_idle_buckets_are_forgotten(redis: fakeredis.FakeAsyncRedis) -> None:
    clock = Clock()
    windows = SharedWindows(CountedWindows(redis), clock=clock)
    limiter = RateLimiter(windows)
    for i in range(50):
        await limiter.hit("1000/day", f"client-{i}")
    assert len(windows) == 50

    clock.now += SharedWindows.FRESH_SECONDS + 0.1
    await windows.flush()

    assert len(windows) == 0
