from typing import Annotated

from fastapi import Depends, Request

from backend.users.service import UserService


def get_user_service(request: Request) -> UserService:
    state = request.app.state
    return UserService(state.hasher, state.cursors, state.cache)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
