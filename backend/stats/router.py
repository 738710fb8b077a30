from typing import Annotated

from fastapi import APIRouter, Query

from backend.access.dependencies import AUTH_ERRORS
from backend.core.caching.reads import cached_read
from backend.core.caching.responses import CachedResponse, json_entry
from backend.core.http.errors import error_responses
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.time import utcnow
from backend.projects.dependencies import PROJECT_KEYS, ProjectScopeDep
from backend.projects.errors import ProjectNotFound
from backend.stats.schemas import ProjectStats
from backend.stats.service import StatsService
from backend.users.dependencies import UserServiceDep

router = APIRouter(prefix=API_PREFIX + "/projects/{project_id}", tags=["stats"], route_class=ApiRoute)


# The overdue count and the days move with the clock as well as with writes: the hour is in the key,
# and entries live CACHE_TTL_SECONDS at most.
@cached_read(
    router,
    "/stats",
    keys=PROJECT_KEYS,
    vary=lambda _, __: [utcnow().strftime("%Y-%m-%dT%H")],
    name="get",
    response_model=ProjectStats,
    responses=error_responses(*AUTH_ERRORS, ProjectNotFound),
)
async def project_stats(
    scope: ProjectScopeDep,
    users: UserServiceDep,
    days: Annotated[
        int, Query(ge=1, le=90, description="How many UTC days `daily` covers, today included.")
    ] = 30,
) -> CachedResponse:
    """Counts by status, priority and assignee, overdue open tasks, and created vs completed per day."""

    stats = await StatsService(users).project(scope.project_id, days=days)
    return json_entry(stats)
