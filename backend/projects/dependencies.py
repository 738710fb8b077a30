"""Loading a project for the caller: 404 for anyone who may not see it, whatever the reason."""

from dataclasses import dataclass
from typing import Annotated, Any

from beanie import PydanticObjectId
from fastapi import Depends, Request

from backend.activity.dependencies import activity_service
from backend.auth.dependencies import CurrentUser
from backend.core.dependencies import CacheDep
from backend.core.ids import parse_id
from backend.projects.documents import Project, ProjectRole
from backend.projects.errors import ProjectNotFound
from backend.projects.service import ProjectAccess, ProjectService, require_role
from backend.users.dependencies import user_service
from backend.users.documents import GlobalRole


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


@dataclass(frozen=True)
class ProjectScope:
    """What a cached read needs to know of the caller and the project, without loading the project:
    the caller's role comes from the project's member map, itself cached per generation."""

    project_id: PydanticObjectId
    user_id: PydanticObjectId
    role: ProjectRole | None  # None: a global admin who is not a member
    generation: int

    @property
    def cache_parts(self) -> list[str]:
        return [str(self.project_id), self.role.value if self.role else "global-admin", str(self.generation)]

    def require(self, minimum: ProjectRole) -> None:
        require_role(self.role, minimum)


async def project_scope(project_id: str, user: CurrentUser, cache: CacheDep) -> ProjectScope:
    """Like VisibleProject (404 for anyone who may not see the project), for cached reads."""
    pid = parse_id(project_id, ProjectNotFound)
    generation = await cache.generation(pid)
    key = f"tasklane:members:{pid}:{generation}"
    members: dict[str, str] | None = await cache.get_json(key)
    if members is None:
        project = await Project.get(pid)
        if project is None:
            raise ProjectNotFound()
        members = {str(m.user_id): m.role.value for m in project.members}
        await cache.set_json(key, members)
    role = members.get(str(user.id))
    if role is None and user.role is not GlobalRole.ADMIN:
        raise ProjectNotFound()
    assert user.id is not None
    return ProjectScope(pid, user.id, ProjectRole(role) if role else None, generation)


ProjectScopeDep = Annotated[ProjectScope, Depends(project_scope)]
