"""CommentService, called directly as the routes call it: what a caller observes of each method."""

from dataclasses import dataclass

import pytest
import pytest_asyncio
from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.activity.dependencies import activity_service
from backend.activity.schemas import ActivityRead
from backend.activity.verbs import ActivityVerb
from backend.comments.dependencies import comment_service
from backend.comments.documents import Comment
from backend.comments.errors import CommentNotFound, NotCommentAuthor
from backend.comments.schemas import CommentWrite
from backend.comments.service import CommentService
from backend.core.pagination import InvalidCursor
from backend.projects.dependencies import project_service
from backend.projects.documents import Project, ProjectRole
from backend.projects.errors import InsufficientRole, ProjectArchived
from backend.projects.service import ProjectAccess
from backend.resources import resources_of
from backend.tasks.documents import Task
from backend.testing import Actor, Team, UserFactory
from backend.testing.factories import Factory


@dataclass
class World:
    """The team's project with one task, the app's comment service, and the reads tests assert on."""

    app: FastAPI
    team: Team
    factory: Factory
    comments: CommentService
    task: Task

    @property
    def project_id(self) -> PydanticObjectId:
        return self.task.project_id

    async def access(self, actor: Actor) -> ProjectAccess:
        caller = await resources_of(self.app).authenticator.caller(actor.access_token)
        project = await Project.get(self.project_id)
        assert project is not None
        access = ProjectAccess.decide(caller, project)
        assert access is not None, "the actor cannot see the project"
        return access

    async def generation(self) -> int:
        current = await resources_of(self.app).stores.generations.current(self.project_id)
        assert current is not None
        return current

    async def task_generation(self, task: Task | None = None) -> int:
        """The task's own generation (its detail and activity are cached under it)."""
        current = await resources_of(self.app).stores.generations.of_task((task or self.task).id)
        assert current is not None
        return current

    async def activity(self, task: Task | None = None) -> list[ActivityRead]:
        """The task's activity, newest first."""
        page = await activity_service(resources_of(self.app)).page(
            self.project_id,
            task_id=(task or self.task).id,
            verbs=[],
            actor_id=None,
            cursor=None,
            limit=100,
        )
        return page.items

    async def new(
        self, actor: Actor | None = None, body: str = "A comment", task: Task | None = None
    ) -> Comment:
        author = actor or self.team.member
        return await self.comments.create(
            await self.access(author), task or self.task, CommentWrite(body=body)
        )

    async def stored(self, comment: Comment, task: Task | None = None) -> Comment:
        assert comment.id is not None
        return await self.comments.get(task or self.task, comment.id)

    async def another_task(self) -> Task:
        made = await self.factory.task(self.team.project, self.team.member)
        return await stored_task(made["id"])

    async def change_role(self, actor: Actor, role: ProjectRole) -> None:
        await project_service(resources_of(self.app)).change_role(
            await self.access(self.team.owner), PydanticObjectId(actor.id), role
        )

    async def archive(self) -> None:
        await project_service(resources_of(self.app)).archive(
            await self.access(self.team.owner), if_match=None
        )


async def stored_task(task_id: str) -> Task:
    task = await Task.get(PydanticObjectId(task_id))
    assert task is not None
    return task


@pytest_asyncio.fixture
async def world(app: FastAPI, team: Team, factory: Factory) -> World:
    made = await factory.task(team.project, team.member, title="Discussed")
    return World(app, team, factory, comment_service(resources_of(app)), await stored_task(made["id"]))


