"""TaskService, called directly as the routes call it: what a caller observes of each method."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.activity.dependencies import activity_service
from backend.activity.schemas import ActivityRead
from backend.activity.verbs import ActivityVerb
from backend.core.http.preconditions import PreconditionFailed
from backend.core.pagination import InvalidCursor
from backend.projects.dependencies import project_service, scope_of
from backend.projects.documents import Project
from backend.projects.errors import InsufficientRole, ProjectArchived
from backend.projects.service import ProjectAccess, ProjectScope
from backend.resources import resources_of
from backend.tasks.dependencies import task_service
from backend.tasks.documents import Priority, Task, TaskStatus
from backend.tasks.errors import AssigneeNotMember, InvalidParent, TaskNotFound
from backend.tasks.listing import SortOrder, TaskFilters
from backend.tasks.schemas import MAX_LABELS, BulkUpdate, TaskCreate, TaskUpdate
from backend.tasks.service import TaskService
from backend.testing import Actor, Team


@dataclass
class World:
    """The team's project and the app's services, with the reads a test asserts on."""

    app: FastAPI
    team: Team
    tasks: TaskService

    @property
    def project_id(self) -> PydanticObjectId:
        return PydanticObjectId(self.team.project["id"])

    async def scope(self, actor: Actor, project_id: PydanticObjectId | None = None) -> ProjectScope:
        resources = resources_of(self.app)
        pid = project_id or self.project_id
        caller = await resources.authenticator.caller(actor.access_token)
        generation = await resources.stores.generations.current(pid) or 0
        scope = await scope_of(caller, pid, resources.access_facts, generation)
        assert scope is not None, "the actor cannot see the project"
        return scope

    async def access(self, actor: Actor, project_id: PydanticObjectId | None = None) -> ProjectAccess:
        caller = await resources_of(self.app).authenticator.caller(actor.access_token)
        project = await Project.get(project_id or self.project_id)
        assert project is not None
        access = ProjectAccess.decide(caller, project)
        assert access is not None, "the actor cannot see the project"
        return access

    async def generation(self, project_id: PydanticObjectId | None = None) -> int:
        current = await resources_of(self.app).stores.generations.current(project_id or self.project_id)
        assert current is not None
        return current

    async def task_generation(self, task: Task) -> int:
        """The task's own generation: the last part of the keys of answers about it alone."""
        current = await resources_of(self.app).stores.generations.of_task(task.id)
        assert current is not None
        return current

    async def activity(self, task_id: PydanticObjectId | None) -> list[ActivityRead]:
        """The task's activity, newest first."""
        page = await activity_service(resources_of(self.app)).page(
            self.project_id, task_id=task_id, verbs=[], actor_id=None, cursor=None, limit=100
        )
        return page.items

    async def new(self, actor: Actor | None = None, **fields: object) -> Task:
        data = TaskCreate.model_validate({"title": "A task", **fields})
        return await self.tasks.create(await self.scope(actor or self.team.member), data)

    async def stored(self, task: Task) -> Task:
        assert task.id is not None
        return await self.tasks.get(self.project_id, task.id)

    async def archive(self) -> None:
        await project_service(resources_of(self.app)).archive(
            await self.access(self.team.owner), if_match=None
        )

    async def other_project(self, owner: Actor, key: str = "OTHER") -> PydanticObjectId:
        created = await owner.client.post("/api/v1/projects", json={"name": "Other", "key": key})
        assert created.status_code == 201, created.text
        return PydanticObjectId(created.json()["id"])


@pytest_asyncio.fixture
async def world(app: FastAPI, team: Team) -> World:
    return World(app, team, task_service(resources_of(app)))


def bulk(targets: list[Task | PydanticObjectId], **changes: object) -> BulkUpdate:
    """A bulk update as a client sends it: of these tasks (or bare ids), with these changes."""
    ids = [str(t.id if isinstance(t, Task) else t) for t in targets]
    return BulkUpdate.model_validate({"ids": ids, "set": changes})


