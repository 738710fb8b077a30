"""The response cache never serves a stale or foreign answer, and shares work between callers."""

import asyncio
import random
import uuid
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from bson import ObjectId
from fastapi import FastAPI
from pymongo.errors import AutoReconnect

from backend.activity.repository import ActivityRepository
from backend.core.storage.db import Database
from backend.resources import resources_of
from backend.tasks.service import TaskService
from backend.testing import Actor, Team, problem


def cached_urls(team: Team, task_id: str) -> list[str]:
    return [
        f"{team.tasks_url}/{task_id}",
        team.tasks_url,
        f"{team.tasks_url}?status=todo&sort=number",
        f"{team.tasks_url}?assignee=me",
        f"{team.tasks_url}?q=alpha&include_total=true",
        f"{team.project_url}/stats?days=7",
        f"{team.project_url}/activity",
        f"{team.tasks_url}/{task_id}/activity",
        f"{team.project_url}/members",
        f"{team.project_url}/labels",
        f"{team.project_url}/labels?q=al",
    ]


async def read_twice(actor: Actor, url: str) -> tuple[httpx.Response, httpx.Response]:
    """The normal (maybe cached) answer, and one computed afresh: an unknown query parameter is
    ignored by the endpoint but changes the cache key."""
    oracle_url = f"{url}{'&' if '?' in url else '?'}_oracle={uuid.uuid4().hex}"
    return await actor.client.get(url), await actor.client.get(oracle_url)


async def test_random_writes_are_always_visible_to_the_next_read(team: Team) -> None:
    rng = random.Random(42)
    tasks = [
        (await team.member.client.post(team.tasks_url, json={"title": f"alpha {i}"})).json() for i in range(3)
    ]
    comments: list[str] = []

    async def write() -> None:
        task = rng.choice(tasks)
        url = f"{team.tasks_url}/{task['id']}"
        kind = rng.choice(
            ["create", "update", "bulk", "comment", "edit", "uncomment", "member", "project", "delete"]
        )
        if kind == "create":
            tasks.append((await team.member.client.post(team.tasks_url, json={"title": "alpha new"})).json())
        elif kind == "update":
            await team.member.client.patch(
                url, json={"status": rng.choice(["todo", "done"]), "assignee_ids": [team.member.id]}
            )
        elif kind == "bulk":
            ids = [t["id"] for t in rng.sample(tasks, min(2, len(tasks)))]
            await team.member.client.post(
                f"{team.tasks_url}/bulk-update", json={"ids": ids, "set": {"priority": rng.randrange(5)}}
            )
        elif kind == "comment":
            made = await team.member.client.post(f"{url}/comments", json={"body": "c"})
            comments.append(f"{url}/comments/{made.json()['id']}")
        elif kind == "edit" and comments:
            await team.member.client.patch(rng.choice(comments), json={"body": f"edited {rng.random()}"})
        elif kind == "uncomment" and comments:
            await team.member.client.delete(comments.pop())
        elif kind == "member":
            path = f"{team.project_url}/members/{team.viewer.id}"
            await team.owner.client.patch(path, json={"role": rng.choice(["viewer", "member"])})
        elif kind == "project":
            await team.owner.client.patch(team.project_url, json={"description": f"d{rng.random()}"})
        elif kind == "delete" and len(tasks) > 1:
            gone = tasks.pop(rng.randrange(1, len(tasks)))
            await team.member.client.delete(f"{team.tasks_url}/{gone['id']}")

    hits = reads = 0
    for _ in range(80):
        for url in rng.sample(cached_urls(team, tasks[0]["id"]), 5):
            reader = rng.choice([team.member, team.admin])
            cached, fresh = await read_twice(reader, url)
            assert cached.status_code == fresh.status_code == 200, (url, cached.text)
            assert cached.json() == fresh.json(), url
            assert cached.headers["etag"] == fresh.headers["etag"], url
            hits += cached.headers["x-cache"] == "HIT"
            reads += 1
        if rng.random() < 0.4:
            await write()

    assert hits > reads // 5  # the cache was really in the way of these reads