class TestCreate:
    async def test_stores_the_comment_by_the_caller(self, world: World) -> None:
        comment = await world.new(world.team.admin, body="Looks **good**")

        stored = await world.stored(comment)
        assert stored.body == "Looks **good**"
        assert stored.author_id == PydanticObjectId(world.team.admin.id)
        assert (stored.task_id, stored.project_id) == (world.task.id, world.project_id)
        assert stored.edited_at is None

    async def test_records_activity_and_bumps_the_generation(self, world: World) -> None:
        other = await world.another_task()
        before = await world.generation()
        before_task, before_other = await world.task_generation(), await world.task_generation(other)

        comment = await world.new(body="Hello")

        assert await world.generation() > before
        assert await world.task_generation() != before_task
        assert await world.task_generation(other) == before_other
        latest = (await world.activity())[0]
        assert latest.verb is ActivityVerb.COMMENT_CREATED
        assert latest.actor.id == PydanticObjectId(world.team.member.id)
        assert (latest.task_id, latest.target.type, latest.target.id) == (
            world.task.id,
            "comment",
            comment.id,
        )
        assert latest.target.key == world.task.key
        assert latest.changes.body == (None, "Hello")

    async def test_viewer_may_not_comment(self, world: World) -> None:
        before = await world.generation()

        with pytest.raises(InsufficientRole):
            await world.new(world.team.viewer)

        assert await world.generation() == before
        assert (await world.comments.page(world.task, cursor=None, limit=10)).items == []

    async def test_global_admin_outside_the_project_may_not_comment(
        self, world: World, users: UserFactory
    ) -> None:
        site_admin = await users.create(role="admin")

        with pytest.raises(InsufficientRole):
            await world.new(site_admin)

    async def test_archived_project_refuses_comments(self, world: World) -> None:
        await world.archive()

        with pytest.raises(ProjectArchived):
            await world.new(world.team.owner)
        assert (await world.comments.page(world.task, cursor=None, limit=10)).items == []


class TestGet:
    async def test_returns_the_comment_of_the_task(self, world: World) -> None:
        comment = await world.new(body="Find me")
        assert comment.id is not None

        found = await world.comments.get(world.task, comment.id)
        assert (found.id, found.body) == (comment.id, "Find me")

    async def test_a_comment_of_another_task_is_not_found(self, world: World) -> None:
        other = await world.another_task()
        elsewhere = await world.new(task=other)
        assert elsewhere.id is not None

        with pytest.raises(CommentNotFound):
            await world.comments.get(world.task, elsewhere.id)
        assert (await world.comments.get(other, elsewhere.id)).id == elsewhere.id

    async def test_an_unknown_id_is_not_found(self, world: World) -> None:
        with pytest.raises(CommentNotFound):
            await world.comments.get(world.task, PydanticObjectId())


class TestEdit:
    async def test_author_edits_the_body(self, world: World) -> None:
        comment = await world.new(body="Frist")

        edited = await world.comments.edit(
            await world.access(world.team.member), world.task, comment, CommentWrite(body="First")
        )

        assert edited.body == "First"
        stored = await world.stored(comment)
        assert stored.body == "First"
        assert stored.edited_at is not None
        assert stored.edited_at >= stored.created_at

    async def test_records_activity_and_bumps_the_generation(self, world: World) -> None:
        comment = await world.new(body="Before")
        before, before_task = await world.generation(), await world.task_generation()

        await world.comments.edit(
            await world.access(world.team.member), world.task, comment, CommentWrite(body="After")
        )

        assert await world.generation() > before
        assert await world.task_generation() != before_task
        latest = (await world.activity())[0]
        assert latest.verb is ActivityVerb.COMMENT_UPDATED
        assert (latest.target.id, latest.target.key) == (comment.id, world.task.key)
        assert latest.changes.body == ("Before", "After")

    @pytest.mark.parametrize("editor", ["owner", "admin", "viewer"])
    async def test_only_the_author_edits(self, world: World, editor: str) -> None:
        comment = await world.new(body="Mine")
        before = await world.generation()

        with pytest.raises((NotCommentAuthor, InsufficientRole)) as raised:
            await world.comments.edit(
                await world.access(getattr(world.team, editor)),
                world.task,
                comment,
                CommentWrite(body="Theirs"),
            )

        expected = InsufficientRole if editor == "viewer" else NotCommentAuthor
        assert type(raised.value) is expected
        assert (await world.stored(comment)).body == "Mine"
        assert (await world.stored(comment)).edited_at is None
        assert await world.generation() == before

    async def test_an_author_demoted_to_viewer_may_not_edit(self, world: World) -> None:
        comment = await world.new(body="Mine")
        await world.change_role(world.team.member, ProjectRole.VIEWER)

        with pytest.raises(InsufficientRole):
            await world.comments.edit(
                await world.access(world.team.member), world.task, comment, CommentWrite(body="Still mine")
            )
        assert (await world.stored(comment)).body == "Mine"

    async def test_archived_project_refuses_edits(self, world: World) -> None:
        comment = await world.new(body="Mine")
        await world.archive()

        with pytest.raises(ProjectArchived):
            await world.comments.edit(
                await world.access(world.team.member), world.task, comment, CommentWrite(body="Changed")
            )
        assert (await world.stored(comment)).body == "Mine"


