"""The rate limiter: counts a request against a rule in its store, falling back to the process's own."""

import structlog
from redis.exceptions import RedisError

from backend.core.caching import keys
from backend.core.logging import OccasionalWarning
from backend.core.metrics import RATE_LIMITED
from backend.core.ratelimit.rules import Quota, RateLimited, Rule
from backend.core.ratelimit.stores import WindowStore

log = structlog.get_logger(__name__)


class RateLimiter:
    def __init__(self, store: WindowStore, fallback: WindowStore | None = None) -> None:
        self._store = store
        self._fallback = fallback if fallback is not None else store
        self._unavailable = OccasionalWarning("rate_limiter_unavailable")

    async def hit(self, rule: str | Rule, *key: str) -> Quota:
        """Count one request against `rule` for `key`; raise RateLimited when the window is full."""
        rule = Rule.parse(rule) if isinstance(rule, str) else rule
        bucket = keys.rate_limit_bucket(rule.period, key)
        try:
            window = await self._store.take(bucket, rule)
        except (RedisError, OSError) as exc:  # the store failing must not fail the request
            self._unavailable(log, exc, detail="limits per process")
            window = await self._fallback.take(bucket, rule)
        quota = Quota.of(rule, window)
        if not window.allowed:
            RATE_LIMITED.labels(key[0] if key else "other").inc()
            headers = {**quota.headers(), "Retry-After": str(quota.reset_after)}
            raise RateLimited(
                f"Rate limit of {rule.text} exceeded; retry in {quota.reset_after} s.", headers=headers
            )
        return quota
