"""Who is calling: the bearer token read, checked and turned into a Principal, once per request."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from backend.auth.errors import AdminRequired, InvalidToken, NotAuthenticated
from backend.auth.revocations import RevokedAccessTokens
from backend.auth.service import AuthService, Principal
from backend.users.dependencies import user_service
from backend.users.documents import GlobalRole, User

# The errors every authenticated operation can answer, for its `responses=`.
AUTH_ERRORS = (NotAuthenticated, InvalidToken)

bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,  # we answer 401 as a problem, not FastAPI's default body
    description="An access token from /auth/token, or a personal access token (`tlp_...`).",
)


async def get_auth_service(request: Request) -> AuthService:
    state = request.app.state
    return AuthService(
        user_service(state),
        state.hasher,
        state.access_tokens,
        RevokedAccessTokens(state.cache),
        state.rate_limiter,
        state.settings,
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def current_principal(
    token: Annotated[str | None, Depends(bearer)], auth: AuthServiceDep, request: Request
) -> Principal:
    if not token:
        raise NotAuthenticated()
    checked = getattr(request.state, "access_claims", None)  # verified by the rate limiter
    return await auth.authenticate(token, checked[1] if checked and checked[0] == token else None)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def current_user(principal: CurrentPrincipal) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(current_user)]


async def current_admin(user: CurrentUser) -> User:
    if user.role is not GlobalRole.ADMIN:
        raise AdminRequired()
    return user


AdminUser = Annotated[User, Depends(current_admin)]
