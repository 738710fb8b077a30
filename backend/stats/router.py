from typing import Annotated

from fastapi import APIRouter, Query

from backend.auth.dependencies import AUTH_ERRORS
from backend.core.errors import error_responses
from backend.core.routing import ApiRoute
from backend.projects.dependencies import VisibleProject
from backend.projects.errors import ProjectNotFound
from backend.stats.schemas import ProjectStats
from backend.stats.service import StatsService
from backend.users.dependencies import UserServiceDep

router = APIRouter(prefix="/projects/{project_id}", tags=["stats"], route_class=ApiRoute)


@router.get("/stats", name="get", responses=error_responses(*AUTH_ERRORS, ProjectNotFound))
async def project_stats(
    access: VisibleProject,
    users: UserServiceDep,
    days: Annotated[
        int, Query(ge=1, le=90, description="How many UTC days `daily` covers, today included.")
    ] = 30,
) -> ProjectStats:
    """Counts by status, priority and assignee, overdue open tasks, and created vs completed per day."""
    assert access.project.id is not None
    return await StatsService(users).project(access.project.id, days=days)
