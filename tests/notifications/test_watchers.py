"""Watchers of a task: who they are, and watching or not through `.../watchers/me`."""

from collections.abc import Callable
from typing import Any

import httpx

from backend.testing import Team, UserFactory
from tests.notifications.helpers import new_task, watcher_ids

Problem = Callable[[httpx.Response, int, str], dict[str, Any]]


async def test_the_creator_and_the_assignees_watch_a_new_task(team: Team) -> None:
    task = await new_task(team, team.member, assignee_ids=[team.admin.id])

    response = await team.viewer.client.get(f"{team.tasks_url}/{task['id']}/watchers")

    assert response.status_code == 200
    body = response.json()
    assert sorted(w["user"]["id"] for w in body["items"]) == sorted([team.member.id, team.admin.id])
    assert {w["user"]["display_name"] for w in body["items"]} == {"Max", "Ada"}
    assert body["next_cursor"] is None


async def test_assigning_and_commenting_make_people_watch(team: Team) -> None:
    task = await new_task(team, team.member)
    url = f"{team.tasks_url}/{task['id']}"

    await team.member.client.patch(url, json={"assignee_ids": [team.owner.id]})
    await team.admin.client.post(f"{url}/comments", json={"body": "Looking"})

    assert sorted(await watcher_ids(team, task, team.viewer)) == sorted(
        [team.member.id, team.owner.id, team.admin.id]
    )


async def test_put_and_delete_me_watch_and_unwatch(team: Team) -> None:
    task = await new_task(team, team.member)
    url = f"{team.tasks_url}/{task['id']}/watchers/me"

    first = await team.viewer.client.put(url)
    again = await team.viewer.client.put(url)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == {"task_id": task["id"], "watching": True}
    assert (await watcher_ids(team, task, team.viewer)).count(team.viewer.id) == 1

    gone = await team.viewer.client.delete(url)
    assert gone.status_code == 204
    assert team.viewer.id not in await watcher_ids(team, task, team.viewer)
    assert (await team.viewer.client.delete(url)).status_code == 204  # idempotent


async def test_watchers_page_with_a_cursor(team: Team) -> None:
    task = await new_task(team, team.member)
    for actor in (team.owner, team.admin, team.viewer):
        await actor.client.put(f"{team.tasks_url}/{task['id']}/watchers/me")

    first = (await team.viewer.client.get(f"{team.tasks_url}/{task['id']}/watchers?limit=2")).json()
    second = (
        await team.viewer.client.get(
            f"{team.tasks_url}/{task['id']}/watchers", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()

    ids = [w["user"]["id"] for w in first["items"] + second["items"]]
    assert ids == [team.member.id, team.owner.id, team.admin.id, team.viewer.id]  # oldest first
    assert second["next_cursor"] is None


async def test_an_outsider_gets_404_everywhere(team: Team, problem: Problem) -> None:
    task = await new_task(team, team.member)
    url = f"{team.tasks_url}/{task['id']}/watchers"

    problem(await team.outsider.client.get(url), 404, "PROJECT_NOT_FOUND")
    problem(await team.outsider.client.put(f"{url}/me"), 404, "PROJECT_NOT_FOUND")
    problem(await team.outsider.client.delete(f"{url}/me"), 404, "PROJECT_NOT_FOUND")
    problem(await team.member.client.get(f"{team.tasks_url}/{'0' * 24}/watchers"), 404, "TASK_NOT_FOUND")


async def test_a_global_admin_outside_the_project_sees_watchers_but_cannot_watch(
    team: Team,
    users: UserFactory,
    problem: Problem,
) -> None:
    admin = await users.create(role="admin")
    task = await new_task(team, team.member)

    assert (await admin.client.get(f"{team.tasks_url}/{task['id']}/watchers")).status_code == 200
    problem(await admin.client.put(f"{team.tasks_url}/{task['id']}/watchers/me"), 403, "INSUFFICIENT_ROLE")


async def test_a_removed_member_is_no_longer_listed(team: Team) -> None:
    task = await new_task(team, team.member)
    await team.viewer.client.put(f"{team.tasks_url}/{task['id']}/watchers/me")

    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")

    assert await watcher_ids(team, task, team.member) == [team.member.id]


async def test_watching_changes_neither_the_tasks_etag_nor_its_activity(team: Team) -> None:
    task = await new_task(team, team.member)
    url = f"{team.tasks_url}/{task['id']}"
    etag = (await team.viewer.client.get(url)).headers["etag"]

    await team.viewer.client.put(f"{url}/watchers/me")

    assert (await team.viewer.client.get(url)).headers["etag"] == etag
    assert len((await team.viewer.client.get(f"{url}/activity")).json()["items"]) == 1