class TestCreate:
    async def test_numbers_tasks_in_sequence_with_the_project_key(self, world: World) -> None:
        first = await world.new(title="First")
        second = await world.new(title="Second", position=0.5)

        assert (first.number, first.key, first.position) == (1, "WEB-1", 1.0)
        assert (second.number, second.key, second.position) == (2, "WEB-2", 0.5)
        stored = await world.stored(second)
        assert (stored.title, stored.key, stored.created_by) == (
            "Second",
            "WEB-2",
            PydanticObjectId(world.team.member.id),
        )
        assert (stored.version, stored.completed_at, stored.deleted_at) == (1, None, None)

    async def test_stores_the_fields_given(self, world: World) -> None:
        due = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
        task = await world.new(
            title="Ship it",
            description="the landing page",
            status="done",
            priority=2,
            labels=["UX", "bug", "ux"],
            assignee_ids=[world.team.admin.id, world.team.viewer.id],
            due_at=due.isoformat(),
        )

        stored = await world.stored(task)
        assert stored.status is TaskStatus.DONE
        assert stored.completed_at is not None
        assert stored.priority is Priority.HIGH
        assert stored.labels == ["ux", "bug"]
        assert stored.assignee_ids == [
            PydanticObjectId(world.team.admin.id),
            PydanticObjectId(world.team.viewer.id),
        ]
        assert stored.due_at == due
        assert {"ship", "landing", "ux", "bug"} <= set(stored.search_terms)

    async def test_records_activity_and_bumps_the_generation(self, world: World) -> None:
        before = await world.generation()
        task = await world.new(title="Tracked", priority=1)

        assert await world.generation() > before
        assert await world.task_generation(task) > 0
        (record,) = await world.activity(task.id)
        assert record.verb is ActivityVerb.TASK_CREATED
        assert record.actor.id == PydanticObjectId(world.team.member.id)
        assert (record.target.type, record.target.id, record.target.key) == ("task", task.id, "WEB-1")
        assert record.changes.title == (None, "Tracked")
        assert record.changes.priority == (None, Priority.URGENT)
        assert record.changes.description is None  # empty: not shown as a change

    async def test_viewer_may_not_create(self, world: World) -> None:
        before = await world.generation()
        with pytest.raises(InsufficientRole):
            await world.new(world.team.viewer)

        assert await world.generation() == before
        assert (await world.new()).number == 1  # no number was used up

    async def test_assignees_must_be_members(self, world: World) -> None:
        with pytest.raises(AssigneeNotMember) as raised:
            await world.new(assignee_ids=[world.team.member.id, world.team.outsider.id])

        assert world.team.outsider.id in str(raised.value.detail)
        assert world.team.member.id not in str(raised.value.detail)
        assert (await world.new()).number == 1

    async def test_parent_must_be_a_live_task_of_the_project(self, world: World) -> None:
        parent = await world.new(title="Parent")
        child = await world.new(title="Child", parent_id=str(parent.id))
        assert (await world.stored(child)).parent_id == parent.id

        elsewhere = await world.other_project(world.team.member)
        foreign = await world.tasks.create(
            await world.scope(world.team.member, elsewhere), TaskCreate(title="x")
        )
        with pytest.raises(InvalidParent):
            await world.new(parent_id=str(foreign.id))
        with pytest.raises(InvalidParent):
            await world.new(parent_id=str(PydanticObjectId()))
        await world.tasks.delete(
            await world.access(world.team.member), await world.stored(parent), if_match=None
        )
        with pytest.raises(InvalidParent):
            await world.new(parent_id=str(parent.id))

    async def test_archived_project_refuses_new_tasks(self, world: World) -> None:
        stale_scope = await world.scope(world.team.member)  # read before the project was archived
        await world.archive()

        with pytest.raises(ProjectArchived):
            await world.tasks.create(await world.scope(world.team.member), TaskCreate(title="x"))
        with pytest.raises(ProjectArchived):
            await world.tasks.create(stale_scope, TaskCreate(title="x"))


