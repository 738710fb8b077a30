"""Relations of a task: `blocks`, `relates_to`, `duplicates`, listed from either end.

Not a cached read: the answer depends on the caller's access to every other task's project, which
no key scope of the cache carries (projects/dependencies.py keys by one project).
"""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from backend.access.dependencies import AUTH_ERRORS
from backend.core.http.errors import error_responses
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.ids import parse_id
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.projects.dependencies import VisibleProject
from backend.projects.errors import InsufficientRole, ProjectArchived, ProjectNotFound
from backend.relations.dependencies import RelationServiceDep
from backend.relations.errors import (
    BlocksChainTooLong,
    RelatedTaskNotFound,
    RelationCycle,
    RelationExists,
    RelationNotFound,
    SelfRelation,
)
from backend.relations.schemas import RelationCreate, RelationRead
from backend.tasks.dependencies import TaskInProject
from backend.tasks.errors import TaskNotFound

router = APIRouter(
    prefix=API_PREFIX + "/projects/{project_id}/tasks/{task_id}/relations",
    tags=["relations"],
    route_class=ApiRoute,
)
SEEN = (*AUTH_ERRORS, ProjectNotFound, TaskNotFound)
WRITE = (*SEEN, InsufficientRole, ProjectArchived)


@router.post(
    "",
    name="create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        *WRITE, RelatedTaskNotFound, SelfRelation, RelationExists, RelationCycle, BlocksChainTooLong
    ),
)
async def create_relation(
    data: RelationCreate,
    task: TaskInProject,
    access: VisibleProject,
    relations: RelationServiceDep,
    response: Response,
) -> RelationRead:
    """Relate this task to another (members and above here; any role in the other task's project).

    Stored once and shown from both ends: `blocks` shows as `blocked_by` on the other task,
    `duplicates` as `duplicated_by`, `relates_to` the same. Two tasks have at most one relation of a
    type, whichever way it points (409 `RELATION_EXISTS`); a `blocks` that would close a cycle is
    409 `RELATION_CYCLE`.
    """
    read = await relations.create(access, task, data)
    response.headers["Location"] = f"/api/v1/projects/{task.project_id}/tasks/{task.id}/relations/{read.id}"
    return read


@router.get("", name="list", responses=error_responses(*SEEN))
async def list_relations(
    task: TaskInProject,
    access: VisibleProject,
    relations: RelationServiceDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[RelationRead]:
    """The task's relations from its point of view, oldest first. Relations whose other task is
    deleted, or in a project you cannot see, are left out (a page may then hold fewer than `limit`)."""
    return await relations.page(access, task, cursor=cursor, limit=limit)


@router.get("/{relation_id}", name="get", responses=error_responses(*SEEN, RelationNotFound))
async def read_relation(
    relation_id: str, task: TaskInProject, access: VisibleProject, relations: RelationServiceDep
) -> RelationRead:
    """One relation of the task, from its point of view."""
    return await relations.read(access, task, parse_id(relation_id, RelationNotFound))


@router.delete(
    "/{relation_id}",
    name="delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*WRITE, RelationNotFound),
)
async def delete_relation(
    relation_id: str, task: TaskInProject, access: VisibleProject, relations: RelationServiceDep
) -> None:
    """Remove a relation, from either of its tasks (members and above in the path task's project)."""
    await relations.delete(access, task, parse_id(relation_id, RelationNotFound))
