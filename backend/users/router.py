"""Your account, your personal access tokens, and user administration (global admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from backend.auth.dependencies import AUTH_ERRORS, AdminUser, AuthServiceDep, CurrentPrincipal, CurrentUser
from backend.auth.errors import AdminRequired, TokenNotFound, TooManyTokens
from backend.auth.schemas import TokenCreate, TokenCreated, TokenRead
from backend.core.errors import error_responses
from backend.core.ids import parse_id
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.core.routing import API_PREFIX, ApiRoute
from backend.users.dependencies import UserServiceDep
from backend.users.documents import User
from backend.users.errors import LastAdmin, UserNotFound, WrongCurrentPassword
from backend.users.schemas import ProfileUpdate, UserAdminUpdate, UserRead

router = APIRouter(prefix=API_PREFIX + "/users", tags=["users"], route_class=ApiRoute)
ADMIN_ERRORS = (*AUTH_ERRORS, AdminRequired)


@router.get("/me", name="me", responses=error_responses(*AUTH_ERRORS))
async def read_me(user: CurrentUser) -> UserRead:
    """The account of the caller."""
    return UserRead.model_validate(user)


@router.patch("/me", name="update-me", responses=error_responses(*AUTH_ERRORS, WrongCurrentPassword))
async def update_me(
    data: ProfileUpdate, principal: CurrentPrincipal, users: UserServiceDep, auth: AuthServiceDep
) -> UserRead:
    """Change your display name or password. A new password needs `current_password`, and ends your
    other sessions (their refresh tokens are revoked; this session stays)."""
    if await users.update_profile(principal.user, data):
        await auth.end_other_sessions(principal)
    return UserRead.model_validate(principal.user)


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


@router.get("", name="list", responses=error_responses(*ADMIN_ERRORS))
async def list_users(
    _: AdminUser,
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
async def read_user(_: AdminUser, user: TargetUser) -> UserRead:
    """One user (global admins only)."""
    return UserRead.model_validate(user)


@router.patch(
    "/{user_id}", name="administer", responses=error_responses(*ADMIN_ERRORS, UserNotFound, LastAdmin)
)
async def administer_user(
    _: AdminUser, user: TargetUser, data: UserAdminUpdate, users: UserServiceDep
) -> UserRead:
    """Change a user's global role or disable them (global admins only). A disabled user cannot log
    in, refresh or use any token. The last active admin can be neither demoted nor disabled (409)."""
    return UserRead.model_validate(await users.administer(user, data))