class TestGet:
    async def test_returns_the_live_task(self, world: World) -> None:
        task = await world.new(title="Find me")
        assert task.id is not None

        found = await world.tasks.get(world.project_id, task.id)
        assert (found.id, found.title) == (task.id, "Find me")

    async def test_unknown_or_foreign_ids_are_not_found(self, world: World) -> None:
        task = await world.new()
        assert task.id is not None
        elsewhere = await world.other_project(world.team.member)

        with pytest.raises(TaskNotFound):
            await world.tasks.get(world.project_id, PydanticObjectId())
        with pytest.raises(TaskNotFound):
            await world.tasks.get(elsewhere, task.id)

    async def test_deleted_tasks_only_when_asked_for(self, world: World) -> None:
        task = await world.new()
        assert task.id is not None
        with pytest.raises(TaskNotFound):
            await world.tasks.get(world.project_id, task.id, deleted=True)
        await world.tasks.delete(await world.access(world.team.member), task, if_match=None)

        with pytest.raises(TaskNotFound):
            await world.tasks.get(world.project_id, task.id)
        found = await world.tasks.get(world.project_id, task.id, deleted=True)
        assert found.deleted_at is not None


class TestGetByNumber:
    async def test_finds_the_task_of_this_project(self, world: World) -> None:
        await world.new(title="One")
        await world.new(title="Two")
        elsewhere = await world.other_project(world.team.member)
        await world.tasks.create(
            await world.scope(world.team.member, elsewhere), TaskCreate(title="Other two")
        )

        found = await world.tasks.get_by_number(world.project_id, 2)
        assert (found.title, found.key) == ("Two", "WEB-2")
        assert (await world.tasks.get_by_number(elsewhere, 1)).title == "Other two"
        with pytest.raises(TaskNotFound):
            await world.tasks.get_by_number(elsewhere, 2)

    async def test_deleted_tasks_are_not_found(self, world: World) -> None:
        task = await world.new()
        await world.tasks.delete(await world.access(world.team.member), task, if_match=None)

        with pytest.raises(TaskNotFound):
            await world.tasks.get_by_number(world.project_id, task.number)


class TestRead:
    async def test_names_the_assignees_in_order(self, world: World) -> None:
        team = world.team
        one = await world.new(assignee_ids=[team.viewer.id, team.admin.id])
        two = await world.new()

        first, second = await world.tasks.read([await world.stored(one), await world.stored(two)])
        assert [(a.id, a.display_name) for a in first.assignees] == [
            (PydanticObjectId(team.viewer.id), "Vic"),
            (PydanticObjectId(team.admin.id), "Ada"),
        ]
        assert (first.id, first.key, second.key, second.assignees) == (one.id, "WEB-1", "WEB-2", [])
        assert not {"search_terms", "version", "revision_id"} & first.model_dump().keys()

    async def test_nothing_to_read(self, world: World) -> None:
        assert await world.tasks.read([]) == []


