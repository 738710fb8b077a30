"""NotificationService.notify, the entry point for mentions: the lead wires resolved mentions here
(or through ActivityService.record_change(..., mentioned={task_id: ids}))."""

from typing import Any

from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.activity.dependencies import activity_service
from backend.activity.documents import ActivityRecord, Target
from backend.activity.verbs import ActivityVerb
from backend.notifications.dependencies import notification_service
from backend.notifications.documents import NotificationKind
from backend.notifications.service import Change
from backend.resources import resources_of
from backend.testing import Actor, Team
from tests.notifications.helpers import new_task, notifications_of, watcher_ids


def record(
    team: Team, task: dict[str, Any], actor: Actor, verb: ActivityVerb, **changes: Any
) -> ActivityRecord:
    """The activity record of a stored change, as the task and comment services write it."""
    return ActivityRecord(
        id=PydanticObjectId(),
        project_id=PydanticObjectId(team.project["id"]),
        task_id=PydanticObjectId(task["id"]),
        actor_id=PydanticObjectId(actor.id),
        verb=verb,
        target=Target(type="task", id=PydanticObjectId(task["id"]), key=task["key"]),
        changes=changes,
    )


def ids(*actors: Actor) -> frozenset[PydanticObjectId]:
    return frozenset(PydanticObjectId(a.id) for a in actors)


class TestNotify:
    async def test_the_mentioned_are_told_and_watch(self, app: FastAPI, team: Team) -> None:
        task = await new_task(team, team.member)
        change = record(team, task, team.admin, ActivityVerb.TASK_UPDATED, description=["", "@vic look"])

        told = await notification_service(resources_of(app)).notify(
            [Change(change, mentioned=ids(team.viewer))]
        )

        assert [(str(n.user_id), n.kind) for n in told] == [(team.viewer.id, NotificationKind.MENTIONED)]
        assert [n["kind"] for n in await notifications_of(team.viewer)] == ["mentioned"]
        assert team.viewer.id in await watcher_ids(team, task, team.viewer)
        assert await notifications_of(team.member) == []  # a description edit tells no watcher

    async def test_a_mentioned_watcher_of_a_comment_gets_one_notification(
        self, app: FastAPI, team: Team
    ) -> None:
        task = await new_task(team, team.member)
        change = record(team, task, team.admin, ActivityVerb.COMMENT_CREATED, body=[None, "@max"])

        await notification_service(resources_of(app)).notify([Change(change, mentioned=ids(team.member))])

        assert [n["kind"] for n in await notifications_of(team.member)] == ["mentioned"]

    async def test_assigned_wins_over_mentioned(self, app: FastAPI, team: Team) -> None:
        task = await new_task(team, team.member)
        change = record(
            team, task, team.admin, ActivityVerb.TASK_UPDATED, assignee_ids=[[], [team.viewer.id]]
        )

        await notification_service(resources_of(app)).notify([Change(change, mentioned=ids(team.viewer))])

        assert [n["kind"] for n in await notifications_of(team.viewer)] == ["assigned"]

    async def test_the_actor_mentioning_themselves_and_outsiders_are_not_told(
        self, app: FastAPI, team: Team
    ) -> None:
        task = await new_task(team, team.member)
        change = record(team, task, team.admin, ActivityVerb.TASK_UPDATED, title=["a", "b"])

        told = await notification_service(resources_of(app)).notify(
            [Change(change, mentioned=ids(team.admin, team.outsider))]
        )

        assert told == []
        assert team.outsider.id not in await watcher_ids(team, task, team.member)

    async def test_changes_without_people_notify_nobody(self, app: FastAPI, team: Team) -> None:
        task = await new_task(team, team.member)
        change = record(team, task, team.admin, ActivityVerb.TASK_UPDATED, title=["a", "b"])

        assert await notification_service(resources_of(app)).notify([Change(change)]) == []

    async def test_mentions_through_activity_record_change(self, app: FastAPI, team: Team) -> None:
        task = await new_task(team, team.member)
        change = record(team, task, team.admin, ActivityVerb.COMMENT_CREATED, body=[None, "@vic"])

        async def nothing_cached() -> None:
            return None

        await activity_service(resources_of(app)).record_change(
            [change], nothing_cached, mentioned={PydanticObjectId(task["id"]): ids(team.viewer)}
        )

        assert [n["kind"] for n in await notifications_of(team.viewer)] == ["mentioned"]
        assert [n["kind"] for n in await notifications_of(team.member)] == ["commented"]
