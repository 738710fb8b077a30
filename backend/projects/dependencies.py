"""Loading a project for the caller: 404 for anyone who may not see it, whatever the reason."""

from typing import Annotated

from fastapi import Depends, Request

from backend.activity.dependencies import ActivityServiceDep
from backend.auth.dependencies import CurrentUser
from backend.core.ids import parse_id
from backend.projects.errors import ProjectNotFound
from backend.projects.service import ProjectAccess, ProjectService
from backend.users.dependencies import UserServiceDep


def get_project_service(
    request: Request, users: UserServiceDep, activity: ActivityServiceDep
) -> ProjectService:
    return ProjectService(users, request.app.state.cursors, activity)


ProjectServiceDep = Annotated[ProjectService, Depends(get_project_service)]


async def visible_project(project_id: str, user: CurrentUser, projects: ProjectServiceDep) -> ProjectAccess:
    """The project for a member (or a global admin); unknown, malformed and foreign ids alike are 404."""
    access = await projects.get_visible(parse_id(project_id, ProjectNotFound), user)
    if access is None:
        raise ProjectNotFound()
    return access


VisibleProject = Annotated[ProjectAccess, Depends(visible_project)]
