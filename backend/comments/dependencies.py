from typing import Annotated

from fastapi import Depends, Request

from backend.activity.dependencies import ActivityServiceDep
from backend.comments.documents import Comment
from backend.comments.errors import CommentNotFound
from backend.comments.service import CommentService
from backend.core.ids import parse_id
from backend.tasks.dependencies import TaskInProject
from backend.users.dependencies import UserServiceDep


def get_comment_service(
    request: Request, users: UserServiceDep, activity: ActivityServiceDep
) -> CommentService:
    return CommentService(users, request.app.state.cursors, activity)


CommentServiceDep = Annotated[CommentService, Depends(get_comment_service)]


async def comment_on_task(comment_id: str, task: TaskInProject, comments: CommentServiceDep) -> Comment:
    return await comments.get(task, parse_id(comment_id, CommentNotFound))


CommentOnTask = Annotated[Comment, Depends(comment_on_task)]
