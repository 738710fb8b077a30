"""Loading a project for the caller: 404 for anyone who may not see it, whatever the reason."""

from typing import Annotated, Any

from beanie import PydanticObjectId
from fastapi import Depends, Request

from backend.activity.dependencies import activity_service
from backend.auth.dependencies import CurrentUser
from backend.core.dependencies import CacheDep
from backend.core.ids import parse_id
from backend.projects.documents import Project, ProjectRole
from backend.projects.errors import ProjectNotFound
from backend.projects.service import (
    GLOBAL_ADMIN,
    ProjectAccess,
    ProjectScope,
    ProjectService,
    access_scope,
    member_map_key,
)
from backend.users.dependencies import user_service


def project_service(state: Any) -> ProjectService:
    return ProjectService(user_service(state), state.cursors, activity_service(state))


async def get_project_service(request: Request) -> ProjectService:
    return project_service(request.app.state)


ProjectServiceDep = Annotated[ProjectService, Depends(get_project_service)]


async def visible_project(project_id: str, user: CurrentUser, projects: ProjectServiceDep) -> ProjectAccess:
    """The project for a member (or a global admin); unknown, malformed and foreign ids alike are 404."""
    access = await projects.get_visible(parse_id(project_id, ProjectNotFound), user)
    if access is None:
        raise ProjectNotFound()
    return access


VisibleProject = Annotated[ProjectAccess, Depends(visible_project)]


async def project_scope(project_id: str, user: CurrentUser, cache: CacheDep) -> ProjectScope:
    """Like VisibleProject (404 for anyone who may not see the project), for cached reads."""
    pid = parse_id(project_id, ProjectNotFound)
    generation, membership = await cache.generations(pid)
    key = member_map_key(pid, membership)
    member_map: dict[str, Any] | None = await cache.get_json(key)
    if member_map is None:
        project = await Project.get(pid)
        if project is None:
            raise ProjectNotFound()
        member_map = {
            "key": project.key,
            "archived": project.archived,
            "members": {str(m.user_id): m.role.value for m in project.members},
        }
        await cache.set_json(key, member_map)
    assert user.id is not None
    access = access_scope(member_map, str(user.id), user.role.value)
    if access is None:
        raise ProjectNotFound()
    members: dict[str, str] = member_map["members"]
    return ProjectScope(
        project_id=pid,
        user_id=user.id,
        role=None if access == GLOBAL_ADMIN else ProjectRole(access),
        generation=generation,
        key=member_map["key"],
        archived=member_map["archived"],
        member_ids=frozenset(PydanticObjectId(m) for m in members),
    )


ProjectScopeDep = Annotated[ProjectScope, Depends(project_scope)]
