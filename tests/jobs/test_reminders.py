"""Due-soon reminders (the scheduled job): each assignee of a live, open task due within the lead
time is told once per task and due date, read through HTTP as a client would."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from backend.core.time import utcnow
from backend.notifications.repository import ReminderRepository
from backend.resources import resources_of
from backend.testing import Team
from backend.worker import due_reminders
from tests.notifications.helpers import new_task, notifications_of


def due_in(delta: timedelta) -> str:
    return (utcnow() + delta).isoformat()


async def remind(app: FastAPI) -> int:
    return await due_reminders(resources_of(app)).run()


async def reminders_of(who: Any) -> list[dict[str, Any]]:
    return [n for n in await notifications_of(who) if n["kind"] == "due_soon"]


async def test_each_assignee_is_reminded_once(app: FastAPI, team: Team) -> None:
    task = await new_task(
        team, team.owner, assignee_ids=[team.admin.id, team.member.id], due_at=due_in(timedelta(hours=2))
    )

    assert await remind(app) == 2
    assert await remind(app) == 0  # once only

    for assignee in (team.admin, team.member):
        (reminder,) = await reminders_of(assignee)
        assert reminder["task_id"] == task["id"]
        assert reminder["task_key"] == task["key"]
        assert reminder["actor"] is None  # nobody did anything
        assert reminder["activity_id"] is None
        assert reminder["due_at"] == task["due_at"]
        assert reminder["read_at"] is None
    assert await reminders_of(team.viewer) == []  # not assigned
    assert await reminders_of(team.owner) == []  # created it, not assigned


async def test_only_tasks_due_within_the_lead_time(app: FastAPI, team: Team) -> None:
    await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due_in(timedelta(days=2)))
    await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due_in(-timedelta(hours=1)))
    await new_task(team, team.owner, assignee_ids=[team.member.id])  # no due date

    assert await remind(app) == 0
    assert await reminders_of(team.member) == []


@pytest.mark.tasklane_settings(reminder_lead_minutes=30)
async def test_the_lead_time_is_a_setting(app: FastAPI, team: Team) -> None:
    await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due_in(timedelta(hours=2)))
    await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due_in(timedelta(minutes=20)))

    assert await remind(app) == 1


async def test_no_reminder_for_done_canceled_or_deleted_tasks(app: FastAPI, team: Team) -> None:
    due = due_in(timedelta(hours=1))
    for status in ("done", "canceled"):
        await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due, status=status)
    deleted = await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due)
    assert (await team.owner.client.delete(f"{team.tasks_url}/{deleted['id']}")).status_code == 204

    assert await remind(app) == 0
    assert await reminders_of(team.member) == []


async def test_no_reminder_for_an_assignee_no_longer_a_member(app: FastAPI, team: Team) -> None:
    await new_task(team, team.owner, assignee_ids=[team.viewer.id], due_at=due_in(timedelta(hours=1)))
    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")

    assert await remind(app) == 0
    await team.owner.client.post(f"{team.project_url}/members", json={"user_id": team.viewer.id})
    assert await remind(app) == 1  # a member again, the task still due soon


async def test_a_changed_due_date_reminds_again(app: FastAPI, team: Team) -> None:
    task = await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due_in(timedelta(hours=1)))
    assert await remind(app) == 1

    moved = await team.owner.client.patch(
        f"{team.tasks_url}/{task['id']}", json={"due_at": due_in(timedelta(hours=3))}
    )
    assert moved.status_code == 200, moved.text

    assert await remind(app) == 1
    assert await remind(app) == 0
    first, second = await reminders_of(team.member)  # newest first
    assert first["due_at"] == moved.json()["due_at"]
    assert second["due_at"] == task["due_at"]


async def test_two_runs_at_once_remind_once(app: FastAPI, team: Team) -> None:
    for _ in range(3):
        await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due_in(timedelta(hours=1)))

    counts = await asyncio.gather(*(remind(app) for _ in range(4)))

    assert sum(counts) == 3
    assert len(await reminders_of(team.member)) == 3


async def test_the_database_refuses_a_second_reminder_whatever_the_timing(
    app: FastAPI, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both runs read before either writes (the worst interleaving): the unique key decides."""
    await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due_in(timedelta(hours=1)))

    async def nothing_given(self: ReminderRepository, task_ids: object) -> set[str]:
        return set()

    monkeypatch.setattr(ReminderRepository, "given", nothing_given)

    assert await remind(app) == 1
    assert await remind(app) == 0
    assert len(await reminders_of(team.member)) == 1


async def test_a_reminder_is_hidden_once_the_project_is_out_of_sight(app: FastAPI, team: Team) -> None:
    await new_task(team, team.owner, assignee_ids=[team.viewer.id], due_at=due_in(timedelta(hours=1)))
    assert await remind(app) == 1

    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")

    assert await reminders_of(team.viewer) == []


async def test_a_window_larger_than_a_batch_is_read_in_batches(
    app: FastAPI, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backend.notifications.reminders.BATCH", 2)
    for hours in (3, 1, 2, 4, 5):
        await new_task(team, team.owner, assignee_ids=[team.member.id], due_at=due_in(timedelta(hours=hours)))

    assert await remind(app) == 5
    assert len(await reminders_of(team.member)) == 5
