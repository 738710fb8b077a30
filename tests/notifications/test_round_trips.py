"""Notifying costs the same round trips for 1 person as for 20 (one insert_many), and the unread
count is one round trip."""

from typing import Any

from beanie import PydanticObjectId
from fastapi import FastAPI

from backend.resources import resources_of
from backend.testing import Actor, CommandLog, Team, UserFactory, access_following
from tests.notifications.helpers import new_task, unread_of


async def watched_by(team: Team, users: UserFactory, count: int) -> tuple[dict[str, Any], list[Actor]]:
    """A task watched by `count` members besides its creator (Max)."""
    task = await new_task(team, team.member)
    watchers = []
    for _ in range(count):
        person = await users.create()
        added = await team.owner.client.post(f"{team.project_url}/members", json={"user_id": person.id})
        assert added.status_code == 201, added.text
        assert (await person.client.put(f"{team.tasks_url}/{task['id']}/watchers/me")).status_code == 200
        watchers.append(person)
    return task, watchers


async def commands_of_a_comment(
    app: FastAPI, team: Team, task: dict[str, Any], mongo_commands: CommandLog
) -> list[tuple[str, dict[str, Any]]]:
    url = f"{team.tasks_url}/{task['id']}/comments"
    await team.admin.client.post(url, json={"body": "warm"})  # the commenter watches from now on
    await access_following(app)
    mongo_commands.clear()
    response = await team.admin.client.post(url, json={"body": "Found it"})
    assert response.status_code == 201
    return list(mongo_commands.commands)


async def test_a_comment_telling_20_watchers_costs_what_telling_1_does(
    app: FastAPI, team: Team, users: UserFactory, mongo_commands: CommandLog
) -> None:
    one_task, _ = await watched_by(team, users, 1)
    one = await commands_of_a_comment(app, team, one_task, mongo_commands)
    many_task, watchers = await watched_by(team, users, 20)
    many = await commands_of_a_comment(app, team, many_task, mongo_commands)

    assert [name for name, _ in many] == [name for name, _ in one], many
    inserts = [c for name, c in many if name == "insert" and c["insert"] == "notifications"]
    assert len(inserts) == 1
    assert [await unread_of(w) for w in watchers] == [2] * 20  # the warm-up comment and this one


async def test_a_status_change_telling_20_watchers_costs_what_telling_1_does(
    app: FastAPI, team: Team, users: UserFactory, mongo_commands: CommandLog
) -> None:
    counts = []
    for size in (1, 20):
        task, _ = await watched_by(team, users, size)
        # The admin's session and the project's member map known, as for every request but the first.
        await team.admin.client.get(f"{team.tasks_url}/{task['id']}?warm={size}")
        await access_following(app)
        mongo_commands.clear()
        response = await team.admin.client.patch(f"{team.tasks_url}/{task['id']}", json={"status": "done"})
        assert response.status_code == 200
        notifying = [n for n, c in mongo_commands.commands if c.get(n) in ("notifications", "task_watchers")]
        assert notifying == ["find", "insert"]  # the watchers, the notifications
        counts.append([(name, c.get(name)) for name, c in mongo_commands.commands])
    assert counts[0] == counts[1], counts


async def test_the_unread_count_is_one_round_trip(
    app: FastAPI, team: Team, users: UserFactory, mongo_commands: CommandLog
) -> None:
    other = (await team.owner.client.post("/api/v1/projects", json={"name": "Other", "key": "OTH"})).json()
    await team.owner.client.post(f"/api/v1/projects/{other['id']}/members", json={"user_id": team.viewer.id})
    for url in (team.tasks_url, f"/api/v1/projects/{other['id']}/tasks"):
        await team.owner.client.post(url, json={"title": "x", "assignee_ids": [team.viewer.id]})
    assert await unread_of(team.viewer) == 2  # the member maps are now known to the process
    await access_following(app)
    mongo_commands.clear()

    assert await unread_of(team.viewer) == 2

    assert [name for name, _ in mongo_commands.commands] == ["aggregate"], mongo_commands.commands


async def test_member_maps_not_kept_are_read_in_one_query(
    app: FastAPI, team: Team, mongo_commands: CommandLog
) -> None:
    projects = []
    for i in range(8):
        project = (
            await team.owner.client.post("/api/v1/projects", json={"name": f"P{i}", "key": f"PK{i}"})
        ).json()
        await team.owner.client.post(
            f"/api/v1/projects/{project['id']}/members", json={"user_id": team.viewer.id}
        )
        await team.owner.client.post(
            f"/api/v1/projects/{project['id']}/tasks", json={"title": "x", "assignee_ids": [team.viewer.id]}
        )
        projects.append(project)
    assert await unread_of(team.viewer) == 8
    await access_following(app)
    facts = resources_of(app).access_facts
    for project in projects:  # as after a change to each, or in a new process
        facts.forget_project(PydanticObjectId(project["id"]))
    mongo_commands.clear()

    assert await unread_of(team.viewer) == 8

    assert [(name, c.get(name)) for name, c in mongo_commands.commands] == [
        ("aggregate", "notifications"),
        ("find", "projects"),
    ]