class TestUpdate:
    async def test_changes_only_the_fields_sent(self, world: World) -> None:
        task = await world.new(title="Old", description="keep", labels=["a"])
        access = await world.access(world.team.member)

        updated = await world.tasks.update(
            access, task, TaskUpdate(title="New", status=TaskStatus.DONE), if_match=None
        )

        assert (updated.title, updated.status, updated.version) == ("New", TaskStatus.DONE, 2)
        stored = await world.stored(task)
        assert (stored.title, stored.description, stored.labels) == ("New", "keep", ["a"])
        assert (stored.version, stored.etag) == (2, '"v2"')
        assert stored.completed_at is not None
        assert "new" in stored.search_terms
        assert "old" not in stored.search_terms

    async def test_reopening_clears_the_completion_time(self, world: World) -> None:
        task = await world.new(status="done")
        access = await world.access(world.team.member)

        await world.tasks.update(access, task, TaskUpdate(status=TaskStatus.TODO), if_match=None)

        assert (await world.stored(task)).completed_at is None

    async def test_records_the_diff_and_bumps_the_generation(self, world: World) -> None:
        task = await world.new(title="Old", priority=3)
        bystander = await world.new(title="Elsewhere")
        before = await world.generation()
        before_task, before_bystander = (
            await world.task_generation(task),
            await world.task_generation(bystander),
        )

        await world.tasks.update(
            await world.access(world.team.admin),
            task,
            TaskUpdate(title="New", priority=Priority.LOW, description=""),
            if_match=None,
        )

        assert await world.generation() > before
        assert await world.task_generation(task) != before_task
        assert await world.task_generation(bystander) == before_bystander
        latest, created = await world.activity(task.id)
        assert (latest.verb, created.verb) == (ActivityVerb.TASK_UPDATED, ActivityVerb.TASK_CREATED)
        assert latest.actor.id == PydanticObjectId(world.team.admin.id)
        assert latest.changes.title == ("Old", "New")
        assert latest.changes.priority == (Priority.MEDIUM, Priority.LOW)
        assert latest.changes.description is None  # sent, but unchanged

    async def test_nothing_changed_is_no_write(self, world: World) -> None:
        task = await world.new(title="Same")
        before, before_task = await world.generation(), await world.task_generation(task)

        result = await world.tasks.update(
            await world.access(world.team.member), task, TaskUpdate(title="Same"), if_match=None
        )

        assert result.version == 1
        assert (await world.stored(task)).version == 1
        assert await world.generation() == before
        assert await world.task_generation(task) == before_task
        assert len(await world.activity(task.id)) == 1

    async def test_if_match_must_name_the_current_version(self, world: World) -> None:
        task = await world.new(title="v1")
        access = await world.access(world.team.member)
        await world.tasks.update(access, task, TaskUpdate(title="v2"), if_match='"v1"')
        current = await world.stored(task)
        before = await world.generation()

        with pytest.raises(PreconditionFailed) as raised:
            await world.tasks.update(access, current, TaskUpdate(title="v3"), if_match='"v1"')

        assert raised.value.headers == {"ETag": '"v2"'}
        assert (await world.stored(task)).title == "v2"
        assert await world.generation() == before

    async def test_stale_copy_with_if_match_fails_with_the_current_etag(self, world: World) -> None:
        task = await world.new(title="v1")
        access = await world.access(world.team.member)
        await world.tasks.update(access, await world.stored(task), TaskUpdate(title="v2"), if_match=None)

        with pytest.raises(PreconditionFailed) as raised:  # `task` is the copy read before
            await world.tasks.update(access, task, TaskUpdate(title="v3"), if_match='"v1"')

        assert raised.value.headers == {"ETag": '"v2"'}
        assert (await world.stored(task)).title == "v2"

    async def test_stale_copy_without_if_match_applies_to_the_current_version(self, world: World) -> None:
        task = await world.new(title="v1", priority=1)
        access = await world.access(world.team.member)
        await world.tasks.update(access, await world.stored(task), TaskUpdate(title="v2"), if_match=None)

        updated = await world.tasks.update(access, task, TaskUpdate(priority=Priority.LOW), if_match=None)

        stored = await world.stored(task)
        assert (stored.title, stored.priority, stored.version) == ("v2", Priority.LOW, 3)
        assert (updated.title, updated.version) == ("v2", 3)

    async def test_viewer_may_not_update(self, world: World) -> None:
        task = await world.new(title="Mine")

        with pytest.raises(InsufficientRole):
            await world.tasks.update(
                await world.access(world.team.viewer), task, TaskUpdate(title="Theirs"), if_match=None
            )
        assert (await world.stored(task)).title == "Mine"

    async def test_archived_project_refuses_updates(self, world: World) -> None:
        task = await world.new(title="Frozen")
        await world.archive()

        with pytest.raises(ProjectArchived):
            await world.tasks.update(
                await world.access(world.team.owner), task, TaskUpdate(title="Thawed"), if_match=None
            )
        assert (await world.stored(task)).title == "Frozen"

    async def test_assignees_must_be_members(self, world: World) -> None:
        task = await world.new(assignee_ids=[world.team.member.id])

        with pytest.raises(AssigneeNotMember):
            await world.tasks.update(
                await world.access(world.team.member),
                task,
                TaskUpdate(assignee_ids=[world.team.outsider.id]),
                if_match=None,
            )
        assert (await world.stored(task)).assignee_ids == [PydanticObjectId(world.team.member.id)]

    async def test_parent_may_not_make_a_cycle(self, world: World) -> None:
        root = await world.new(title="Root")
        child = await world.new(title="Child", parent_id=str(root.id))
        access = await world.access(world.team.member)

        with pytest.raises(InvalidParent):
            await world.tasks.update(access, root, TaskUpdate(parent_id=str(child.id)), if_match=None)
        with pytest.raises(InvalidParent):
            await world.tasks.update(access, root, TaskUpdate(parent_id=str(root.id)), if_match=None)
        assert (await world.stored(root)).parent_id is None

    async def test_null_clears_parent_and_due_date(self, world: World) -> None:
        parent = await world.new()
        task = await world.new(parent_id=str(parent.id), due_at="2030-01-01T00:00:00+02:00")
        assert (await world.stored(task)).due_at == datetime(2029, 12, 31, 22, tzinfo=UTC)

        await world.tasks.update(
            await world.access(world.team.member),
            task,
            TaskUpdate.model_validate({"parent_id": None, "due_at": None}),
            if_match=None,
        )

        stored = await world.stored(task)
        assert (stored.parent_id, stored.due_at) == (None, None)


