from collections.abc import Mapping
from typing import Annotated

from beanie import PydanticObjectId
from fastapi import Depends, Request
from starlette.types import Scope

from backend.access.dependencies import AccessFactsDep, CurrentCaller
from backend.access.middleware import caller_of
from backend.activity.dependencies import activity_service
from backend.core.caching.reads import KeyResolver
from backend.core.dependencies import GenerationsDep
from backend.core.ids import parse_id
from backend.projects.dependencies import OBJECT_ID, VisibleProject, scope_of
from backend.projects.errors import ProjectNotFound
from backend.projects.service import ProjectScope, TaskScope
from backend.resources import AppResources, resources_of
from backend.tasks.documents import Task
from backend.tasks.errors import TaskNotFound
from backend.tasks.service import TaskService
from backend.users.dependencies import user_service


def task_service(resources: AppResources) -> TaskService:
    return TaskService(
        user_service(resources), resources.cursors, activity_service(resources), resources.stores.generations
    )


async def get_task_service(request: Request) -> TaskService:
    return task_service(resources_of(request.app))


TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]


async def task_in_project(task_id: str, access: VisibleProject, tasks: TaskServiceDep) -> Task:
    """A live task of a project the caller can see; anything else is 404."""
    assert access.project.id is not None
    return await tasks.get(access.project.id, parse_id(task_id, TaskNotFound))


TaskInProject = Annotated[Task, Depends(task_in_project)]


def _on_task(project: ProjectScope, task_id: PydanticObjectId, generation: int) -> TaskScope:
    """The caller's scope in the project, narrowed to one task at the task's generation."""
    return TaskScope(project.grant, generation, project.members, task_id)


async def task_scope(
    project_id: str, task_id: str, caller: CurrentCaller, facts: AccessFactsDep, generations: GenerationsDep
) -> TaskScope:
    """The caller's scope on one task of a project they may see: 404 for the project first (as for
    every route under it), then for a malformed task id."""
    project = await scope_of(caller, parse_id(project_id, ProjectNotFound), facts, 0)
    if project is None:
        raise ProjectNotFound()
    tid = parse_id(task_id, TaskNotFound)
    # Redis failing: generation 0, so at worst a stale answer, never one to someone who may not see it.
    return _on_task(project, tid, await generations.of_task(tid) or 0)


TaskScopeDep = Annotated[TaskScope, Depends(task_scope)]


async def fast_task_scope(scope: Scope, params: Mapping[str, str]) -> TaskScope | None:
    """`task_scope` before routing, for the cache-hit fast path (None: let the route answer)."""
    caller = caller_of(scope)
    project_id, task_id = params.get("project_id", ""), params.get("task_id", "")
    if caller is None or not (OBJECT_ID.fullmatch(project_id) and OBJECT_ID.fullmatch(task_id)):
        return None
    resources = resources_of(scope["app"])
    tid = PydanticObjectId(task_id)
    generation = await resources.stores.generations.of_task(tid)
    if generation is None:
        return None
    project = await scope_of(caller, PydanticObjectId(project_id), resources.access_facts, generation)
    return None if project is None else _on_task(project, tid, generation)


# The key scope of cached reads about one task: its detail and its activity.
TASK_KEYS = KeyResolver(fast=fast_task_scope, dependency=task_scope)
