"""Sign-up, login, token rotation and logout. Register, token and refresh need no authentication."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from backend.access.dependencies import AUTH_ERRORS, CurrentCaller
from backend.auth.dependencies import AuthServiceDep
from backend.auth.errors import AccountDisabled, InvalidCredentials, InvalidRefreshToken, RefreshTokenReused
from backend.auth.schemas import RefreshRequest, TokenPair
from backend.core.http.errors import error_responses
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.ratelimit.rules import RateLimited
from backend.users.dependencies import UserServiceDep
from backend.users.errors import EmailTaken, HandleTaken
from backend.users.schemas import UserRead, UserRegister

router = APIRouter(prefix=API_PREFIX + "/auth", tags=["auth"], route_class=ApiRoute)


@router.post(
    "/register",
    name="register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(EmailTaken, HandleTaken),
)
async def register(
    data: UserRegister, users: UserServiceDep, request: Request, response: Response
) -> UserRead:
    """Create an account. The email is trimmed, NFKC-normalised and case-folded, and must be unused
    (409 `EMAIL_TAKEN`). A chosen `handle` must be free too (409 `HANDLE_TAKEN`); without one, the
    account gets one made from the email, with a number if needed (`ada`, `ada2`, ...).

    The password (10 to 128 characters, not the email) is stored only as an argon2id hash.
    """
    user = await users.register(data)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return UserRead.model_validate(user)


@router.post(
    "/token",
    name="token",
    responses=error_responses(InvalidCredentials, AccountDisabled, RateLimited),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], auth: AuthServiceDep, request: Request
) -> TokenPair:
    """OAuth2 password flow: `username` is the email. Answers an access token and a refresh token.

    A wrong email and a wrong password answer alike (401 `INVALID_CREDENTIALS`). Attempts are limited
    per client IP and per email (429 with `Retry-After`).
    """
    client_ip = request.client.host if request.client else "unknown"
    user_agent = request.headers.get("user-agent", "")
    return await auth.login(form.username, form.password, client_ip=client_ip, user_agent=user_agent)


@router.post(
    "/refresh",
    name="refresh",
    responses=error_responses(InvalidRefreshToken, RefreshTokenReused, AccountDisabled),
)
async def refresh(data: RefreshRequest, auth: AuthServiceDep) -> TokenPair:
    """Spend a refresh token for a new access and refresh token (rotation).

    A refresh token works once: presenting a spent one ends its whole session, access tokens
    included (401 `REFRESH_TOKEN_REUSED`), since a copy is in someone else's hands.
    """
    return await auth.refresh(data.refresh_token)


class LogoutRequest(RefreshRequest):
    pass


@router.post(
    "/logout", name="logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(*AUTH_ERRORS)
)
async def logout(
    caller: CurrentCaller,
    auth: AuthServiceDep,
    data: Annotated[LogoutRequest | None, Body()] = None,
) -> None:
    """End this session: every access and refresh token of it stops working at once, on every
    server. The session of the refresh token in the body ends too, if one is sent and is yours."""
    await auth.logout(caller, data.refresh_token if data else None)
