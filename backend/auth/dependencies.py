"""The auth service for routes (who the caller is comes from backend/access/dependencies.py)."""

from typing import Annotated, Any

from fastapi import Depends, Request

from backend.auth.service import AuthService
from backend.users.dependencies import user_service


def auth_service(state: Any) -> AuthService:
    return AuthService(
        user_service(state),
        state.hasher,
        state.access_tokens,
        state.access_facts,
        state.rate_limiter,
        state.cursors,
        state.settings,
    )


async def get_auth_service(request: Request) -> AuthService:
    return auth_service(request.app.state)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
