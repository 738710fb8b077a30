from typing import Annotated

from fastapi import Depends, Request

from backend.activity.dependencies import activity_service
from backend.core.ids import parse_id
from backend.projects.dependencies import VisibleProject
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
