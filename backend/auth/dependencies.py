"""The auth service for routes (who the caller is comes from backend/access/dependencies.py)."""

from typing import Annotated

from fastapi import Depends, Request

from backend.auth.service import AuthService
from backend.users.dependencies import user_service


async def get_auth_service(request: Request) -> AuthService:
    state = request.app.state
    return AuthService(
        user_service(state),
        state.hasher,
        state.access_tokens,
        state.access_facts,
        state.rate_limiter,
        state.cursors,
        state.settings,
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
