"""Your account, your personal access tokens, and user administration (global admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from backend.access.dependencies import ADMIN_ERRORS, AUTH_ERRORS, AdminCaller, CurrentCaller, CurrentUser
from backend.auth.dependencies import AuthServiceDep
from backend.auth.errors import SessionNotFound, TokenNotFound, TooManyTokens
from backend.auth.schemas import SessionRead, TokenCreate, TokenCreated, TokenRead
from backend.core.http.errors import error_responses
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.ids import parse_id
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.users.dependencies import UserServiceDep
from backend.users.documents import User
from backend.users.errors import HandleTaken, LastAdmin, UserNotFound, WrongCurrentPassword
from backend.users.schemas import ProfileUpdate, UserAdminUpdate, UserRead

router = APIRouter(prefix=API_PREFIX + "/users", tags=["users"], route_class=ApiRoute)


@router.get("/me", name="me", responses=error_responses(*AUTH_ERRORS))
async def read_me(user: CurrentUser) -> UserRead:
    """The account of the caller."""
    return UserRead.model_validate(user)


@router.patch(
    "/me", name="update-me", responses=error_responses(*AUTH_ERRORS, WrongCurrentPassword, HandleTaken)
)
async def update_me(
    data: ProfileUpdate, caller: CurrentCaller, users: UserServiceDep, auth: AuthServiceDep
) -> UserRead:
    """Change your display name, handle or password.

    A handle another account has (in any case) is a 409 `HANDLE_TAKEN`; mentions already written keep
    naming you. A new password needs `current_password`, and ends all your other sessions at once
    (their access and refresh tokens stop working; this session stays)."""
    updated, password_changed = await users.update_profile(caller.account, data)
    if password_changed:
        await auth.end_sessions(caller.user_id, keep=caller.session_id, reason="password_changed")
    return UserRead.model_validate(updated)


@router.post(
    "/me/tokens",
    name="create-token",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*AUTH_ERRORS, TooManyTokens),
)
async def create_token(
    data: TokenCreate, user: CurrentUser, auth: AuthServiceDep, response: Response
) -> TokenCreated:
    """Create a personal access token for scripts. The secret is in this response only; store it.

    It authenticates wherever an access token does, until it expires or is revoked.
    """
    assert user.id is not None
    created = await auth.create_pat(user.id, data)
    response.headers["Location"] = f"/api/v1/users/me/tokens/{created.id}"
    return created


@router.get("/me/tokens", name="list-tokens", responses=error_responses(*AUTH_ERRORS))
async def list_tokens(user: CurrentUser, auth: AuthServiceDep) -> Page[TokenRead]:
    """Your personal access tokens that are not revoked, oldest first, without their secrets.

    At most 50 can be active at once, so this list is always one page.
    """
    assert user.id is not None
    tokens = await auth.list_pats(user.id)
    return Page[TokenRead](items=[TokenRead.model_validate(t) for t in tokens], next_cursor=None)


@router.delete(
    "/me/tokens/{token_id}",
    name="revoke-token",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*AUTH_ERRORS, TokenNotFound),
)
async def revoke_token(token_id: str, user: CurrentUser, auth: AuthServiceDep) -> None:
    """Revoke one of your personal access tokens; it stops working at once."""
    assert user.id is not None
    await auth.revoke_pat(user.id, parse_id(token_id, TokenNotFound))


@router.get("/me/sessions", name="list-sessions", responses=error_responses(*AUTH_ERRORS))
async def list_sessions(
    caller: CurrentCaller,
    auth: AuthServiceDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[SessionRead]:
    """Your sessions (one per login) that have not ended, newest first; `current` marks the one of
    the token that asks."""
    return await auth.sessions(caller, cursor=cursor, limit=limit)


@router.delete(
    "/me/sessions/{session_id}",
    name="end-session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*AUTH_ERRORS, SessionNotFound),
)
async def end_session(session_id: str, caller: CurrentCaller, auth: AuthServiceDep) -> None:
    """End one of your sessions: every access and refresh token of it stops working at once, on
    every server, and its open event streams close within seconds. Ending one that had ended is a
    204 too."""
    await auth.end_session(caller, parse_id(session_id, SessionNotFound))


@router.delete(
    "/me/sessions",
    name="end-sessions",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*AUTH_ERRORS),
)
async def end_sessions(
    caller: CurrentCaller,
    auth: AuthServiceDep,
    include_current: Annotated[
        bool, Query(description="Also end the session of the token that asks (default: it stays).")
    ] = False,
) -> None:
    """Sign out everywhere else: end all your sessions but this one (or all, with
    `include_current=true`). Personal access tokens are not sessions: revoke them one by one."""
    keep = None if include_current else caller.session_id
    await auth.end_sessions(caller.user_id, keep=keep, reason="revoked")


@router.get("", name="list", responses=error_responses(*ADMIN_ERRORS))
async def list_users(
    _: AdminCaller,
    users: UserServiceDep,
    email_prefix: Annotated[
        str | None, Query(max_length=254, description="Emails starting with this.")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    include_total: bool = False,
) -> Page[UserRead]:
    """All users, by email (global admins only)."""
    return await users.page(
        email_prefix=email_prefix, cursor=cursor, limit=limit, include_total=include_total
    )


async def target_user(user_id: str, users: UserServiceDep) -> User:
    return await users.get(parse_id(user_id, UserNotFound))


TargetUser = Annotated[User, Depends(target_user)]


@router.get("/{user_id}", name="get", responses=error_responses(*ADMIN_ERRORS, UserNotFound))
async def read_user(_: AdminCaller, user: TargetUser) -> UserRead:
    """One user (global admins only)."""
    return UserRead.model_validate(user)


@router.patch(
    "/{user_id}", name="administer", responses=error_responses(*ADMIN_ERRORS, UserNotFound, LastAdmin)
)
async def administer_user(
    _: AdminCaller, user: TargetUser, data: UserAdminUpdate, users: UserServiceDep, auth: AuthServiceDep
) -> UserRead:
    """Change a user's global role or disable them (global admins only). Disabling ends all the
    user's sessions at once: they cannot log in, refresh or use any token. The last active admin can
    be neither demoted nor disabled (409)."""
    changed = await users.administer(user, data)
    if changed.disabled:
        assert changed.id is not None
        await auth.end_sessions(changed.id, reason="account_disabled")
    return UserRead.model_validate(changed)
