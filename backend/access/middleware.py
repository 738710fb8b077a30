"""Resolving the caller once per request, before anything else reads it (rate limits, the cache-hit
fast path, routes)."""

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from backend.access.authentication import Authenticator
from backend.access.caller import Caller
from backend.auth.errors import InvalidToken
from backend.core.http.middleware import add_log_field, header

_CALLER = "caller"
_REFUSED = "caller_refused"
# Public paths that never read a caller: no token is looked at there.
EXEMPT_PATHS = ("/health/", "/metrics", "/docs", "/openapi.json")


def bearer_token(scope: Scope) -> str | None:
    scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def stream_ticket(scope: Scope) -> str | None:
    """A stream ticket in the query string of a GET (backend/access/tickets.py), if any."""
    query: bytes = scope["query_string"]
    if scope["method"] != "GET" or b"ticket=" not in query:
        return None
    tickets = [value for name, value in parse_qsl(query.decode("latin-1")) if name == "ticket"]
    return tickets[0] if len(tickets) == 1 and tickets[0] else None


def caller_of(scope: Scope) -> Caller | None:
    """The request's authenticated caller, if its bearer token let them in."""
    caller: Caller | None = scope.get("state", {}).get(_CALLER)
    return caller


def refusal_of(scope: Scope) -> InvalidToken | None:
    """Why the request's bearer token was refused, if one was sent and refused."""
    refused: InvalidToken | None = scope.get("state", {}).get(_REFUSED)
    return refused


class CallerMiddleware:
    """Authenticates the bearer token, if any, into the request's `Caller` (or its refusal).

    An unauthenticated request goes on: public routes serve it, others answer 401 from the refusal.
    A MongoDB failure here propagates, and becomes a 503 like any other (core/middleware.py).
    """

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(EXEMPT_PATHS):
            token = bearer_token(scope)
            ticket = stream_ticket(scope) if token is None else None
            if token is not None or ticket is not None:
                state = scope.setdefault("state", {})
                try:
                    if token is not None:
                        caller = await self.authenticator.caller(token)
                    else:
                        caller = await self.authenticator.ticket_caller(ticket or "", scope["path"])
                    state[_CALLER] = caller
                except InvalidToken as refused:
                    state[_REFUSED] = refused
                else:
                    add_log_field(scope, "user_id", str(caller.user_id))
        await self.app(scope, receive, send)
