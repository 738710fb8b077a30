from typing import Annotated

from fastapi import Depends, Request

from backend.activity.dependencies import activity_service
from backend.comments.documents import Comment
from backend.comments.errors import CommentNotFound
from backend.comments.service import CommentService
from backend.core.ids import parse_id
from backend.resources import AppResources, resources_of
from backend.tasks.dependencies import TaskInProject
from backend.users.dependencies import user_service


def comment_service(resources: AppResources) -> CommentService:
    return CommentService(
        user_service(resources), resources.cursors, activity_service(resources), resources.stores.generations
    )


async def get_comment_service(request: Request) -> CommentService:
    return comment_service(resources_of(request.app))


CommentServiceDep = Annotated[CommentService, Depends(get_comment_service)]


async def comment_on_task(comment_id: str, task: TaskInProject, comments: CommentServiceDep) -> Comment:
    return await comments.get(task, parse_id(comment_id, CommentNotFound))


CommentOnTask = Annotated[Comment, Depends(comment_on_task)]
