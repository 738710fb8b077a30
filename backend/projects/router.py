"""Projects and their members. Everything here is scoped to projects the caller can see."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from backend.access.dependencies import AUTH_ERRORS, CurrentUser
from backend.auth.errors import AdminRequired
from backend.core.caching.reads import cached_read
from backend.core.caching.responses import CachedResponse, json_entry
from backend.core.http.errors import error_responses
from backend.core.http.headers import header_refs
from backend.core.http.preconditions import IfMatch, IfNoneMatch, PreconditionFailed, none_match
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.ids import parse_id
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.projects.dependencies import PROJECT_KEYS, ProjectScopeDep, ProjectServiceDep, VisibleProject
from backend.projects.documents import Project, ProjectRole
from backend.projects.errors import (
    AlreadyMember,
    ConcurrentUpdate,
    InsufficientRole,
    LastOwner,
    MemberLimitReached,
    MemberNotFound,
    ProjectArchived,
    ProjectKeyTaken,
    ProjectNotFound,
    UnknownUser,
)
from backend.projects.schemas import (
    MemberAdd,
    MemberRead,
    MemberUpdate,
    ProjectCreate,
    ProjectRead,
    ProjectUpdate,
)
from backend.projects.service import ProjectAccess, read_project
from backend.users.documents import GlobalRole

router = APIRouter(prefix=API_PREFIX + "/projects", tags=["projects"], route_class=ApiRoute)
members_router = APIRouter(
    prefix=API_PREFIX + "/projects/{project_id}/members", tags=["members"], route_class=ApiRoute
)

SEEN = (*AUTH_ERRORS, ProjectNotFound)
WRITE = (*SEEN, InsufficientRole, ProjectArchived, ConcurrentUpdate)
ETAG_HEADER = header_refs("ETag")
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: your If-None-Match is current.", "headers": ETAG_HEADER}
}
Cursor = Annotated[str | None, Query(max_length=512, description="From `next_cursor` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def project_response(response: Response, project: Project, role: ProjectRole | None) -> ProjectRead:
    response.headers["ETag"] = project.etag
    return read_project(project, role)


@router.post(
    "",
    name="create",
    status_code=status.HTTP_201_CREATED,
    responses={201: {"headers": ETAG_HEADER}, **error_responses(*AUTH_ERRORS, ProjectKeyTaken)},
)
async def create_project(
    data: ProjectCreate, user: CurrentUser, projects: ProjectServiceDep, response: Response
) -> ProjectRead:
    """Create a project; you become its owner. The key (e.g. `WEB`) prefixes task keys and never changes."""
    assert user.id is not None
    project = await projects.create(data, owner=user.id)
    response.headers["Location"] = f"/api/v1/projects/{project.id}"
    return project_response(response, project, ProjectRole.OWNER)


@router.get("", name="list", responses=error_responses(*AUTH_ERRORS, AdminRequired))
async def list_projects(
    user: CurrentUser,
    projects: ProjectServiceDep,
    archived: Annotated[bool, Query(description="Archived projects instead of active ones.")] = False,
    all: Annotated[bool, Query(description="Every project, not only yours (global admins only).")] = False,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: bool = False,
) -> Page[ProjectRead]:
    """Your projects, newest first."""
    if all and user.role is not GlobalRole.ADMIN:
        raise AdminRequired("Only global admins may list all projects.")
    assert user.id is not None
    return await projects.page(
        user.id, everyone=all, archived=archived, cursor=cursor, limit=limit, include_total=include_total
    )


@router.get(
    "/{project_id}",
    name="get",
    response_model=ProjectRead,
    responses={200: {"headers": ETAG_HEADER}, **NOT_MODIFIED, **error_responses(*SEEN)},
)
async def read_project_route(
    access: VisibleProject, response: Response, if_none_match: IfNoneMatch = None
) -> Any:
    """One project, with an ETag. Members and global admins see it; everyone else gets 404."""
    if none_match(if_none_match, access.project.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": access.project.etag})
    return project_response(response, access.project, access.role)


@router.patch(
    "/{project_id}",
    name="update",
    responses={200: {"headers": ETAG_HEADER}, **error_responses(*WRITE, PreconditionFailed)},
)
async def update_project(
    data: ProjectUpdate,
    access: VisibleProject,
    projects: ProjectServiceDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectRead:
    """Rename or re-describe the project (project admins and owners). With If-Match, only if unchanged."""
    project = await projects.update(access, data, if_match=if_match)
    return project_response(response, project, access.role)


@router.delete(
    "/{project_id}",
    name="archive",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*WRITE, PreconditionFailed),
)
async def archive_project(
    access: VisibleProject, projects: ProjectServiceDep, if_match: IfMatch = None
) -> None:
    """Archive the project (owners only): it stays readable, and refuses changes until restored."""
    await projects.archive(access, if_match=if_match)


@router.post(
    "/{project_id}/restore",
    name="restore",
    responses={200: {"headers": ETAG_HEADER}, **error_responses(*SEEN, InsufficientRole, ConcurrentUpdate)},
)
async def restore_project(
    access: VisibleProject, projects: ProjectServiceDep, response: Response
) -> ProjectRead:
    """Undo an archive (owners only). Restoring an active project changes nothing."""
    project = await projects.restore(access)
    return project_response(response, project, access.role)


@cached_read(
    members_router,
    "",
    keys=PROJECT_KEYS,
    name="list",
    response_model=Page[MemberRead],
    responses=error_responses(*SEEN),
)
async def list_members(
    scope: ProjectScopeDep,
    projects: ProjectServiceDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> CachedResponse:
    """The project's members in the order they joined, with display names."""

    page = await projects.members(await projects.get(scope.project_id), cursor=cursor, limit=limit)
    return json_entry(page)


@members_router.get("/{user_id}", name="get", responses=error_responses(*SEEN, MemberNotFound))
async def read_member(user_id: str, access: VisibleProject, projects: ProjectServiceDep) -> MemberRead:
    """One member of the project."""
    return await projects.member(access.project, parse_id(user_id, MemberNotFound))


@members_router.post(
    "",
    name="add",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*WRITE, UnknownUser, AlreadyMember, MemberLimitReached),
)
async def add_member(
    data: MemberAdd, access: VisibleProject, projects: ProjectServiceDep, response: Response
) -> MemberRead:
    """Add a user by id or email with a role (project admins; only owners add owners)."""
    project, user_id = await projects.add_member(access, data)
    response.headers["Location"] = f"/api/v1/projects/{project.id}/members/{user_id}"
    return await projects.member(project, user_id)


@members_router.patch(
    "/{user_id}", name="update", responses=error_responses(*WRITE, MemberNotFound, LastOwner)
)
async def update_member(
    user_id: str, data: MemberUpdate, access: VisibleProject, projects: ProjectServiceDep
) -> MemberRead:
    """Change a member's role (project admins; only owners grant or revoke owner). The last owner
    cannot be demoted (409 `LAST_OWNER`)."""
    target = parse_id(user_id, MemberNotFound)
    project = await projects.change_role(access, target, data.role)
    return await projects.member(project, target)


@members_router.delete(
    "/{user_id}",
    name="remove",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*WRITE, MemberNotFound, LastOwner),
)
async def remove_member(user_id: str, access: VisibleProject, projects: ProjectServiceDep) -> None:
    """Remove a member (project admins; only owners remove owners), or leave (your own id). The last
    owner cannot leave (409 `LAST_OWNER`)."""
    await projects.remove_member(access, parse_id(user_id, MemberNotFound))


__all__ = ["ProjectAccess", "members_router", "router"]
