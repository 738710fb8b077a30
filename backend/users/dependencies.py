"""Each service is built from the app's resources in one step: a flat dependency graph keeps FastAPI's
per-request resolution cheap (see benchmarks/README.md)."""

from typing import Annotated

from fastapi import Depends, Request

from backend.resources import AppResources, resources_of
from backend.users.service import UserService


def user_service(resources: AppResources) -> UserService:
    return UserService(resources.hasher, resources.cursors, resources.stores.values, resources.access_facts)


async def get_user_service(request: Request) -> UserService:
    return user_service(resources_of(request.app))


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
