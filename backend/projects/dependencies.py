"""Loading a project for the caller: 404 for anyone who may not see it, whatever the reason.

Both dependencies ask the one policy (backend/access/policy.py): `VisibleProject` on the project as
stored now (for changes), `ProjectScopeDep` on its member map (for reads, cached or not).
"""

import re
from collections.abc import Mapping
from typing import Annotated

from beanie import PydanticObjectId
from fastapi import Depends, Request
from starlette.types import Scope

from backend.access.caller import Caller
from backend.access.dependencies import AccessFactsDep, CurrentCaller, StreamCaller
from backend.access.facts import AccessFacts
from backend.access.middleware import caller_of
from backend.access.policy import project_access
from backend.activity.dependencies import activity_service
from backend.core.caching.reads import KeyResolver
from backend.core.dependencies import GenerationsDep
from backend.core.ids import parse_id
from backend.projects.errors import ProjectNotFound
from backend.projects.repository import ProjectRepository
from backend.projects.service import MemberProjects, ProjectAccess, ProjectScope, ProjectService
from backend.resources import AppResources, resources_of
from backend.users.dependencies import user_service


def project_service(resources: AppResources) -> ProjectService:
    return ProjectService(
        user_service(resources),
        resources.cursors,
        activity_service(resources),
        resources.access_facts,
        resources.stores.generations,
    )


async def get_project_service(request: Request) -> ProjectService:
    return project_service(resources_of(request.app))


ProjectServiceDep = Annotated[ProjectService, Depends(get_project_service)]


async def visible_project(project_id: str, caller: CurrentCaller) -> ProjectAccess:
    """The project for a member (or a global admin); unknown, malformed and foreign ids alike are 404."""
    project = await ProjectRepository().by_id(parse_id(project_id, ProjectNotFound))
    access = None if project is None else ProjectAccess.decide(caller, project)
    if access is None:
        raise ProjectNotFound()
    return access


VisibleProject = Annotated[ProjectAccess, Depends(visible_project)]


async def streamed_project(project_id: str, caller: StreamCaller) -> ProjectAccess:
    """VisibleProject for an event stream, whose caller may come with a stream ticket."""
    return await visible_project(project_id, caller)


StreamedProject = Annotated[ProjectAccess, Depends(streamed_project)]


async def scope_of(
    caller: Caller, project_id: PydanticObjectId, facts: AccessFacts, generation: int
) -> ProjectScope | None:
    """The caller's scope in the project (at this data generation), or None when they may not see
    it. Cached reads decide through here, on the route and on the cache-hit fast path."""
    members = await facts.member_map(project_id)
    grant = None if members is None else project_access(caller, members)
    if members is None or grant is None:
        return None
    return ProjectScope(grant, generation, members)


async def project_scope(
    project_id: str, caller: CurrentCaller, facts: AccessFactsDep, generations: GenerationsDep
) -> ProjectScope:
    """Like VisibleProject (404 for anyone who may not see the project), for reads."""
    pid = parse_id(project_id, ProjectNotFound)
    # Redis failing: generation 0, so at worst a stale answer, never one to someone who may not see it.
    scope = await scope_of(caller, pid, facts, await generations.current(pid) or 0)
    if scope is None:
        raise ProjectNotFound()
    return scope


ProjectScopeDep = Annotated[ProjectScope, Depends(project_scope)]
OBJECT_ID = re.compile(r"[0-9a-f]{24}")  # as the routes print ids: other spellings go the long way


async def fast_project_scope(scope: Scope, params: Mapping[str, str]) -> ProjectScope | None:
    """`project_scope` before routing, for the cache-hit fast path: None whenever the route must
    answer (no caller, a malformed id, the generation unreadable, not allowed)."""
    caller = caller_of(scope)
    project_id = params.get("project_id", "")
    if caller is None or not OBJECT_ID.fullmatch(project_id):
        return None
    resources = resources_of(scope["app"])
    pid = PydanticObjectId(project_id)
    generation = await resources.stores.generations.current(pid)
    if generation is None:
        return None  # unknown: only the route may answer, from MongoDB
    return await scope_of(caller, pid, resources.access_facts, generation)


# The key scope of every cached read of a project's data (core/caching/reads.py).
PROJECT_KEYS = KeyResolver(fast=fast_project_scope, dependency=project_scope)


async def member_projects(
    caller: CurrentCaller, facts: AccessFactsDep, generations: GenerationsDep
) -> MemberProjects:
    """Every project the caller is a member of, for lists across projects."""
    maps = await facts.memberships(caller.user_id)
    # Redis failing: generations 0, so at worst a stale answer, and only of the caller's projects now.
    known = await generations.current_many([m.project_id for m in maps])
    return MemberProjects.of(caller, maps, known if known is not None else [0] * len(maps))


async def fast_member_projects(scope: Scope, _: Mapping[str, str]) -> MemberProjects | None:
    """`member_projects` before routing, for the cache-hit fast path (None: let the route answer)."""
    caller = caller_of(scope)
    if caller is None:
        return None
    resources = resources_of(scope["app"])
    maps = await resources.access_facts.memberships(caller.user_id)
    known = await resources.stores.generations.current_many([m.project_id for m in maps])
    return None if known is None else MemberProjects.of(caller, maps, known)


MemberProjectsDep = Annotated[MemberProjects, Depends(member_projects)]
# The key scope of cached reads across the caller's projects (core/caching/reads.py).
MEMBER_PROJECTS_KEYS = KeyResolver(fast=fast_member_projects, dependency=member_projects)
