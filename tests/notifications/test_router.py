"""Notifications through HTTP: who is told of what, once, never of their own change, and only while
they may see the project."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from backend.testing import Team, UserFactory
from tests.notifications.helpers import NOTIFICATIONS, new_task, notifications_of, unread_of

Problem = Callable[[httpx.Response, int, str], dict[str, Any]]


async def test_assignees_are_told_and_the_actor_is_not(team: Team) -> None:
    task = await new_task(team, team.member, assignee_ids=[team.admin.id, team.member.id])

    (told,) = await notifications_of(team.admin)
    assert told["kind"] == "assigned"
    assert told["task_id"] == task["id"]
    assert told["task_key"] == "WEB-1"
    assert told["project_id"] == team.project["id"]
    assert told["actor"] == {"id": team.member.id, "display_name": "Max", "handle": team.member.handle}
    assert told["read_at"] is None
    assert told["comment_id"] is None
    assert await notifications_of(team.member) == []  # assigned themselves: their own change


async def test_a_new_assignee_is_told_on_update(team: Team) -> None:
    task = await new_task(team, team.member, assignee_ids=[team.admin.id])

    await team.member.client.patch(
        f"{team.tasks_url}/{task['id']}", json={"assignee_ids": [team.admin.id, team.viewer.id]}
    )

    assert [n["kind"] for n in await notifications_of(team.viewer)] == ["assigned"]
    assert [n["kind"] for n in await notifications_of(team.admin)] == ["assigned"]  # once, at creation


async def test_watchers_are_told_of_comments(team: Team) -> None:
    task = await new_task(team, team.member)
    await team.viewer.client.put(f"{team.tasks_url}/{task['id']}/watchers/me")

    comment = (
        await team.admin.client.post(f"{team.tasks_url}/{task['id']}/comments", json={"body": "Found it"})
    ).json()

    for watcher in (team.member, team.viewer):
        (told,) = await notifications_of(watcher)
        assert (told["kind"], told["comment_id"]) == ("commented", comment["id"])
    assert await notifications_of(team.admin) == []  # the commenter
    assert await notifications_of(team.owner) == []  # not watching


async def test_watchers_are_told_of_status_changes_only(team: Team) -> None:
    task = await new_task(team, team.member)
    await team.viewer.client.put(f"{team.tasks_url}/{task['id']}/watchers/me")
    url = f"{team.tasks_url}/{task['id']}"

    await team.admin.client.patch(url, json={"title": "Renamed"})
    await team.admin.client.patch(url, json={"status": "in_progress"})

    for watcher in (team.member, team.viewer):
        assert [n["kind"] for n in await notifications_of(watcher)] == ["status_changed"]


async def test_a_status_change_by_move_tells_watchers(team: Team) -> None:
    task = await new_task(team, team.member)
    other = await new_task(team, team.owner)

    moved = await team.admin.client.post(
        f"{team.tasks_url}/{task['id']}/move", json={"after_id": other["id"], "status": "done"}
    )

    assert moved.status_code == 200, moved.text

    assert [n["kind"] for n in await notifications_of(team.member)] == ["status_changed"]


async def test_one_change_gives_one_notification_for_its_strongest_reason(team: Team) -> None:
    task = await new_task(team, team.member)
    await team.viewer.client.put(f"{team.tasks_url}/{task['id']}/watchers/me")

    await team.admin.client.patch(
        f"{team.tasks_url}/{task['id']}", json={"status": "done", "assignee_ids": [team.viewer.id]}
    )

    assert [n["kind"] for n in await notifications_of(team.viewer)] == ["assigned"]
    assert [n["kind"] for n in await notifications_of(team.member)] == ["status_changed"]


async def test_unwatching_stops_comment_notifications(team: Team) -> None:
    task = await new_task(team, team.member)
    await team.member.client.delete(f"{team.tasks_url}/{task['id']}/watchers/me")

    await team.admin.client.post(f"{team.tasks_url}/{task['id']}/comments", json={"body": "x"})

    assert await notifications_of(team.member) == []


async def test_bulk_and_batch_changes_notify_too(team: Team) -> None:
    created = (
        await team.member.client.post(
            f"{team.tasks_url}/batch",
            json={"tasks": [{"title": "a", "assignee_ids": [team.viewer.id]}, {"title": "b"}]},
        )
    ).json()
    ids = [r["task"]["id"] for r in created["results"]]

    await team.admin.client.post(
        f"{team.tasks_url}/bulk-update", json={"ids": ids, "set": {"status": "done"}}
    )

    assert sorted(n["kind"] for n in await notifications_of(team.viewer)) == ["assigned", "status_changed"]
    assert [n["kind"] for n in await notifications_of(team.member)] == ["status_changed", "status_changed"]


async def test_newest_first_with_a_cursor_and_the_unread_filter(team: Team) -> None:
    for i in range(3):
        await new_task(team, team.member, title=f"t{i}", assignee_ids=[team.viewer.id])

    first = (await team.viewer.client.get(NOTIFICATIONS, params={"limit": 2})).json()
    second = (
        await team.viewer.client.get(NOTIFICATIONS, params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    keys = [n["task_key"] for n in first["items"] + second["items"]]
    assert keys == ["WEB-3", "WEB-2", "WEB-1"]
    assert second["next_cursor"] is None

    newest = first["items"][0]
    marked = await team.viewer.client.post(f"{NOTIFICATIONS}/read", json={"ids": [newest["id"]]})
    assert marked.status_code == 200
    assert marked.json() == {"unread": 2}
    assert [n["task_key"] for n in await notifications_of(team.viewer, unread="true")] == ["WEB-2", "WEB-1"]
    read = (await notifications_of(team.viewer))[0]
    assert read["id"] == newest["id"]
    assert read["read_at"] is not None


async def test_unread_count_and_marking_everything_up_to_a_time(team: Team) -> None:
    for i in range(3):
        await new_task(team, team.member, title=f"t{i}", assignee_ids=[team.viewer.id])
    assert await unread_of(team.viewer) == 3
    items = await notifications_of(team.viewer)

    marked = await team.viewer.client.post(f"{NOTIFICATIONS}/read", json={"up_to": items[1]["created_at"]})

    assert marked.json() == {"unread": 1}
    assert await unread_of(team.viewer) == 1
    everything = await team.viewer.client.post(
        f"{NOTIFICATIONS}/read", json={"up_to": datetime.now(UTC).isoformat()}
    )
    assert everything.json() == {"unread": 0}


async def test_nobody_marks_anothers_notifications(team: Team) -> None:
    await new_task(team, team.member, assignee_ids=[team.viewer.id])
    (theirs,) = await notifications_of(team.viewer)

    response = await team.admin.client.post(f"{NOTIFICATIONS}/read", json={"ids": [theirs["id"]]})

    assert response.json() == {"unread": 0}
    assert await unread_of(team.viewer) == 1


async def test_marking_needs_ids_or_a_time(team: Team, problem: Problem) -> None:
    problem(await team.viewer.client.post(f"{NOTIFICATIONS}/read", json={}), 422, "VALIDATION_FAILED")
    problem(
        await team.viewer.client.post(f"{NOTIFICATIONS}/read", json={"ids": ["x"]}), 422, "VALIDATION_FAILED"
    )


async def test_anonymous_gets_401(client: httpx.AsyncClient, problem: Problem) -> None:
    problem(await client.get(NOTIFICATIONS), 401, "NOT_AUTHENTICATED")
    problem(await client.get(f"{NOTIFICATIONS}/unread-count"), 401, "NOT_AUTHENTICATED")


async def test_a_removed_member_stops_seeing_that_projects_notifications(team: Team) -> None:
    other = (await team.owner.client.post("/api/v1/projects", json={"name": "Other", "key": "OTH"})).json()
    await team.owner.client.post(f"/api/v1/projects/{other['id']}/members", json={"user_id": team.viewer.id})
    await new_task(team, team.member, assignee_ids=[team.viewer.id])
    await team.owner.client.post(
        f"/api/v1/projects/{other['id']}/tasks", json={"title": "elsewhere", "assignee_ids": [team.viewer.id]}
    )
    assert await unread_of(team.viewer) == 2

    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")

    assert [n["task_key"] for n in await notifications_of(team.viewer)] == ["OTH-1"]
    assert [n["task_key"] for n in await notifications_of(team.viewer, unread="true")] == ["OTH-1"]
    assert await unread_of(team.viewer) == 1

    # Added back: they are theirs again.
    await team.owner.client.post(f"{team.project_url}/members", json={"user_id": team.viewer.id})
    assert await unread_of(team.viewer) == 2


async def test_a_removed_member_is_not_told_of_later_changes(team: Team) -> None:
    task = await new_task(team, team.member)
    await team.viewer.client.put(f"{team.tasks_url}/{task['id']}/watchers/me")
    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")

    await team.admin.client.post(f"{team.tasks_url}/{task['id']}/comments", json={"body": "secret"})
    await team.owner.client.post(f"{team.project_url}/members", json={"user_id": team.viewer.id})

    assert await notifications_of(team.viewer) == []


async def test_a_global_admin_outside_the_project_is_not_notified(team: Team, users: UserFactory) -> None:
    admin = await users.create(role="admin")
    task = await new_task(team, team.member)

    await admin.client.get(f"{team.tasks_url}/{task['id']}")
    await team.admin.client.post(f"{team.tasks_url}/{task['id']}/comments", json={"body": "x"})

    assert await notifications_of(admin) == []


async def test_marking_read_leaves_the_notifications_of_projects_you_cannot_see(team: Team) -> None:
    await new_task(team, team.member, assignee_ids=[team.viewer.id])
    (told,) = await notifications_of(team.viewer)
    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")

    for body in ({"up_to": datetime.now(UTC).isoformat()}, {"ids": [told["id"]]}):
        marked = await team.viewer.client.post(f"{NOTIFICATIONS}/read", json=body)
        assert marked.json() == {"unread": 0}, body

    await team.owner.client.post(f"{team.project_url}/members", json={"user_id": team.viewer.id})
    (back,) = await notifications_of(team.viewer)
    assert back["read_at"] is None  # never shown while hidden, so not read then
    assert await unread_of(team.viewer) == 1
