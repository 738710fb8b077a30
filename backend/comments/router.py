"""Comments on a task: oldest first; members write, authors edit, authors and admins delete."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from backend.access.dependencies import AUTH_ERRORS
from backend.comments.dependencies import CommentOnTask, CommentServiceDep
from backend.comments.errors import CommentNotFound, NotCommentAuthor
from backend.comments.schemas import CommentRead, CommentWrite
from backend.core.http.errors import error_responses
from backend.core.http.routing import API_PREFIX, ApiRoute
from backend.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from backend.projects.dependencies import VisibleProject
from backend.projects.errors import InsufficientRole, ProjectArchived, ProjectNotFound
from backend.tasks.dependencies import TaskInProject
from backend.tasks.errors import TaskNotFound

router = APIRouter(
    prefix=API_PREFIX + "/projects/{project_id}/tasks/{task_id}/comments",
    tags=["comments"],
    route_class=ApiRoute,
)
SEEN = (*AUTH_ERRORS, ProjectNotFound, TaskNotFound)
WRITE = (*SEEN, InsufficientRole, ProjectArchived)


@router.post("", name="create", status_code=status.HTTP_201_CREATED, responses=error_responses(*WRITE))
async def create_comment(
    data: CommentWrite,
    task: TaskInProject,
    access: VisibleProject,
    comments: CommentServiceDep,
    response: Response,
) -> CommentRead:
    """Comment on a task (members and above)."""
    comment = await comments.create(access, task, data)
    response.headers["Location"] = f"/api/v1/projects/{task.project_id}/tasks/{task.id}/comments/{comment.id}"
    (read,) = await comments.read([comment])
    return read


@router.get("", name="list", responses=error_responses(*SEEN))
async def list_comments(
    task: TaskInProject,
    comments: CommentServiceDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[CommentRead]:
    """The task's comments, oldest first."""
    return await comments.page(task, cursor=cursor, limit=limit)


@router.get("/{comment_id}", name="get", responses=error_responses(*SEEN, CommentNotFound))
async def read_comment(comment: CommentOnTask, comments: CommentServiceDep) -> CommentRead:
    """One comment."""
    (read,) = await comments.read([comment])
    return read


@router.patch(
    "/{comment_id}", name="update", responses=error_responses(*WRITE, CommentNotFound, NotCommentAuthor)
)
async def update_comment(
    data: CommentWrite,
    comment: CommentOnTask,
    task: TaskInProject,
    access: VisibleProject,
    comments: CommentServiceDep,
) -> CommentRead:
    """Edit your comment (its author only); sets `edited_at`."""
    (read,) = await comments.read([await comments.edit(access, task, comment, data)])
    return read


@router.delete(
    "/{comment_id}",
    name="delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(*WRITE, CommentNotFound, NotCommentAuthor),
)
async def delete_comment(
    comment: CommentOnTask, task: TaskInProject, access: VisibleProject, comments: CommentServiceDep
) -> None:
    """Delete a comment (its author, or a project admin)."""
    await comments.delete(access, task, comment)
