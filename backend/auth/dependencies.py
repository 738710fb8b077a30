"""Who is calling: the bearer token read, checked and turned into a Principal, once per request."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from backend.auth.errors import AdminRequired, InvalidToken, NotAuthenticated
from backend.auth.revocations import RevokedAccessTokens
from backend.auth.service import AuthService, Principal
from backend.core.dependencies import RedisDep, SettingsDep
from backend.users.dependencies import UserServiceDep
from backend.users.documents import GlobalRole, User

# The errors every authenticated operation can answer, for its `responses=`.
AUTH_ERRORS = (NotAuthenticated, InvalidToken)

bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,  # we answer 401 as a problem, not FastAPI's default body
    description="An access token from /auth/token, or a personal access token (`tlp_...`).",
)


def get_auth_service(
    request: Request, users: UserServiceDep, redis: RedisDep, settings: SettingsDep
) -> AuthService:
    state = request.app.state
    return AuthService(
        users, state.hasher, state.access_tokens, RevokedAccessTokens(redis), state.rate_limiter, settings
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def current_principal(token: Annotated[str | None, Depends(bearer)], auth: AuthServiceDep) -> Principal:
    if not token:
        raise NotAuthenticated()
    return await auth.authenticate(token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def current_user(principal: CurrentPrincipal) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(current_user)]


async def current_admin(user: CurrentUser) -> User:
    if user.role is not GlobalRole.ADMIN:
        raise AdminRequired()
    return user


AdminUser = Annotated[User, Depends(current_admin)]