class TestDelete:
    async def test_soft_deletes_records_and_bumps(self, world: World) -> None:
        task = await world.new()
        assert task.id is not None
        before, before_task = await world.generation(), await world.task_generation(task)

        await world.tasks.delete(await world.access(world.team.member), task, if_match='"v1"')

        with pytest.raises(TaskNotFound):
            await world.tasks.get(world.project_id, task.id)
        deleted = await world.tasks.get(world.project_id, task.id, deleted=True)
        assert deleted.deleted_at is not None
        assert deleted.version == 2
        assert await world.generation() > before
        assert await world.task_generation(task) != before_task
        latest = (await world.activity(task.id))[0]
        assert latest.verb is ActivityVerb.TASK_DELETED
        assert latest.changes.deleted_at is not None
        assert latest.changes.deleted_at[0] is None

    async def test_viewer_may_not_delete(self, world: World) -> None:
        task = await world.new()

        with pytest.raises(InsufficientRole):
            await world.tasks.delete(await world.access(world.team.viewer), task, if_match=None)
        assert (await world.stored(task)).deleted_at is None

    async def test_if_match_must_name_the_current_version(self, world: World) -> None:
        task = await world.new()

        with pytest.raises(PreconditionFailed):
            await world.tasks.delete(await world.access(world.team.member), task, if_match='"v7"')
        assert (await world.stored(task)).deleted_at is None

    async def test_a_task_deleted_meanwhile_is_not_found(self, world: World) -> None:
        task = await world.new()
        access = await world.access(world.team.member)
        await world.tasks.delete(access, await world.stored(task), if_match=None)
        before = await world.generation()

        with pytest.raises(TaskNotFound):
            await world.tasks.delete(access, task, if_match=None)  # a copy read before the delete
        assert await world.generation() == before
        assert [r.verb for r in await world.activity(task.id)].count(ActivityVerb.TASK_DELETED) == 1


class TestRestore:
    async def test_brings_a_deleted_task_back(self, world: World) -> None:
        task = await world.new(title="Back")
        assert task.id is not None
        access = await world.access(world.team.member)
        await world.tasks.delete(access, task, if_match=None)
        before, before_task = await world.generation(), await world.task_generation(task)

        restored = await world.tasks.restore(access, task.id)

        assert (restored.title, restored.deleted_at, restored.version) == ("Back", None, 3)
        assert (await world.stored(task)).deleted_at is None
        assert await world.generation() > before
        assert await world.task_generation(task) != before_task
        latest = (await world.activity(task.id))[0]
        assert latest.verb is ActivityVerb.TASK_RESTORED
        assert latest.changes.deleted_at is not None
        assert latest.changes.deleted_at[1] is None

    async def test_a_live_task_is_not_found(self, world: World) -> None:
        task = await world.new()
        assert task.id is not None

        with pytest.raises(TaskNotFound):
            await world.tasks.restore(await world.access(world.team.member), task.id)

    async def test_a_task_of_another_project_is_not_found(self, world: World) -> None:
        elsewhere = await world.other_project(world.team.member)
        foreign = await world.tasks.create(
            await world.scope(world.team.member, elsewhere), TaskCreate(title="x")
        )
        assert foreign.id is not None
        await world.tasks.delete(await world.access(world.team.member, elsewhere), foreign, if_match=None)

        with pytest.raises(TaskNotFound):
            await world.tasks.restore(await world.access(world.team.member), foreign.id)

    async def test_viewer_may_not_restore(self, world: World) -> None:
        task = await world.new()
        assert task.id is not None
        await world.tasks.delete(await world.access(world.team.member), task, if_match=None)

        with pytest.raises(InsufficientRole):
            await world.tasks.restore(await world.access(world.team.viewer), task.id)
        assert (await world.tasks.get(world.project_id, task.id, deleted=True)).deleted_at is not None


