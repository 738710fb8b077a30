"""Rate limits with the `limits` library: on Redis when configured, in process otherwise.

A limiter failure (Redis down) lets the request through: losing a limit for a while is better than
refusing every request.
"""

import math
import time
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.config import Settings
from backend.core.errors import ProblemError
from backend.core.problems import problem_response, request_id_of
from backend.core.redis import RedisClient
from backend.core.security import AccessTokens, InvalidAccessToken, digest

log = structlog.get_logger(__name__)


class RateLimited(ProblemError):
    status = 429
    error_code = "RATE_LIMITED"
    title = "Too many requests"
    default_detail = "Too many requests; retry after the time in Retry-After."


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


class RateLimiter:
    def __init__(self, storage: Storage) -> None:
        # Two counters per key (O(1) memory), unlike a moving window that keeps every hit it counts.
        self._strategy = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, rule: str | RateLimitItem, *key: str) -> Quota:
        """Count one request against `rule` for `key`; raise RateLimited when the window is full."""
        item = parse(rule) if isinstance(rule, str) else rule
        try:
            allowed = await self._strategy.hit(item, *key)
            stats = await self._strategy.get_window_stats(item, *key)
        except Exception as exc:  # the storage failing must not fail the request
            log.warning("rate_limiter_unavailable", error=type(exc).__name__)
            return Quota(item.amount, item.amount, item.get_expiry())
        reset_after = max(1, math.ceil(stats.reset_time - time.time()))
        quota = Quota(item.amount, max(0, stats.remaining), reset_after)
        if not allowed:
            headers = {**quota.headers(), "Retry-After": str(reset_after)}
            raise RateLimited(f"Rate limit of {item} exceeded; retry in {reset_after} s.", headers=headers)
        return quota


def make_rate_limiter(settings: Settings, redis: RedisClient) -> RateLimiter:
    if settings.redis_url is None:
        return RateLimiter(MemoryStorage())
    storage = RedisStorage(
        f"async+{settings.redis_url}",
        implementation="redispy",
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # passed through to redis-py
        key_prefix="tasklane:rl",
    )
    return RateLimiter(storage)


class RateLimitMiddleware:
    """A limit on every route but health, metrics and docs: per user or token when the bearer token
    is valid, per client IP otherwise. Every limited response carries the RateLimit headers."""

    EXEMPT = ("/health/", "/metrics", "/docs", "/openapi.json")

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self._authenticated = parse(settings.rate_limit_authenticated)
        self._anonymous = parse(settings.rate_limit_anonymous)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        identity = _identity(scope, state.access_tokens)
        rule = self._anonymous if identity.startswith("ip:") else self._authenticated
        try:
            quota = await state.rate_limiter.hit(rule, "api", identity)
        except RateLimited as exc:
            await problem_response(exc, path=scope["path"], request_id=request_id_of(scope))(
                scope, receive, send
            )
            return

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in quota.headers().items():
                    headers.setdefault(name, value)  # a route's own, stricter limit (login) speaks first
            await send(message)

        await self.app(scope, receive, send_with_quota)


def _identity(scope: Scope, access_tokens: AccessTokens) -> str:
    authorization = Headers(scope=scope).get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        if token.startswith("tlp_"):
            # Unverified here (that costs a database read); a made-up token only buys its own bucket.
            return "pat:" + digest(token)[:32]
        try:
            claims = access_tokens.read(token)
        except InvalidAccessToken:
            pass
        else:
            # Authentication reads the same header later: it reuses this verified result.
            scope.setdefault("state", {})["access_claims"] = (token, claims)
            return "user:" + claims.subject
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"
