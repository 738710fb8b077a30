"""The auth service for routes (who the caller is comes from backend/access/dependencies.py)."""

from typing import Annotated

from fastapi import Depends, Request

from backend.auth.service import AuthService
from backend.resources import AppResources, resources_of
from backend.users.dependencies import user_service


def auth_service(resources: AppResources) -> AuthService:
    return AuthService(
        user_service(resources),
        resources.hasher,
        resources.access_tokens,
        resources.access_facts,
        resources.stores.rate_limiter,
        resources.cursors,
        resources.settings,
    )


async def get_auth_service(request: Request) -> AuthService:
    return auth_service(resources_of(request.app))


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
