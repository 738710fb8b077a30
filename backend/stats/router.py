from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from backend.access.dependencies import AUTH_ERRORS
from backend.core.caching.cache import CachedResponse
from backend.core.caching.cached import CachedRead, cached_response, cached_responses, json_entry
from backend.core.dependencies import CacheDep
from backend.core.http.errors import error_responses
from backend.core.http.preconditions import IfNoneMatch
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.time import utcnow
from backend.projects.dependencies import ProjectScopeDep
from backend.projects.errors import ProjectNotFound
from backend.stats.schemas import ProjectStats
from backend.stats.service import StatsService
from backend.users.dependencies import UserServiceDep

router = APIRouter(prefix=API_PREFIX + "/projects/{project_id}", tags=["stats"], route_class=ApiRoute)
# The overdue count and the days move with the clock as well as with writes: the hour is in the key,
# and entries live CACHE_TTL_SECONDS at most.
STATS = CachedRead(router.prefix + "/stats", vary=lambda _, __: [utcnow().strftime("%Y-%m-%dT%H")])
CACHED_READS = (STATS,)


@router.get(
    "/stats",
    name="get",
    response_model=ProjectStats,
    responses={**cached_responses(), **error_responses(*AUTH_ERRORS, ProjectNotFound)},
)
async def project_stats(
    scope: ProjectScopeDep,
    users: UserServiceDep,
    cache: CacheDep,
    request: Request,
    days: Annotated[
        int, Query(ge=1, le=90, description="How many UTC days `daily` covers, today included.")
    ] = 30,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Counts by status, priority and assignee, overdue open tasks, and created vs completed per day."""

    async def compute() -> CachedResponse:
        stats = await StatsService(users).project(scope.project_id, days=days)
        return json_entry(stats.model_dump(mode="json"))

    return await cached_response(
        request,
        cache,
        STATS,
        scope.cache_parts,
        compute,
        user_id=str(scope.user_id),
        if_none_match=if_none_match,
    )
