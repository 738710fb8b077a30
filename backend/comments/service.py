"""Comments: members write, authors edit, authors and project admins delete."""

from collections.abc import Sequence
from functools import partial

from beanie import PydanticObjectId

from backend.activity.diff import diff
from backend.activity.documents import ActivityRecord, Target
from backend.activity.service import ActivityService
from backend.activity.verbs import ActivityVerb
from backend.comments.documents import Comment
from backend.comments.errors import CommentNotFound, NotCommentAuthor
from backend.comments.repository import CommentRepository
from backend.comments.schemas import AuthorSummary, CommentRead, CommentWrite
from backend.core.caching.generations import Generations
from backend.core.pagination import CursorCodec, Page
from backend.core.time import utcnow
from backend.projects.documents import ProjectRole
from backend.projects.service import ProjectAccess
from backend.tasks.documents import Task
from backend.users.mentions import Mentions, mentions_read, newly_mentioned
from backend.users.service import NOBODY, UserService


class CommentService:
    def __init__(
        self, users: UserService, cursors: CursorCodec, activity: ActivityService, generations: Generations
    ) -> None:
        self._users = users
        self._cursors = cursors
        self._activity = activity
        self._generations = generations
        self._comments = CommentRepository()
        self._mentions = Mentions(users)

    async def create(self, access: ProjectAccess, task: Task, data: CommentWrite) -> Comment:
        access.writable()
        assert task.id is not None
        mentioned = await self._mentions.of(data.body, access.member_ids)
        comment = Comment(
            project_id=task.project_id,
            task_id=task.id,
            author_id=access.user_id,
            body=data.body,
            mentioned_ids=mentioned,
        )
        await self._comments.insert(comment)
        await self._record(
            comment,
            task,
            access.user_id,
            ActivityVerb.COMMENT_CREATED,
            diff({}, {"body": data.body}, ["body"]),
            mentioned,
        )
        return comment

    async def get(self, task: Task, comment_id: PydanticObjectId) -> Comment:
        comment = await self._comments.by_id(comment_id)
        if comment is None or comment.task_id != task.id or comment.project_id != task.project_id:
            raise CommentNotFound()
        return comment

    async def edit(self, access: ProjectAccess, task: Task, comment: Comment, data: CommentWrite) -> Comment:
        access.writable()
        if comment.author_id != access.user_id:
            raise NotCommentAuthor("Only the author may edit a comment.")
        before, mentioned_before = comment.body, list(comment.mentioned_ids)
        mentioned = await self._mentions.of(data.body, access.member_ids)
        await self._comments.set(
            comment, {"body": data.body, "mentioned_ids": mentioned, "edited_at": utcnow()}
        )
        await self._record(
            comment,
            task,
            access.user_id,
            ActivityVerb.COMMENT_UPDATED,
            diff({"body": before}, {"body": data.body}, ["body"]),
            newly_mentioned(mentioned_before, mentioned),
        )
        return comment

    async def delete(self, access: ProjectAccess, task: Task, comment: Comment) -> None:
        access.writable()
        is_admin = access.role is not None and access.role.at_least(ProjectRole.ADMIN)
        if comment.author_id != access.user_id and not is_admin:
            raise NotCommentAuthor("Only the author or a project admin may delete a comment.")
        await self._comments.delete(comment)
        await self._record(
            comment,
            task,
            access.user_id,
            ActivityVerb.COMMENT_DELETED,
            diff({"body": comment.body}, {}, ["body"]),
        )

    async def page(self, task: Task, *, cursor: str | None, limit: int) -> Page[CommentRead]:
        """Oldest first."""
        items, next_cursor = await self._comments.oldest_first(
            task.project_id, task.id, codec=self._cursors, cursor=cursor, limit=limit
        )
        return Page[CommentRead](items=await self.read(items), next_cursor=next_cursor)

    async def read(self, comments: list[Comment]) -> list[CommentRead]:
        people = await self._users.people({u for c in comments for u in (c.author_id, *c.mentioned_ids)})
        return [
            CommentRead(
                id=c.id,
                task_id=c.task_id,
                author=AuthorSummary(
                    id=c.author_id,
                    display_name=people.get(c.author_id, NOBODY).display_name,
                    handle=people.get(c.author_id, NOBODY).handle,
                ),
                body=c.body,
                mentions=mentions_read(c.mentioned_ids, people),
                created_at=c.created_at,
                edited_at=c.edited_at,
            )
            for c in comments
        ]

    async def _record(
        self,
        comment: Comment,
        task: Task,
        actor: PydanticObjectId,
        verb: ActivityVerb,
        changes: dict[str, list[object]],
        mentioned: Sequence[PydanticObjectId] = (),
    ) -> None:
        """`mentioned`: the members the change newly mentions (they are notified)."""
        assert comment.id is not None
        record = ActivityRecord(
            project_id=comment.project_id,
            task_id=comment.task_id,
            actor_id=actor,
            verb=verb,
            target=Target(type="comment", id=comment.id, key=task.key),
            changes=changes,
        )
        # Its task's activity changed.
        await self._activity.record_change(
            [record],
            partial(self._generations.bump, comment.project_id, [comment.task_id]),
            mentioned={comment.task_id: frozenset(mentioned)} if mentioned else None,
        )