class TestDelete:
    @pytest.mark.parametrize("deleter", ["member", "admin", "owner"])
    async def test_the_author_or_a_project_admin_deletes(self, world: World, deleter: str) -> None:
        comment = await world.new(world.team.member)
        assert comment.id is not None
        before, before_task = await world.generation(), await world.task_generation()

        await world.comments.delete(await world.access(getattr(world.team, deleter)), world.task, comment)

        with pytest.raises(CommentNotFound):
            await world.comments.get(world.task, comment.id)
        assert await world.generation() > before
        assert await world.task_generation() != before_task
        latest = (await world.activity())[0]
        assert latest.verb is ActivityVerb.COMMENT_DELETED
        assert latest.actor.id == PydanticObjectId(getattr(world.team, deleter).id)
        assert (latest.target.id, latest.changes.body) == (comment.id, ("A comment", None))

    async def test_another_member_may_not_delete(self, world: World, users: UserFactory) -> None:
        other = await users.create()
        await world.factory.member(world.team.project, other, "member", by=world.team.owner)
        comment = await world.new(world.team.member)
        before = await world.generation()

        with pytest.raises(NotCommentAuthor):
            await world.comments.delete(await world.access(other), world.task, comment)

        assert (await world.stored(comment)).body == "A comment"
        assert await world.generation() == before

    async def test_viewer_may_not_delete(self, world: World) -> None:
        comment = await world.new(world.team.member)

        with pytest.raises(InsufficientRole):
            await world.comments.delete(await world.access(world.team.viewer), world.task, comment)
        assert (await world.stored(comment)).body == "A comment"

    async def test_archived_project_refuses_deletes(self, world: World) -> None:
        comment = await world.new(world.team.member)
        await world.archive()

        with pytest.raises(ProjectArchived):
            await world.comments.delete(await world.access(world.team.owner), world.task, comment)
        assert (await world.stored(comment)).body == "A comment"


class TestPage:
    async def test_oldest_first_across_pages(self, world: World) -> None:
        for n in range(5):
            await world.new(body=f"c{n}")

        bodies: list[str] = []
        cursor: str | None = None
        for _ in range(5):
            page = await world.comments.page(world.task, cursor=cursor, limit=2)
            assert len(page.items) <= 2
            bodies += [c.body for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert bodies == ["c0", "c1", "c2", "c3", "c4"]
        assert cursor is None

    async def test_only_the_tasks_comments_with_author_names(self, world: World) -> None:
        other = await world.another_task()
        await world.new(world.team.admin, body="here")
        await world.new(world.team.member, body="there", task=other)

        page = await world.comments.page(world.task, cursor=None, limit=10)

        assert [(c.body, c.author.display_name) for c in page.items] == [("here", "Ada")]
        assert page.items[0].task_id == world.task.id
        assert page.next_cursor is None

    async def test_a_cursor_is_only_for_its_own_task(self, world: World) -> None:
        other = await world.another_task()
        for _ in range(2):
            await world.new()
        first = await world.comments.page(world.task, cursor=None, limit=1)
        assert first.next_cursor is not None

        with pytest.raises(InvalidCursor):
            await world.comments.page(other, cursor=first.next_cursor, limit=1)

    async def test_a_deleted_comment_is_no_longer_listed(self, world: World) -> None:
        kept = await world.new(body="kept")
        gone = await world.new(body="gone")
        await world.comments.delete(await world.access(world.team.member), world.task, gone)

        page = await world.comments.page(world.task, cursor=None, limit=10)
        assert [c.id for c in page.items] == [kept.id]


class TestRead:
    async def test_reads_authors_names_and_edit_times(self, world: World) -> None:
        by_admin = await world.new(world.team.admin, body="one")
        by_member = await world.new(world.team.member, body="two")
        edited = await world.comments.edit(
            await world.access(world.team.member), world.task, by_member, CommentWrite(body="two!")
        )

        first, second = await world.comments.read([by_admin, edited])

        assert (first.id, first.author.id, first.author.display_name) == (
            by_admin.id,
            PydanticObjectId(world.team.admin.id),
            "Ada",
        )
        assert (first.body, first.edited_at) == ("one", None)
        assert (second.author.display_name, second.body) == ("Max", "two!")
        assert second.edited_at is not None

    async def test_nothing_to_read(self, world: World) -> None:
        assert await world.comments.read([]) == []
