"""Route dependencies that read the caller resolved by `CallerMiddleware` (they never authenticate)."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyQuery, OAuth2PasswordBearer

from backend.access.caller import Caller
from backend.access.facts import AccessFacts
from backend.access.middleware import caller_of, refusal_of
from backend.access.policy import require_global_admin
from backend.auth.errors import AdminRequired, InvalidToken, NotAuthenticated
from backend.resources import resources_of
from backend.users.documents import User

# The errors every authenticated operation can answer, for its `responses=`.
AUTH_ERRORS = (NotAuthenticated, InvalidToken)

bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,  # we answer 401 as a problem, not FastAPI's default body
    description="An access token from /auth/token, or a personal access token (`tlp_...`).",
)


# Declared for the contract only: CallerMiddleware reads the ticket (backend/access/tickets.py).
ticket_scheme = APIKeyQuery(
    name="ticket",
    scheme_name="StreamTicket",
    auto_error=False,
    description="For a browser's EventSource, which cannot send Authorization: a ticket from the "
    "stream's `/tickets` operation, accepted on that stream only, for `expires_at`.",
)


async def current_caller(token: Annotated[str | None, Depends(bearer)], request: Request) -> Caller:
    """The caller, or 401: `INVALID_TOKEN` for a token that was refused, `NOT_AUTHENTICATED` for none."""
    caller = caller_of(request.scope)
    if caller is not None:
        return caller
    raise refusal_of(request.scope) or NotAuthenticated()


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def stream_caller(
    token: Annotated[str | None, Depends(bearer)],
    ticket: Annotated[str | None, Depends(ticket_scheme)],
    request: Request,
) -> Caller:
    """The caller of an event stream: by bearer token, or by a stream ticket for it."""
    return await current_caller(token, request)


StreamCaller = Annotated[Caller, Depends(stream_caller)]


async def current_user(caller: CurrentCaller) -> User:
    return caller.account


CurrentUser = Annotated[User, Depends(current_user)]


async def current_admin(caller: CurrentCaller) -> Caller:
    require_global_admin(caller)
    return caller


AdminCaller = Annotated[Caller, Depends(current_admin)]
ADMIN_ERRORS = (*AUTH_ERRORS, AdminRequired)


async def get_access_facts(request: Request) -> AccessFacts:
    return resources_of(request.app).access_facts


AccessFactsDep = Annotated[AccessFacts, Depends(get_access_facts)]
