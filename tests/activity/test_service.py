"""ActivityService, called directly: writing records, announcing them, pages, filters, cursors, resuming."""

import time
from typing import Any

import pytest
from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.activity.dependencies import activity_service
from backend.activity.documents import ActivityRecord, Target
from backend.activity.events import EventBus, Subscription
from backend.activity.service import ActivityService
from backend.activity.verbs import ActivityVerb
from backend.core.pagination import InvalidCursor
from backend.resources import resources_of
from backend.testing import DEFAULT_PASSWORD, CommandLog
from backend.users.dependencies import user_service
from backend.users.schemas import UserRegister

PROJECT = PydanticObjectId()
OTHER_PROJECT = PydanticObjectId()
TASK = PydanticObjectId()


@pytest.fixture
def service(app: FastAPI) -> ActivityService:
    return activity_service(resources_of(app))


async def register(app: FastAPI, name: str) -> PydanticObjectId:
    user = await user_service(resources_of(app)).register(
        UserRegister(email=f"{name.lower()}@example.com", password=DEFAULT_PASSWORD, display_name=name)
    )
    assert user.id is not None
    return user.id


def task_target(key: str = "WEB-1") -> Target:
    return Target(type="task", id=TASK, key=key)


async def write(
    service: ActivityService,
    actor: PydanticObjectId,
    verb: ActivityVerb = ActivityVerb.TASK_UPDATED,
    *,
    project: PydanticObjectId = PROJECT,
    task: PydanticObjectId | None = None,
    changes: dict[str, list[Any]] | None = None,
) -> PydanticObjectId:
    record = await service.record(
        project_id=project, actor_id=actor, verb=verb, target=task_target(), changes=changes, task_id=task
    )
    assert record.id is not None
    return record.id


