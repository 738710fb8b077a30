"""Rate limits: sliding-window counters on Redis when configured, in process otherwise.

A window counter per key and period, the previous window weighted by how much of it still overlaps
the sliding window (the `limits` library's sliding-window-counter, whose rule notation we keep). On
Redis one script counts and reports in a single round trip, on Redis's clock. Memory is two counters
per active key, whatever the traffic.

When Redis fails, each process counts on its own until it is back: looser limits for a while are
better than refusing every request, or none at all.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from backend.core.metrics import REDIS_LIMITER_SECONDS
from backend.core.ratelimit.rules import Rule, Window, weighted
from backend.core.storage.redis import RedisClient


class WindowStore(Protocol):
    async def take(self, key: str, rule: Rule) -> Window:
        """Count a request against `rule` in the window at `key`."""
        ...


class MemoryWindows:
    """One process's counters: {key: (window number, its count, the previous window's count)}."""

    SWEEP_EVERY = 4096  # takes between sweeps of keys idle for two windows

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._counters: dict[str, tuple[int, int, int, int]] = {}
        self._takes = 0
        self._clock = clock

    def __len__(self) -> int:
        return len(self._counters)

    async def take(self, key: str, rule: Rule) -> Window:
        now = self._clock()
        number = int(now // rule.period)
        elapsed = now - number * rule.period
        seen, current, previous, _ = self._counters.get(key, (number, 0, 0, rule.period))
        if seen != number:  # the window moved on: the one before it is the previous window, if adjacent
            previous, current = (current if seen == number - 1 else 0), 0
        count = weighted(previous, current, elapsed, rule.period)
        allowed = count + 1 <= rule.limit
        if allowed:
            current += 1
            count += 1
        self._counters[key] = (number, current, previous, rule.period)
        self._takes += 1
        if self._takes % self.SWEEP_EVERY == 0:
            self._sweep(now)
        return Window(allowed, count, previous, elapsed)

    def _sweep(self, now: float) -> None:
        stale = [k for k, (n, _, _, p) in self._counters.items() if n < int(now // p) - 1]
        for key in stale:
            del self._counters[key]


# KEYS[1]: the bucket; ARGV: limit, period, requests already allowed elsewhere to add first (see
# SharedWindows), and 1 to count this request (0: only add and report). Windows are numbered on
# Redis's clock, so every instance agrees; a window's counter lives two periods (it is the next
# window's previous one).
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local number = math.floor(now / period)
local elapsed = now - number * period
local current_key = KEYS[1] .. ':' .. string.format('%d', number)
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. string.format('%d', number - 1)) or '0')
local current = tonumber(redis.call('GET', current_key) or '0')
local added = tonumber(ARGV[3])
if added > 0 then
    current = redis.call('INCRBY', current_key, added)
    redis.call('EXPIRE', current_key, period * 2)
end
local count = math.floor(previous * (period - elapsed) / period) + current
local allowed = 0
if ARGV[4] == '1' and count + 1 <= limit then
    allowed = 1
    count = count + 1
    current = redis.call('INCR', current_key)
    if current == 1 then
        redis.call('EXPIRE', current_key, period * 2)
    end
end
return {allowed, count, previous, tostring(elapsed), current, tostring(now)}
"""


@dataclass(frozen=True)
class SharedWindow:
    """A bucket's window on Redis after an exchange with it."""

    window: Window
    current: int  # the current window's own count
    now: float  # Redis's clock


class RedisWindows:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._script = redis.register_script(_TAKE)

    async def take(self, key: str, rule: Rule) -> Window:
        return (await self.exchange(key, rule)).window

    async def exchange(self, key: str, rule: Rule, *, add: int = 0, take: bool = True) -> SharedWindow:
        """Add `add` requests allowed elsewhere, and count this one when `take`."""
        with REDIS_LIMITER_SECONDS.time():
            reply = await self._script(keys=[key], args=[rule.limit, rule.period, add, int(take)])
        return _shared(reply)

    async def add_many(self, additions: Sequence[tuple[str, Rule, int]]) -> list[SharedWindow]:
        """`exchange(key, rule, add=n, take=False)` for each addition, in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipeline:
            for key, rule, add in additions:
                await self._script(keys=[key], args=[rule.limit, rule.period, add, 0], client=pipeline)
            with REDIS_LIMITER_SECONDS.time():
                replies = await pipeline.execute()
            return [_shared(reply) for reply in replies]


def _shared(reply: list[Any]) -> SharedWindow:
    allowed, count, previous, elapsed, current, now = reply
    window = Window(bool(allowed), int(count), int(previous), float(elapsed))
    return SharedWindow(window, int(current), float(now))
