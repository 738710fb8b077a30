from typing import Annotated

from fastapi import Depends, Request

from backend.users.service import UserService


def get_user_service(request: Request) -> UserService:
    return UserService(request.app.state.hasher, request.app.state.cursors)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