async def test_a_write_ends_only_the_answers_that_can_show_it(team: Team) -> None:
    made = [(await team.member.client.post(team.tasks_url, json={"title": f"t{i}"})).json() for i in range(2)]
    quiet, changed = (f"{team.tasks_url}/{task['id']}" for task in made)
    urls = {
        "quiet task": quiet,
        "quiet task's activity": f"{quiet}/activity",
        "changed task": changed,
        "changed task's activity": f"{changed}/activity",
        "list": team.tasks_url,
        "stats": f"{team.project_url}/stats",
        "project activity": f"{team.project_url}/activity",
    }
    for url in urls.values():
        await team.member.client.get(url)

    await team.member.client.patch(changed, json={"status": "done"})
    after_update = {
        name: (await team.member.client.get(url)).headers["x-cache"] for name, url in urls.items()
    }
    await team.member.client.post(f"{quiet}/comments", json={"body": "on the quiet one"})
    after_comment = {
        name: (await team.member.client.get(url)).headers["x-cache"] for name, url in urls.items()
    }

    assert after_update == {
        "quiet task": "HIT",  # the project was written to, but not this task
        "quiet task's activity": "HIT",
        "changed task": "MISS",
        "changed task's activity": "MISS",
        "list": "MISS",
        "stats": "MISS",
        "project activity": "MISS",
    }
    assert after_comment == {
        "quiet task": "MISS",  # its activity changed, and a task's answers share its generation
        "quiet task's activity": "MISS",
        "changed task": "HIT",
        "changed task's activity": "HIT",
        "list": "MISS",
        "stats": "MISS",
        "project activity": "MISS",
    }


