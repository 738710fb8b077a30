"""Every query of comments."""

from typing import Any

from beanie import PydanticObjectId

from backend.comments.documents import Comment
from backend.core.pagination import CursorCodec
from backend.core.storage.db import by_id
from backend.core.storage.pages import time_ordered_page


class CommentRepository:
    async def insert(self, comment: Comment) -> None:
        await comment.insert()

    async def by_id(self, comment_id: PydanticObjectId) -> Comment | None:
        return await by_id(Comment, comment_id)  # by _id alone: the fastest shape; callers check the rest

    async def set(self, comment: Comment, changes: dict[str, Any]) -> None:
        await comment.set(changes)

    async def delete(self, comment: Comment) -> None:
        await comment.delete()

    async def oldest_first(
        self,
        project_id: PydanticObjectId,
        task_id: PydanticObjectId | None,
        *,
        codec: CursorCodec,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Comment], str | None]:
        return await time_ordered_page(
            Comment,
            {"project_id": project_id, "task_id": task_id},
            codec=codec,
            scope=f"comments:{task_id}",
            cursor=cursor,
            limit=limit,
            newest_first=False,
        )
