"""The factories make what the API would make: seen by search, lists, activity and the cache."""

import httpx
import pytest

from backend.projects.errors import InsufficientRole
from backend.testing import UserFactory
from backend.testing.factories import Factory


async def test_a_project_with_members_is_what_each_member_sees(users: UserFactory, factory: Factory) -> None:
    olive, vic = await users.create(), await users.create()

    project = await factory.project(olive, members=[(vic, "viewer")], name="Website")

    seen = (await vic.client.get(f"/api/v1/projects/{project['id']}")).json()
    assert (seen["name"], seen["my_role"], seen["member_count"]) == ("Website", "viewer", 2)
    assert project["key"].startswith("P")


async def test_a_task_is_numbered_searchable_and_ends_cached_lists(
    users: UserFactory, factory: Factory
) -> None:
    olive, max_ = await users.create(), await users.create()
    project = await factory.project(olive, members=[(max_, "member")])
    tasks_url = f"/api/v1/projects/{project['id']}/tasks"
    assert (await max_.client.get(tasks_url)).json()["items"] == []  # cached now

    task = await factory.task(
        project, max_, title="Fix the login page", labels=["bug"], assignees=[olive], subtasks=2
    )

    assert task["key"] == f"{project['key']}-1"
    assert task["assignees"][0]["id"] == olive.id
    found = (await max_.client.get(tasks_url, params={"q": "login", "label": "bug"})).json()["items"]
    assert [t["id"] for t in found] == [task["id"]]
    listed = (await max_.client.get(tasks_url)).json()["items"]
    assert len(listed) == 3  # the task and its two subtasks: the cached empty list was ended
    activity = (await olive.client.get(f"/api/v1/projects/{project['id']}/activity")).json()["items"]
    assert "task.created" in [a["verb"] for a in activity]


async def test_roles_are_checked_as_the_route_would(users: UserFactory, factory: Factory) -> None:
    olive, vic = await users.create(), await users.create()
    project = await factory.project(olive, members=[(vic, "viewer")])

    with pytest.raises(InsufficientRole):
        await factory.task(project, vic)


async def test_comments_and_tokens(users: UserFactory, factory: Factory, client: httpx.AsyncClient) -> None:
    olive = await users.create()
    project = await factory.project(olive)
    task = await factory.task(project, olive)

    comment = await factory.comment(task, olive, body="Looks good")
    token = await factory.token(olive)

    comments_url = f"/api/v1/projects/{project['id']}/tasks/{task['id']}/comments"
    listed = (await client.get(comments_url, headers={"Authorization": f"Bearer {token}"})).json()
    assert [c["body"] for c in listed["items"]] == ["Looks good"] == [comment["body"]]