async def test_a_change_is_stored_before_the_answers_that_could_lack_it_end(
    app: FastAPI, team: Team, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ending them first would let a read in between cache the old activity under the new generation.
    task = (await team.member.client.post(team.tasks_url, json={"title": "t"})).json()
    generations = resources_of(app).stores.generations
    bump = generations.bump
    stored_at_bump: list[int] = []

    async def counting(project_id: object, tasks: Iterable[object] = ()) -> None:
        of_task = {"project_id": ObjectId(team.project["id"]), "task_id": ObjectId(task["id"])}  # indexed
        stored_at_bump.append(await db["activity"].count_documents(of_task))
        await bump(project_id, tasks)

    monkeypatch.setattr(generations, "bump", counting)
    url = f"{team.tasks_url}/{task['id']}"
    await team.member.client.patch(url, json={"status": "done"})
    await team.member.client.post(f"{url}/comments", json={"body": "c"})
    await team.member.client.post(
        f"{team.tasks_url}/bulk-update", json={"ids": [task["id"]], "set": {"priority": 4}}
    )
    await team.owner.client.patch(team.project_url, json={"description": "d"})

    # Updated, commented on, bulk-updated, then a change to the project: each stored before the bump.
    assert stored_at_bump == [2, 3, 4, 4]


async def test_hit_miss_headers_and_conditional_get(team: Team) -> None:
    task = (await team.member.client.post(team.tasks_url, json={"title": "x"})).json()
    url = f"{team.tasks_url}/{task['id']}"

    miss = await team.member.client.get(url)
    hit = await team.member.client.get(url)
    not_modified = await team.member.client.get(url, headers={"If-None-Match": hit.headers["etag"]})

    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT")
    assert hit.headers["cache-control"] == "private"
    assert hit.content == miss.content
    assert miss.headers["etag"] == hit.headers["etag"] == '"v1"'
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    list_etag = (await team.member.client.get(team.tasks_url)).headers["etag"]
    assert (
        await team.member.client.get(team.tasks_url, headers={"If-None-Match": list_etag})
    ).status_code == 304


async def test_removed_member_gets_404_on_a_cached_url(team: Team) -> None:
    task = (await team.member.client.post(team.tasks_url, json={"title": "x"})).json()
    url = f"{team.tasks_url}/{task['id']}"
    await team.viewer.client.get(url)
    assert (await team.viewer.client.get(url)).headers["x-cache"] == "HIT"

    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")

    for path in cached_urls(team, task["id"]):
        response = await team.viewer.client.get(path)
        assert response.status_code == 404, path
        assert "x" not in response.json().get("title", "")


async def test_callers_with_different_roles_never_share_an_entry(team: Team) -> None:
    url = team.tasks_url
    await team.viewer.client.get(url)

    as_member = await team.member.client.get(url)
    as_admin = await team.admin.client.get(url)
    again = await team.member.client.get(url)

    assert (as_member.headers["x-cache"], as_admin.headers["x-cache"], again.headers["x-cache"]) == (
        "MISS",
        "MISS",
        "HIT",
    )


async def test_assignee_me_is_never_shared_between_users(team: Team) -> None:
    await team.member.client.post(team.tasks_url, json={"title": "mine", "assignee_ids": [team.member.id]})
    await team.owner.client.patch(f"{team.project_url}/members/{team.admin.id}", json={"role": "member"})

    mine = (await team.member.client.get(team.tasks_url, params={"assignee": "me"})).json()
    theirs = await team.admin.client.get(team.tasks_url, params={"assignee": "me"})

    assert [t["title"] for t in mine["items"]] == ["mine"]
    assert theirs.headers["x-cache"] == "MISS"
    assert theirs.json()["items"] == []


# The task's detail is computed before routing (it declares `load`), its activity by the route.
@pytest.mark.parametrize("suffix", ["", "/activity"], ids=["before routing", "by the route"])
async def test_concurrent_misses_compute_once(
    team: Team, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    task = (await team.member.client.post(team.tasks_url, json={"title": "x"})).json()
    calls = 0
    original = TaskService.get

    async def slow_get(self: TaskService, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)  # let the other requests arrive while this one computes
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(TaskService, "get", slow_get)
    url = f"{team.tasks_url}/{task['id']}{suffix}"

    responses = await asyncio.gather(*(team.member.client.get(url) for _ in range(20)))

    assert calls == 1
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("sort=number&sort=-number", "sort=-number&sort=number"),  # a different order
        ("limit=500&limit=2", "limit=2&limit=500"),  # the route answers 422
        ("include_deleted=true&include_deleted=false", "include_deleted=false&include_deleted=true"),  # 403
    ],
)
async def test_a_repeated_parameter_in_another_order_is_another_answer(
    team: Team, first: str, second: str
) -> None:
    for i in range(3):
        await team.member.client.post(team.tasks_url, json={"title": f"t{i}"})
    await team.member.client.get(f"{team.tasks_url}?{first}")

    cached, fresh = await read_twice(team.member, f"{team.tasks_url}?{second}")

    assert cached.status_code == fresh.status_code
    assert cached.headers.get("x-cache") != "HIT"
    if fresh.status_code == 200:
        assert cached.json()["items"] == fresh.json()["items"]
    else:  # problems differ by their request id only
        assert cached.json()["error_code"] == fresh.json()["error_code"]


async def test_a_stored_change_ends_its_cached_answers_even_when_its_activity_is_not_stored(
    app: FastAPI, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = (await team.member.client.post(team.tasks_url, json={"title": "doomed"})).json()
    url = f"{team.tasks_url}/{task['id']}"
    assert (await team.viewer.client.get(url)).status_code == 200  # now cached

    async def stepped_down(self: ActivityRepository, records: list[object]) -> None:
        raise AutoReconnect("primary stepped down")

    monkeypatch.setattr(ActivityRepository, "insert_many", stepped_down)
    deleted = await team.member.client.delete(url)
    monkeypatch.undo()

    assert deleted.status_code == 503  # the client is told to retry; the delete itself is stored
    problem(await team.viewer.client.get(url), 404, "TASK_NOT_FOUND")
