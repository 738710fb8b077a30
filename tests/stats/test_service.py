"""StatsService, called directly as the route calls it: the counts a caller reads, at a chosen `now`."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import pytest_asyncio
from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.core.storage.db import Database
from backend.core.time import utcnow
from backend.resources import resources_of
from backend.stats.schemas import ProjectStats
from backend.stats.service import StatsService
from backend.tasks.documents import Priority, TaskStatus
from backend.testing import Team
from backend.testing.factories import Factory
from backend.users.dependencies import user_service

Json = dict[str, Any]


@pytest_asyncio.fixture
async def stats(app: FastAPI) -> StatsService:
    return StatsService(user_service(resources_of(app)))


def project_id(team: Team) -> PydanticObjectId:
    return PydanticObjectId(team.project["id"])


async def store(db: Database, task: Json, **fields: Any) -> None:
    """Set stored fields the API does not let a caller choose (creation and completion times)."""
    result = await db["tasks"].update_one({"_id": PydanticObjectId(task["id"])}, {"$set": fields})
    assert result.matched_count == 1


def statuses(result: ProjectStats) -> dict[TaskStatus, int]:
    assert [s.status for s in result.by_status] == list(TaskStatus), "every status, in order"
    return {s.status: s.count for s in result.by_status}


def priorities(result: ProjectStats) -> dict[Priority, int]:
    assert [p.priority for p in result.by_priority] == list(Priority), "every priority, in order"
    return {p.priority: p.count for p in result.by_priority}


def daily(result: ProjectStats) -> list[tuple[date, int, int]]:
    return [(d.date, d.created, d.completed) for d in result.daily]


class TestProject:
    async def test_counts_live_tasks_by_status_priority_and_assignee(
        self, team: Team, factory: Factory, stats: StatsService
    ) -> None:
        by = team.member
        await factory.task(team.project, by, status="todo", priority=1, assignees=[team.admin, team.member])
        await factory.task(team.project, by, status="todo", priority=2, assignees=[team.member])
        await factory.task(team.project, by, status="done", priority=2)
        await factory.task(team.project, by, status="canceled")

        result = await stats.project(project_id(team), days=7)

        assert result.total == 4
        assert statuses(result) == {
            TaskStatus.BACKLOG: 0,
            TaskStatus.TODO: 2,
            TaskStatus.IN_PROGRESS: 0,
            TaskStatus.IN_REVIEW: 0,
            TaskStatus.DONE: 1,
            TaskStatus.CANCELED: 1,
        }
        assert priorities(result) == {
            Priority.NONE: 1,
            Priority.URGENT: 1,
            Priority.HIGH: 2,
            Priority.MEDIUM: 0,
            Priority.LOW: 0,
        }
        assert [(a.user_id, a.display_name, a.count) for a in result.by_assignee] == [
            (PydanticObjectId(team.member.id), "Max", 2),  # most first, though Ada's id sorts first
            (PydanticObjectId(team.admin.id), "Ada", 1),
        ]
        assert result.unassigned == 2

    async def test_assignees_with_equal_counts_order_by_id(
        self, team: Team, factory: Factory, stats: StatsService
    ) -> None:
        people = [team.viewer, team.member, team.admin, team.owner]  # newest account first
        for person in people:
            await factory.task(team.project, team.member, assignees=[person])

        result = await stats.project(project_id(team), days=1)

        assert [a.user_id for a in result.by_assignee] == sorted(PydanticObjectId(p.id) for p in people)
        assert [a.display_name for a in result.by_assignee] == ["Olive", "Ada", "Max", "Vic"]
        assert {a.count for a in result.by_assignee} == {1}
        assert result.unassigned == 0

    async def test_deleted_tasks_and_other_projects_do_not_count(
        self, team: Team, factory: Factory, stats: StatsService
    ) -> None:
        await factory.task(team.project, team.member, status="done", assignees=[team.member])
        gone = await factory.task(team.project, team.member, status="todo", assignees=[team.admin])
        response = await team.member.client.delete(f"{team.tasks_url}/{gone['id']}")
        assert response.status_code == 204, response.text
        other = await factory.project(team.member)
        await factory.task(other, team.member, status="todo", priority=1, assignees=[team.member])

        result = await stats.project(project_id(team), days=1)

        assert result.total == 1
        assert statuses(result)[TaskStatus.DONE] == 1
        assert statuses(result)[TaskStatus.TODO] == 0
        assert priorities(result)[Priority.URGENT] == 0
        assert [(a.user_id, a.count) for a in result.by_assignee] == [(PydanticObjectId(team.member.id), 1)]
        assert daily(result) == [(utcnow().date(), 1, 1)]

    async def test_an_empty_project_is_all_zeros(self, team: Team, stats: StatsService) -> None:
        now = datetime(2031, 3, 1, 12, tzinfo=UTC)

        result = await stats.project(project_id(team), days=3, now=now)

        assert (result.total, result.unassigned, result.overdue, result.by_assignee) == (0, 0, 0, [])
        assert set(statuses(result).values()) == {0}
        assert set(priorities(result).values()) == {0}
        assert daily(result) == [
            (date(2031, 2, 27), 0, 0),
            (date(2031, 2, 28), 0, 0),
            (date(2031, 3, 1), 0, 0),
        ]

    async def test_overdue_counts_open_tasks_due_before_now(
        self, team: Team, factory: Factory, stats: StatsService
    ) -> None:
        now = datetime(2031, 6, 15, 12, tzinfo=UTC)
        past, future = now - timedelta(hours=1), now + timedelta(hours=1)
        for status in ("backlog", "todo", "in_progress", "in_review"):
            await factory.task(team.project, team.member, status=status, due_at=past.isoformat())
        for status in ("done", "canceled"):
            await factory.task(team.project, team.member, status=status, due_at=past.isoformat())
        await factory.task(team.project, team.member, status="todo", due_at=future.isoformat())
        await factory.task(team.project, team.member, status="todo", due_at=now.isoformat())
        await factory.task(team.project, team.member, status="todo")

        assert (await stats.project(project_id(team), days=1, now=now)).overdue == 4
        later = await stats.project(project_id(team), days=1, now=future + timedelta(seconds=1))
        assert later.overdue == 6

    async def test_daily_counts_created_and_completed_per_utc_day(
        self, team: Team, factory: Factory, stats: StatsService, db: Database
    ) -> None:
        now = datetime(2031, 6, 15, 9, tzinfo=UTC)
        midnight = datetime(2031, 6, 15, tzinfo=UTC)
        first_midnight = midnight - timedelta(days=2)
        arranged: list[tuple[datetime, datetime | None]] = [
            (midnight, midnight + timedelta(hours=1)),  # today, completed today
            (midnight - timedelta(milliseconds=1), midnight),  # yesterday, completed today
            (first_midnight, None),  # the first day
            (first_midnight - timedelta(milliseconds=1), first_midnight),  # before the range; completed in it
            (midnight - timedelta(days=10), None),  # long before
        ]
        for created_at, completed_at in arranged:
            task = await factory.task(team.project, team.member, status="done" if completed_at else "todo")
            await store(db, task, created_at=created_at, completed_at=completed_at)

        result = await stats.project(project_id(team), days=3, now=now)

        assert daily(result) == [
            (date(2031, 6, 13), 1, 1),
            (date(2031, 6, 14), 1, 0),
            (date(2031, 6, 15), 1, 2),
        ]
        assert result.total == 5

    async def test_days_are_utc_days_whatever_the_timezone_of_now(
        self, team: Team, factory: Factory, stats: StatsService, db: Database
    ) -> None:
        task = await factory.task(team.project, team.member)
        await store(db, task, created_at=datetime(2031, 6, 14, 23, tzinfo=UTC))
        # 01:00 on the 15th in UTC+10 is 15:00 on the 14th in UTC: the 14th is the last day.
        now = datetime(2031, 6, 15, 1, tzinfo=timezone(timedelta(hours=10)))

        result = await stats.project(project_id(team), days=2, now=now)

        assert daily(result) == [(date(2031, 6, 13), 0, 0), (date(2031, 6, 14), 1, 0)]

    @pytest.mark.parametrize("days", [1, 30, 90])
    async def test_daily_covers_the_days_asked_for_ending_today(
        self, team: Team, stats: StatsService, days: int
    ) -> None:
        now = datetime(2032, 1, 1, 0, 30, tzinfo=UTC)

        result = await stats.project(project_id(team), days=days, now=now)

        dates = [d.date for d in result.daily]
        assert len(dates) == days
        assert dates[-1] == date(2032, 1, 1)
        assert dates == [date(2032, 1, 1) - timedelta(days=days - 1 - i) for i in range(days)]
