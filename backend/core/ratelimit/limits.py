"""Rate limits: sliding-window counters on Redis when configured, in process otherwise.

A window counter per key and period, the previous window weighted by how much of it still overlaps
the sliding window (the `limits` library's sliding-window-counter, whose rule notation we keep). On
Redis one script counts and reports in a single round trip, on Redis's clock. Memory is two counters
per active key, whatever the traffic.

When Redis fails, each process counts on its own until it is back: looser limits for a while are
better than refusing every request, or none at all.
"""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import structlog
from limits import parse
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.caching.cache import forget_reads, remember_reads
from backend.core.caching.mirror import KeyMirror
from backend.core.config import Settings
from backend.core.http.errors import ProblemError
from backend.core.http.problems import problem_response, request_id_of
from backend.core.logging import OccasionalWarning
from backend.core.metrics import RATE_LIMITED, REDIS_LIMITER_SECONDS
from backend.core.storage.redis import RedisClient

log = structlog.get_logger(__name__)


class RateLimited(ProblemError):
    status = 429
    error_code = "RATE_LIMITED"
    title = "Too many requests"
    sends_headers = ("Retry-After",)
    default_detail = "Too many requests; retry after the time in Retry-After."


@dataclass(frozen=True)
class Rule:
    limit: int
    period: int  # seconds
    text: str

    @staticmethod
    @cache
    def parse(text: str) -> "Rule":
        """`N/second|minute|hour|day` (the `limits` notation, which validates it)."""
        item = parse(text)
        return Rule(item.amount, item.get_expiry(), text)


@dataclass(frozen=True)
class Window:
    """One count against a rule: whether it fit, and the sliding window's state after it."""

    allowed: bool
    count: int  # the weighted count, this request included when allowed
    previous: int  # the previous window's count
    elapsed: float  # seconds into the current window


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset_after: int  # seconds until the window frees a request

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
        }

    @classmethod
    def of(cls, rule: Rule, window: Window) -> "Quota":
        # The current window's requests start to weigh less when it ends; the previous window's weigh
        # one request less every period/previous seconds.
        reset = rule.period - window.elapsed
        if window.previous:
            reset = min(reset, reset % (rule.period / window.previous))
        return cls(rule.limit, max(0, rule.limit - window.count), max(1, math.ceil(reset)))


def weighted(previous: int, current: int, elapsed: float, period: int) -> int:
    return math.floor(previous * (period - elapsed) / period) + current


