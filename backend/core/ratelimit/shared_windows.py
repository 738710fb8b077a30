"""Rate-limit windows shared through Redis, with most requests counted in process.

Asking Redis on every request cost a cache hit more than everything else it does. So a process that
learnt a bucket's shared count less than a second ago decides alone while the bucket is far from its
limit (more than a tenth of it left), counting the request here; every 0.1 s the requests counted
here are added to Redis in one pipeline, whose answers bring every other process's counts. A request
asks Redis itself (adding what is pending here first, so the answer is exact) when the bucket is new
here, its count is over a second old, a new window began, it is within a tenth of its limit, or the
limit is small (under 100 a period: logins), where every request weighs.

Across processes the count can overshoot only by what others allowed in the last 0.1 s beyond the
tenth held back: a bucket spending a tenth of its limit within 0.1 s. Requests counted here and not
yet added when Redis fails are lost to the shared count (the limits then hold per process).
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from redis.exceptions import RedisError

from backend.core.logging import OccasionalWarning
from backend.core.ratelimit.rules import Rule, Window, weighted
from backend.core.ratelimit.stores import RedisWindows, SharedWindow

log = structlog.get_logger(__name__)


@dataclass
class _Tally:
    """What this process knows of a bucket: Redis's counts at the last exchange, and its own since."""

    rule: Rule
    number: int  # the window of the last exchange
    current: int
    previous: int
    learnt_at: float  # on this process's clock
    offset: float  # Redis's clock minus this process's
    pending: int = 0  # allowed here, not yet sent
    sending: int = 0  # sent, not yet acknowledged


class SharedWindows:
    FLUSH_SECONDS = 0.1
    FRESH_SECONDS = 1.0
    LOCAL_MIN_LIMIT = 100
    SWEEP_EVERY = 4096  # exchanges between sweeps, for when `run` is not running

    def __init__(self, redis: RedisWindows, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        self._tallies: dict[str, _Tally] = {}
        self._exchanges = 0
        self._flush_failed = OccasionalWarning("rate_limit_flush_failed")

    def __len__(self) -> int:
        return len(self._tallies)

    async def take(self, key: str, rule: Rule) -> Window:
        window = self._take_here(key, rule)
        if window is not None:
            return window
        tally = self._tallies.get(key)
        sent = _send(tally)
        try:
            shared = await self._redis.exchange(key, rule, add=sent)
        finally:
            if tally is not None:
                tally.sending -= sent  # acknowledged below, or lost with the failure
        self._learn(key, rule, shared)
        self._exchanges += 1
        if self._exchanges % self.SWEEP_EVERY == 0:
            self._sweep()
        return shared.window

    def _take_here(self, key: str, rule: Rule) -> Window | None:
        tally = self._tallies.get(key)
        if tally is None or rule.limit < self.LOCAL_MIN_LIMIT:
            return None
        local = self._clock()
        if local - tally.learnt_at > self.FRESH_SECONDS:
            return None
        now = local + tally.offset
        number = int(now // rule.period)
        if number != tally.number:
            return None
        elapsed = now - number * rule.period
        count = weighted(tally.previous, tally.current + tally.sending + tally.pending, elapsed, rule.period)
        if count + 1 > rule.limit - rule.limit // 10:
            return None
        tally.pending += 1
        return Window(True, count + 1, tally.previous, elapsed)

    def _learn(self, key: str, rule: Rule, shared: SharedWindow) -> None:
        local = self._clock()
        number = int(shared.now // rule.period)
        tally = self._tallies.get(key)
        if tally is None:
            self._tallies[key] = _Tally(
                rule, number, shared.current, shared.window.previous, local, shared.now - local
            )
            return
        tally.number, tally.current, tally.previous = number, shared.current, shared.window.previous
        tally.learnt_at, tally.offset = local, shared.now - local

    async def flush(self) -> None:
        """Add the requests counted here to Redis, and learn the shared counts back."""
        self._sweep()
        due = [(key, tally, _send(tally)) for key, tally in self._tallies.items() if tally.pending]
        if not due:
            return
        try:
            answers = await self._redis.add_many([(key, tally.rule, sent) for key, tally, sent in due])
        finally:
            for _, tally, sent in due:
                tally.sending -= sent
        for (key, tally, _), shared in zip(due, answers, strict=True):
            self._learn(key, tally.rule, shared)

    async def run(self) -> None:
        """Flush every FLUSH_SECONDS for as long as the app runs."""
        while True:
            await asyncio.sleep(self.FLUSH_SECONDS)
            try:
                await self.flush()
            except (RedisError, OSError) as exc:
                self._flush_failed(log, exc)

    def _sweep(self) -> None:
        """Forget buckets whose counts are stale and owe Redis nothing: the next request asks anyway."""
        oldest = self._clock() - self.FRESH_SECONDS
        idle = [
            key
            for key, tally in self._tallies.items()
            if tally.learnt_at < oldest and not tally.pending and not tally.sending
        ]
        for key in idle:
            del self._tallies[key]


def _send(tally: _Tally | None) -> int:
    """Move what is pending in `tally` to sending; how many."""
    if tally is None:
        return 0
    sent, tally.pending = tally.pending, 0
    tally.sending += sent
    return sent