class TestBulkUpdate:
    async def test_reports_each_id_in_request_order(self, world: World) -> None:
        one, two, gone = await world.new(), await world.new(), await world.new()
        access = await world.access(world.team.member)
        await world.tasks.delete(access, gone, if_match=None)
        elsewhere = await world.other_project(world.team.member)
        foreign = await world.tasks.create(
            await world.scope(world.team.member, elsewhere), TaskCreate(title="x")
        )
        unknown = PydanticObjectId()
        requested: list[Task | PydanticObjectId] = [two, unknown, gone, one, foreign]

        result = await world.tasks.bulk_update(access, bulk(requested, status="done"))

        assert [(r.id, r.result) for r in result.results] == [
            (two.id, "updated"),
            (unknown, "not_found"),
            (gone.id, "not_found"),
            (one.id, "updated"),
            (foreign.id, "not_found"),
        ]
        for task in (one, two):
            stored = await world.stored(task)
            assert (stored.status, stored.version) == (TaskStatus.DONE, 2)
            assert stored.completed_at is not None
        assert foreign.id is not None
        assert (await world.tasks.get(elsewhere, foreign.id)).status is TaskStatus.BACKLOG

    async def test_records_one_update_per_changed_task_and_bumps(self, world: World) -> None:
        one = await world.new(priority=2)
        unchanged = await world.new(priority=4)
        before = await world.generation()
        before_one, before_unchanged = (
            await world.task_generation(one),
            await world.task_generation(unchanged),
        )

        result = await world.tasks.bulk_update(
            await world.access(world.team.admin),
            bulk([one, unchanged], priority=4),
        )

        assert [r.result for r in result.results] == ["updated", "updated"]
        assert await world.generation() > before
        assert await world.task_generation(one) != before_one
        assert await world.task_generation(unchanged) == before_unchanged
        latest = (await world.activity(one.id))[0]
        assert latest.verb is ActivityVerb.TASK_UPDATED
        assert latest.actor.id == PydanticObjectId(world.team.admin.id)
        assert latest.changes.priority == (Priority.HIGH, Priority.LOW)
        assert [r.verb for r in await world.activity(unchanged.id)] == [ActivityVerb.TASK_CREATED]
        assert (await world.stored(unchanged)).version == 1

    async def test_nothing_applied_leaves_the_generation(self, world: World) -> None:
        same = await world.new(priority=1)
        before = await world.generation()

        result = await world.tasks.bulk_update(
            await world.access(world.team.member),
            bulk([same, PydanticObjectId()], priority=1),
        )

        assert [r.result for r in result.results] == ["updated", "not_found"]
        assert await world.generation() == before

    async def test_adds_and_removes_labels(self, world: World) -> None:
        one = await world.new(labels=["bug", "ux"])
        two = await world.new(labels=["api"])

        await world.tasks.bulk_update(
            await world.access(world.team.member),
            bulk([one, two], add_labels=["p0", "API"], remove_labels=["bug"]),
        )

        stored_one, stored_two = await world.stored(one), await world.stored(two)
        assert stored_one.labels == ["ux", "p0", "api"]
        assert stored_two.labels == ["api", "p0"]
        assert "p0" in stored_one.search_terms
        assert "bug" not in stored_one.search_terms

    async def test_too_many_labels_is_invalid_for_that_task_only(self, world: World) -> None:
        full = await world.new(labels=[f"l{i}" for i in range(MAX_LABELS)])
        roomy = await world.new(labels=["a"])

        result = await world.tasks.bulk_update(
            await world.access(world.team.member),
            bulk([full, roomy], add_labels=["extra"]),
        )

        assert [r.result for r in result.results] == ["invalid", "updated"]
        assert result.results[0].detail is not None
        assert len((await world.stored(full)).labels) == MAX_LABELS
        assert (await world.stored(roomy)).labels == ["a", "extra"]

    async def test_a_non_member_assignee_makes_every_task_invalid(self, world: World) -> None:
        one = await world.new()
        before = await world.generation()

        result = await world.tasks.bulk_update(
            await world.access(world.team.member),
            bulk([one, PydanticObjectId()], assignee_ids=[world.team.outsider.id]),
        )

        assert [r.result for r in result.results] == ["invalid", "not_found"]
        assert world.team.outsider.id in (result.results[0].detail or "")
        assert (await world.stored(one)).assignee_ids == []
        assert await world.generation() == before

    async def test_assigns_members(self, world: World) -> None:
        one = await world.new(assignee_ids=[world.team.admin.id])

        await world.tasks.bulk_update(
            await world.access(world.team.member),
            bulk([one], assignee_ids=[world.team.viewer.id]),
        )

        assert (await world.stored(one)).assignee_ids == [PydanticObjectId(world.team.viewer.id)]

    async def test_viewer_may_not_bulk_update(self, world: World) -> None:
        one = await world.new()

        with pytest.raises(InsufficientRole):
            await world.tasks.bulk_update(
                await world.access(world.team.viewer),
                bulk([one], priority=4),
            )
        assert (await world.stored(one)).priority is Priority.NONE

    async def test_archived_project_refuses_bulk_updates(self, world: World) -> None:
        one = await world.new()
        await world.archive()

        with pytest.raises(ProjectArchived):
            await world.tasks.bulk_update(
                await world.access(world.team.owner),
                bulk([one], priority=4),
            )
        assert (await world.stored(one)).priority is Priority.NONE