class WindowStore(Protocol):
    async def take_and_read(
        self, key: str, rule: Rule, read: Sequence[str]
    ) -> tuple[Window, list[bytes | None] | None]:
        """Count a request against `rule` in the window at `key`, and read the values at `read` in the
        same round trip when the store holds them (else None)."""
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

    async def take_and_read(
        self, key: str, rule: Rule, read: Sequence[str]
    ) -> tuple[Window, list[bytes | None] | None]:
        return await self.take(key, rule), None  # the cache is not in here

    def _sweep(self, now: float) -> None:
        stale = [k for k, (n, _, _, p) in self._counters.items() if n < int(now // p) - 1]
        for key in stale:
            del self._counters[key]


# KEYS[1]: the bucket; ARGV: limit, period, requests already allowed elsewhere to add first (see
# SharedWindows), and 1 to count this request (0: only add and report). Windows are numbered on
# Redis's clock, so every instance agrees; a window's counter lives two periods (it is the next
# window's previous one). The values of any further KEYS follow: a caller's other reads ride on the
# same round trip.
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
local reply = {allowed, count, previous, tostring(elapsed), current, tostring(now)}
if #KEYS > 1 then
    for i, value in ipairs(redis.call('MGET', unpack(KEYS, 2))) do
        reply[6 + i] = value
    end
end
return reply
"""


@dataclass(frozen=True)
class SharedWindow:
    """A bucket's window on Redis after an exchange with it."""

    window: Window
    current: int  # the current window's own count
    now: float  # Redis's clock
    values: list[bytes | None]


class RedisWindows:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._script = redis.register_script(_TAKE)

    async def take_and_read(
        self, key: str, rule: Rule, read: Sequence[str]
    ) -> tuple[Window, list[bytes | None] | None]:
        shared = await self.exchange(key, rule, read)
        return shared.window, shared.values

    async def exchange(
        self, key: str, rule: Rule, read: Sequence[str] = (), *, add: int = 0, take: bool = True
    ) -> SharedWindow:
        """Add `add` requests allowed elsewhere, count this one when `take`, and read `read`."""
        with REDIS_LIMITER_SECONDS.time():
            reply = await self._script(keys=[key, *read], args=[rule.limit, rule.period, add, int(take)])
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
    allowed, count, previous, elapsed, current, now, *values = reply
    window = Window(bool(allowed), int(count), int(previous), float(elapsed))
    return SharedWindow(window, int(current), float(now), values)


class RateLimiter:
    def __init__(self, store: WindowStore, fallback: WindowStore | None = None) -> None:
        self._store = store
        self._fallback = fallback if fallback is not None else store
        self._unavailable = OccasionalWarning("rate_limiter_unavailable")

    async def hit(self, rule: str | Rule, *key: str) -> Quota:
        """Count one request against `rule` for `key`; raise RateLimited when the window is full."""
        quota, _ = await self.hit_and_read(rule, (), *key)
        return quota

    async def hit_and_read(
        self, rule: str | Rule, read: Sequence[str], *key: str
    ) -> tuple[Quota, list[bytes | None] | None]:
        """`hit`, and the values at `read` when the limiter's store holds them (Redis), read in the
        same round trip; None when they were not read."""
        rule = Rule.parse(rule) if isinstance(rule, str) else rule
        bucket = f"tasklane:rl:{rule.period}:{':'.join(key)}"
        try:
            window, values = await self._store.take_and_read(bucket, rule, read)
        except (RedisError, OSError) as exc:  # the store failing must not fail the request
            self._unavailable(log, exc, detail="limits per process")
            window, values = await self._fallback.take_and_read(bucket, rule, ())
        quota = Quota.of(rule, window)
        if not window.allowed:
            RATE_LIMITED.labels(key[0] if key else "other").inc()
            headers = {**quota.headers(), "Retry-After": str(quota.reset_after)}
            raise RateLimited(
                f"Rate limit of {rule.text} exceeded; retry in {quota.reset_after} s.", headers=headers
            )
        return quota, values


# The keys an authenticated request will read from the cache (none: empty), so the limiter's round
# trip can bring their values along; the cache then serves them to the request (`remember_reads`).
Prefetch = Callable[[Scope], Sequence[str]]
# Whose bucket an authenticated request counts in (`user:<id>`, `pat:<id>`), from the caller that
# backend/access resolved before; None: the request has no caller and counts per client IP.
CallerKey = Callable[[Scope], str | None]


class RateLimitMiddleware:
    """A limit on every route but health, metrics and docs: per user or token when the request has an
    authenticated caller, per client IP otherwise. Every limited response carries the RateLimit
    headers. It never authenticates: `caller_key` reads what authentication decided."""

    EXEMPT = ("/health/", "/metrics", "/docs", "/openapi.json")

    def __init__(
        self, app: ASGIApp, settings: Settings, caller_key: CallerKey, prefetch: Prefetch | None = None
    ) -> None:
        self.app = app
        self._authenticated = Rule.parse(settings.rate_limit_authenticated)
        self._anonymous = Rule.parse(settings.rate_limit_anonymous)
        self._caller_key = caller_key
        self._prefetch = prefetch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        caller = self._caller_key(scope)
        if caller is None:
            client = scope.get("client")
            identity, rule = f"ip:{client[0] if client else 'unknown'}", self._anonymous
        else:
            identity, rule = caller, self._authenticated
        read = self._prefetch(scope) if self._prefetch and caller else ()
        mirror: KeyMirror | None = state.key_mirror
        known, unknown, epoch = mirror.split(read) if mirror is not None else ({}, list(read), 0)
        try:
            quota, values = await state.rate_limiter.hit_and_read(rule, unknown, "api", identity)
        except RateLimited as exc:
            await problem_response(exc, path=scope["path"], request_id=request_id_of(scope))(
                scope, receive, send
            )
            return
        if values is not None:
            fresh = (
                mirror.learn(unknown, values, epoch)
                if mirror is not None
                else zip(unknown, values, strict=True)
            )
            known.update(fresh)
        already = remember_reads(known) if known else None
        quota_headers = [(name.lower().encode(), value.encode()) for name, value in quota.headers().items()]

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                # A route's own, stricter limit (login) speaks first.
                if not any(name == b"ratelimit-limit" for name, _ in headers):
                    message["headers"] = [*headers, *quota_headers]
            await send(message)

        try:
            await self.app(scope, receive, send_with_quota)
        finally:
            if already is not None:
                forget_reads(already)