async def received(stream: Subscription, *, count: int, within: float = 1.0) -> list[dict[str, Any]]:
    """Up to `count` events of the stream, waiting at most `within` seconds (a read may also yield
    nothing: the confirmation of the subscription)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while len(events) < count and time.monotonic() < deadline:
        event = await stream.next(timeout=0.05)
        if event is not None:
            events.append(event)
    return events


def inserts(log: CommandLog) -> int:
    return sum(1 for command, _ in log.commands if command == "insert")


class TestRecord:
    async def test_stores_the_record_and_returns_it(self, app: FastAPI, service: ActivityService) -> None:
        ann = await register(app, "Ann")

        record = await service.record(
            project_id=PROJECT,
            actor_id=ann,
            verb=ActivityVerb.TASK_UPDATED,
            target=task_target("WEB-7"),
            changes={"title": ["Old", "New"]},
            task_id=TASK,
        )

        assert record.id is not None
        found = await service.get(record.id)
        assert found is not None
        assert (found.project_id, found.task_id, found.actor_id, found.verb) == (
            PROJECT,
            TASK,
            ann,
            ActivityVerb.TASK_UPDATED,
        )
        assert (found.target, found.changes) == (task_target("WEB-7"), {"title": ["Old", "New"]})
        (read,) = (await service.page(PROJECT, verbs=[], actor_id=None, cursor=None, limit=10)).items
        assert (read.id, read.actor.display_name, read.changes.title) == (record.id, "Ann", ("Old", "New"))

    async def test_changes_default_to_none(self, app: FastAPI, service: ActivityService) -> None:
        ann = await register(app, "Ann")

        record_id = await write(service, ann, ActivityVerb.TASK_DELETED)

        found = await service.get(record_id)
        assert found is not None
        assert (found.changes, found.task_id) == ({}, None)

    async def test_announces_the_record_to_the_projects_stream_only(
        self, app: FastAPI, service: ActivityService
    ) -> None:
        ann = await register(app, "Ann")
        bus = EventBus(resources_of(app).stores.redis)

        async with bus.subscribe(PROJECT) as mine, bus.subscribe(OTHER_PROJECT) as other:
            record_id = await write(service, ann, ActivityVerb.TASK_CREATED, changes={"title": [None, "T"]})
            (event,) = await received(mine, count=1)
            elsewhere = await received(other, count=1, within=0.2)

        assert event["id"] == str(record_id)
        assert event["verb"] == "task.created"
        assert event["actor"] == {"id": str(ann), "display_name": "Ann", "handle": "ann"}
        assert event["changes"] == {"title": [None, "T"]}
        assert elsewhere == []


class TestRecordMany:
    async def test_writes_many_in_one_insert(
        self, app: FastAPI, service: ActivityService, mongo_commands: CommandLog
    ) -> None:
        ann = await register(app, "Ann")
        records = [
            ActivityRecord(
                project_id=PROJECT, actor_id=ann, verb=ActivityVerb.TASK_UPDATED, target=task_target()
            )
            for _ in range(4)
        ]
        mongo_commands.clear()

        await service.record_many(records)

        assert inserts(mongo_commands) == 1
        ids = [r.id for r in records]
        assert None not in ids
        assert len(set(ids)) == 4
        page = await service.page(PROJECT, verbs=[], actor_id=None, cursor=None, limit=10)
        assert [r.id for r in page.items] == ids[::-1]

    async def test_keeps_ids_given(self, app: FastAPI, service: ActivityService) -> None:
        ann = await register(app, "Ann")
        chosen = PydanticObjectId()
        record = ActivityRecord(
            id=chosen, project_id=PROJECT, actor_id=ann, verb=ActivityVerb.TASK_UPDATED, target=task_target()
        )

        await service.record_many([record])

        assert record.id == chosen
        assert await service.get(chosen) is not None

    async def test_nothing_to_write_sends_nothing(
        self, service: ActivityService, mongo_commands: CommandLog
    ) -> None:
        mongo_commands.clear()

        await service.record_many([])

        assert mongo_commands.commands == []

    async def test_announces_each_record_in_order(self, app: FastAPI, service: ActivityService) -> None:
        ann = await register(app, "Ann")
        records = [
            ActivityRecord(project_id=PROJECT, actor_id=ann, verb=verb, target=task_target())
            for verb in (ActivityVerb.TASK_CREATED, ActivityVerb.COMMENT_CREATED, ActivityVerb.TASK_UPDATED)
        ]

        async with EventBus(resources_of(app).stores.redis).subscribe(PROJECT) as stream:
            await service.record_many(records)
            events = await received(stream, count=len(records) + 1)

        assert [e["id"] for e in events] == [str(r.id) for r in records]


class TestPage:
    async def test_newest_first_of_the_project_only(self, app: FastAPI, service: ActivityService) -> None:
        ann, bob = await register(app, "Ann"), await register(app, "Bob")
        first = await write(service, ann)
        await write(service, ann, project=OTHER_PROJECT)
        second = await write(service, bob)

        page = await service.page(PROJECT, verbs=[], actor_id=None, cursor=None, limit=10)

        assert [(r.id, r.actor.display_name) for r in page.items] == [(second, "Bob"), (first, "Ann")]
        assert page.next_cursor is None

    async def test_filters_by_verb_actor_and_task(self, app: FastAPI, service: ActivityService) -> None:
        ann, bob = await register(app, "Ann"), await register(app, "Bob")
        created = await write(service, ann, ActivityVerb.TASK_CREATED, task=TASK)
        commented = await write(service, bob, ActivityVerb.COMMENT_CREATED, task=TASK)
        updated = await write(service, ann, ActivityVerb.TASK_UPDATED, task=PydanticObjectId())
        project = await write(service, bob, ActivityVerb.PROJECT_UPDATED)

        async def ids(**filters: Any) -> list[PydanticObjectId]:
            arguments: dict[str, Any] = {"verbs": [], "actor_id": None, **filters}
            page = await service.page(PROJECT, cursor=None, limit=10, **arguments)
            return [r.id for r in page.items]

        assert await ids(verbs=["task.created", "task.updated"]) == [updated, created]
        assert await ids(actor_id=bob) == [project, commented]
        assert await ids(task_id=TASK) == [commented, created]
        assert await ids(task_id=TASK, actor_id=ann) == [created]
        assert await ids(verbs=["comment.deleted"]) == []

    async def test_a_cursor_walks_every_record_once(self, app: FastAPI, service: ActivityService) -> None:
        ann = await register(app, "Ann")
        written = [await write(service, ann) for _ in range(5)]

        seen: list[PydanticObjectId] = []
        cursor: str | None = None
        for _ in range(5):
            page = await service.page(PROJECT, verbs=[], actor_id=None, cursor=cursor, limit=2)
            seen += [r.id for r in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break

        assert seen == written[::-1]

    async def test_records_written_after_a_cursor_do_not_shift_its_page(
        self, app: FastAPI, service: ActivityService
    ) -> None:
        ann = await register(app, "Ann")
        written = [await write(service, ann) for _ in range(4)]
        first = await service.page(PROJECT, verbs=[], actor_id=None, cursor=None, limit=2)
        await write(service, ann)

        rest = await service.page(PROJECT, verbs=[], actor_id=None, cursor=first.next_cursor, limit=2)

        assert [r.id for r in rest.items] == [written[1], written[0]]

    async def test_a_cursor_works_only_with_the_filters_it_came_with(
        self, app: FastAPI, service: ActivityService
    ) -> None:
        ann = await register(app, "Ann")
        for _ in range(3):
            await write(service, ann, ActivityVerb.TASK_UPDATED)
        page = await service.page(PROJECT, verbs=["task.updated"], actor_id=None, cursor=None, limit=1)
        assert page.next_cursor is not None

        others: list[tuple[list[str], PydanticObjectId | None, PydanticObjectId | None]] = [
            ([], None, None),
            (["task.updated"], ann, None),
            (["task.updated"], None, TASK),
        ]
        for verbs, actor, task in others:
            with pytest.raises(InvalidCursor):
                await service.page(
                    PROJECT, verbs=verbs, actor_id=actor, task_id=task, cursor=page.next_cursor, limit=1
                )
        with pytest.raises(InvalidCursor):
            await service.page(
                OTHER_PROJECT, verbs=["task.updated"], actor_id=None, cursor=page.next_cursor, limit=1
            )
        with pytest.raises(InvalidCursor):
            await service.page(PROJECT, verbs=["task.updated"], actor_id=None, cursor="garbage", limit=1)

        same = await service.page(
            PROJECT, verbs=["task.updated"], actor_id=None, cursor=page.next_cursor, limit=1
        )
        assert len(same.items) == 1

    async def test_an_unknown_actor_has_an_empty_name(self, service: ActivityService) -> None:
        ghost = PydanticObjectId()
        await write(service, ghost)

        (read,) = (await service.page(PROJECT, verbs=[], actor_id=None, cursor=None, limit=10)).items

        assert (read.actor.id, read.actor.display_name) == (ghost, "")

    async def test_unreadable_changes_are_left_out_not_failed(
        self, app: FastAPI, service: ActivityService
    ) -> None:
        ann = await register(app, "Ann")
        await write(service, ann, changes={"title": ["a", "b"], "status": ["no such", "status"]})

        (read,) = (await service.page(PROJECT, verbs=[], actor_id=None, cursor=None, limit=10)).items

        assert read.changes.title == ("a", "b")
        assert read.changes.status is None


class TestRead:
    async def test_names_every_actor_in_one_lookup_keeping_the_order(
        self, app: FastAPI, service: ActivityService, mongo_commands: CommandLog
    ) -> None:
        ann, bob = await register(app, "Ann"), await register(app, "Bob")
        records = [
            ActivityRecord(
                id=PydanticObjectId(), project_id=PROJECT, actor_id=actor, verb=verb, target=task_target()
            )
            for actor, verb in (
                (ann, ActivityVerb.TASK_CREATED),
                (bob, ActivityVerb.COMMENT_CREATED),
                (ann, ActivityVerb.TASK_UPDATED),
            )
        ]
        mongo_commands.clear()

        read = await service.read(records)

        assert [(r.id, r.actor.display_name, r.verb) for r in read] == [
            (records[0].id, "Ann", ActivityVerb.TASK_CREATED),
            (records[1].id, "Bob", ActivityVerb.COMMENT_CREATED),
            (records[2].id, "Ann", ActivityVerb.TASK_UPDATED),
        ]
        assert len(mongo_commands.commands) == 1

    async def test_nothing_to_read(self, service: ActivityService) -> None:
        assert await service.read([]) == []


class TestSince:
    async def test_later_records_oldest_first(self, app: FastAPI, service: ActivityService) -> None:
        ann = await register(app, "Ann")
        written = [await write(service, ann) for _ in range(5)]
        await write(service, ann, project=OTHER_PROJECT)

        later = await service.since(PROJECT, written[1], limit=10)
        limited = await service.since(PROJECT, written[1], limit=2)

        assert [r.id for r in later] == written[2:]
        assert [r.id for r in limited] == written[2:4]
        assert await service.since(PROJECT, written[-1], limit=10) == []

    async def test_an_unknown_or_foreign_last_id_gives_nothing(
        self, app: FastAPI, service: ActivityService
    ) -> None:
        ann = await register(app, "Ann")
        foreign = await write(service, ann, project=OTHER_PROJECT)
        for _ in range(2):
            await write(service, ann)

        assert await service.since(PROJECT, PydanticObjectId(), limit=10) == []
        assert await service.since(PROJECT, foreign, limit=10) == []


class TestGet:
    async def test_by_id(self, app: FastAPI, service: ActivityService) -> None:
        ann = await register(app, "Ann")
        record_id = await write(service, ann, ActivityVerb.COMMENT_CREATED)

        found = await service.get(record_id)

        assert found is not None
        assert (found.id, found.verb, found.actor_id) == (record_id, ActivityVerb.COMMENT_CREATED, ann)

    async def test_unknown_is_none(self, service: ActivityService) -> None:
        assert await service.get(PydanticObjectId()) is None