async def whole_list(
    world: World, caller: Actor, filters: TaskFilters, order: str, *, limit: int
) -> list[str]:
    """Every page of a list, followed by its cursors: the task keys in order."""
    keys: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        page = await world.tasks.page(
            world.project_id,
            PydanticObjectId(caller.id),
            filters,
            SortOrder.parse(order),
            cursor=cursor,
            limit=limit,
            include_total=False,
        )
        assert len(page.items) <= limit
        keys += [t.key for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return keys
    raise AssertionError("the cursors never ended")


class TestPage:
    async def test_pages_through_in_order_with_cursors(self, world: World) -> None:
        for priority in (3, 1, 4, 1, 2):
            await world.new(priority=priority)

        assert await whole_list(world, world.team.member, TaskFilters(), "priority", limit=2) == [
            "WEB-2",
            "WEB-4",
            "WEB-5",
            "WEB-1",
            "WEB-3",
        ]
        assert await whole_list(world, world.team.member, TaskFilters(), "-number", limit=3) == [
            "WEB-5",
            "WEB-4",
            "WEB-3",
            "WEB-2",
            "WEB-1",
        ]

    async def test_nulls_sort_first_ascending_and_last_descending(self, world: World) -> None:
        base = datetime(2030, 1, 1, tzinfo=UTC)
        await world.new(due_at=(base + timedelta(days=2)).isoformat())
        await world.new()
        await world.new(due_at=base.isoformat())
        await world.new()

        assert await whole_list(world, world.team.member, TaskFilters(), "due_at", limit=1) == [
            "WEB-2",
            "WEB-4",
            "WEB-3",
            "WEB-1",
        ]
        assert await whole_list(world, world.team.member, TaskFilters(), "-due_at", limit=1) == [
            "WEB-1",
            "WEB-3",
            "WEB-4",
            "WEB-2",
        ]

    async def test_filters_and_counts(self, world: World) -> None:
        team = world.team
        await world.new(status="todo", assignee_ids=[team.member.id], labels=["bug"])
        await world.new(status="done", assignee_ids=[team.member.id])
        await world.new(status="todo", labels=["bug", "ux"], title="Landing page")
        gone = await world.new(status="todo", labels=["bug"])
        await world.tasks.delete(await world.access(team.member), gone, if_match=None)
        me = PydanticObjectId(team.member.id)
        order = SortOrder.parse("number")

        async def keys(filters: TaskFilters) -> tuple[list[str], int | None]:
            page = await world.tasks.page(
                world.project_id, me, filters, order, cursor=None, limit=50, include_total=True
            )
            return [t.key for t in page.items], page.total

        assert await keys(TaskFilters(status=[TaskStatus.TODO])) == (["WEB-1", "WEB-3"], 2)
        assert await keys(TaskFilters(assignee="me")) == (["WEB-1", "WEB-2"], 2)
        assert await keys(TaskFilters(assignee="none")) == (["WEB-3"], 1)
        assert await keys(TaskFilters(label=["bug"])) == (["WEB-1", "WEB-3"], 2)
        assert await keys(TaskFilters(q="landing")) == (["WEB-3"], 1)
        assert await keys(TaskFilters(label=["bug"], include_deleted=True)) == (
            ["WEB-1", "WEB-3", "WEB-4"],
            3,
        )

    async def test_total_counts_every_page_and_items_carry_names(self, world: World) -> None:
        for _ in range(3):
            await world.new(assignee_ids=[world.team.admin.id])

        page = await world.tasks.page(
            world.project_id,
            PydanticObjectId(world.team.member.id),
            TaskFilters(),
            SortOrder.parse("number"),
            cursor=None,
            limit=2,
            include_total=True,
        )

        assert ([t.key for t in page.items], page.total) == (["WEB-1", "WEB-2"], 3)
        assert page.next_cursor is not None
        assert page.items[0].assignees[0].display_name == "Ada"
        untotalled = await world.tasks.page(
            world.project_id,
            PydanticObjectId(world.team.member.id),
            TaskFilters(),
            SortOrder.parse("number"),
            cursor=None,
            limit=3,
            include_total=False,
        )
        assert (len(untotalled.items), untotalled.total, untotalled.next_cursor) == (3, None, None)

    async def test_a_cursor_is_only_for_its_own_list(self, world: World) -> None:
        for _ in range(3):
            await world.new(status="todo")
        me = PydanticObjectId(world.team.member.id)
        first = await world.tasks.page(
            world.project_id,
            me,
            TaskFilters(),
            SortOrder.parse("number"),
            cursor=None,
            limit=1,
            include_total=False,
        )
        assert first.next_cursor is not None

        for filters, order in (
            (TaskFilters(status=[TaskStatus.TODO]), "number"),
            (TaskFilters(), "-number"),
            (TaskFilters(), "priority"),
        ):
            with pytest.raises(InvalidCursor):
                await world.tasks.page(
                    world.project_id,
                    me,
                    filters,
                    SortOrder.parse(order),
                    cursor=first.next_cursor,
                    limit=1,
                    include_total=False,
                )
        with pytest.raises(InvalidCursor):
            await world.tasks.page(
                world.project_id,
                me,
                TaskFilters(),
                SortOrder.parse("number"),
                cursor=first.next_cursor[:-2] + "xx",
                limit=1,
                include_total=False,
            )

    async def test_lists_only_the_projects_tasks(self, world: World) -> None:
        await world.new(title="Ours")
        elsewhere = await world.other_project(world.team.member, key="THEIRS")
        await world.tasks.create(await world.scope(world.team.member, elsewhere), TaskCreate(title="Theirs"))

        page = await world.tasks.page(
            world.project_id,
            PydanticObjectId(world.team.member.id),
            TaskFilters(),
            SortOrder.parse("number"),
            cursor=None,
            limit=50,
            include_total=True,
        )
        assert ([t.title for t in page.items], page.total) == (["Ours"], 1)
