"""Each service is built from `app.state` in one step: a flat dependency graph keeps FastAPI's
per-request resolution cheap (see benchmarks/README.md)."""

from typing import Annotated, Any

from fastapi import Depends, Request

from backend.users.service import UserService


def user_service(state: Any) -> UserService:
    return UserService(state.hasher, state.cursors, state.cache, state.access_facts)


async def get_user_service(request: Request) -> UserService:
    return user_service(request.app.state)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
