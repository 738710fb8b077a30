"""The rate limit of every API request, in front of routing and the cache-hit fast path."""

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.config import Settings
from backend.core.http.problems import problem_response, request_id_of
from backend.core.ratelimit.rules import RateLimited, Rule
from backend.core.resources import resources

# Whose bucket an authenticated request counts in (`user:<id>`, `pat:<id>`), from the caller that
# backend/access resolved before; None: the request has no caller and counts per client IP.
CallerKey = Callable[[Scope], str | None]


class RateLimitMiddleware:
    """A limit on every route but health, metrics and docs: per user or token when the request has an
    authenticated caller, per client IP otherwise. Every limited response carries the RateLimit
    headers. It never authenticates: `caller_key` reads what authentication decided."""

    EXEMPT = ("/health/", "/metrics", "/docs", "/openapi.json")

    def __init__(self, app: ASGIApp, settings: Settings, caller_key: CallerKey) -> None:
        self.app = app
        self._authenticated = Rule.parse(settings.rate_limit_authenticated)
        self._anonymous = Rule.parse(settings.rate_limit_anonymous)
        self._caller_key = caller_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        caller = self._caller_key(scope)
        if caller is None:
            client = scope.get("client")
            identity, rule = f"ip:{client[0] if client else 'unknown'}", self._anonymous
        else:
            identity, rule = caller, self._authenticated
        try:
            quota = await resources(scope["app"]).stores.rate_limiter.hit(rule, "api", identity)
        except RateLimited as exc:
            await problem_response(exc, path=scope["path"], request_id=request_id_of(scope))(
                scope, receive, send
            )
            return
        quota_headers = [(name.lower().encode(), value.encode()) for name, value in quota.headers().items()]

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                # A route's own, stricter limit (login) speaks first.
                if not any(name == b"ratelimit-limit" for name, _ in headers):
                    message["headers"] = [*headers, *quota_headers]
            await send(message)

        await self.app(scope, receive, send_with_quota)
