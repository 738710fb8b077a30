"""Database work per request does not grow: round trips are counted, and page 200 of a list is
read exactly as page 1 is (a range on the sort key from the cursor, a limit, never a skip)."""

import uuid
from typing import Any

import pytest
from bson import ObjectId
from fastapi import FastAPI

from backend.core.storage.redis import RedisClient
from backend.testing import CommandLog, Team, mirror_following, real_servers


def uncached(url: str) -> str:
    """The URL with a unique, ignored parameter: a cache miss, so the database is asked."""
    return f"{url}{'&' if '?' in url else '?'}_budget={uuid.uuid4().hex}"


async def warm(team: Team) -> dict[str, Any]:
    """A task with assignees (so names are loaded), and the caller's account, the project's member map
    and the task's generation already known, as they are for every request but a client's first and
    the first read after a change."""
    task: dict[str, Any] = (
        await team.member.client.post(
            team.tasks_url, json={"title": "Budget", "assignee_ids": [team.member.id, team.admin.id]}
        )
    ).json()
    await team.member.client.get(uncached(team.tasks_url))
    await team.member.client.get(uncached(f"{team.tasks_url}/{task['id']}"))
    return task


async def test_get_task_takes_at_most_two_round_trips(team: Team, mongo_commands: CommandLog) -> None:
    task = await warm(team)
    mongo_commands.clear()

    response = await team.member.client.get(uncached(f"{team.tasks_url}/{task['id']}"))

    assert response.status_code == 200
    assert response.headers["x-cache"] == "MISS"
    assert len(mongo_commands.commands) <= 2, mongo_commands.commands


async def test_one_task_is_read_by_id_alone(team: Team, mongo_commands: CommandLog) -> None:
    """The shape every server answers fastest, from the _id index: the project and the deletion
    are checked in the process (SecantusDB scanned the collection for {_id, project_id, ...})."""
    task = await warm(team)
    mongo_commands.clear()

    response = await team.member.client.get(uncached(f"{team.tasks_url}/{task['id']}"))

    assert response.status_code == 200
    finds = [command for name, command in mongo_commands.commands if name == "find"]
    assert [(f["find"], f["filter"]) for f in finds] == [("tasks", {"_id": ObjectId(task["id"])})], finds


async def test_a_task_is_read_by_its_key_through_the_unique_index_alone(
    team: Team, mongo_commands: CommandLog
) -> None:
    """{project_id, number}, the unique index's fields and nothing more: SecantusDB uses a compound
    index only for exactly its leading fields, and read all of the project's tasks for
    {project_id, number, deleted_at} (230 ms against 2 ms). The deletion is checked in the process."""
    task = await warm(team)
    mongo_commands.clear()

    response = await team.member.client.get(f"/api/v1/tasks/{task['key']}")

    assert response.status_code == 200
    finds = [(f["find"], f["filter"]) for name, f in mongo_commands.commands if name == "find"]
    by_number = {"project_id": ObjectId(team.project["id"]), "number": task["number"]}
    assert ("tasks", by_number) in finds, finds


async def test_another_projects_task_is_not_found_by_its_id(team: Team) -> None:
    task = await warm(team)
    other = (await team.outsider.client.post("/api/v1/projects", json={"name": "Other", "key": "OTH"})).json()

    response = await team.outsider.client.get(f"/api/v1/projects/{other['id']}/tasks/{task['id']}")

    assert response.status_code == 404
    assert response.json()["error_code"] == "TASK_NOT_FOUND"


@pytest.mark.parametrize("limit", [1, 100])
async def test_list_takes_at_most_three_round_trips(
    team: Team, mongo_commands: CommandLog, limit: int
) -> None:
    await warm(team)
    for i in range(5):
        await team.member.client.post(
            team.tasks_url, json={"title": f"t{i}", "assignee_ids": [team.member.id]}
        )
    await team.member.client.get(uncached(team.tasks_url))
    mongo_commands.clear()

    response = await team.member.client.get(uncached(f"{team.tasks_url}?limit={limit}&include_total=true"))

    assert response.status_code == 200
    assert len(mongo_commands.commands) <= 3, mongo_commands.commands


@pytest.mark.parametrize(
    # With labels, one more: the catalogue learns those it lacks (one unordered insert for all).
    ("labels", "budget"),
    [([], 4), (["x", "y"], 5)],
)
async def test_create_takes_at_most_four_round_trips_and_one_more_with_labels(
    team: Team, mongo_commands: CommandLog, labels: list[str], budget: int
) -> None:
    await warm(team)
    mongo_commands.clear()

    response = await team.member.client.post(
        team.tasks_url, json={"title": "Counted", "assignee_ids": [team.member.id], "labels": labels}
    )

    assert response.status_code == 201
    assert len(mongo_commands.commands) <= budget, mongo_commands.commands


async def test_cache_hit_takes_no_round_trip(team: Team, mongo_commands: CommandLog) -> None:
    task = await warm(team)
    url = f"{team.tasks_url}/{task['id']}"
    await team.member.client.get(url)
    mongo_commands.clear()

    response = await team.member.client.get(url)

    assert response.headers["x-cache"] == "HIT"
    assert mongo_commands.commands == []


def count_redis_commands(redis: RedisClient, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    commands: list[tuple[Any, ...]] = []
    send = redis.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        commands.append(args[:2])
        return await send(*args, **options)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(redis, "execute_command", counted)
    return commands


async def test_a_hot_cache_hit_asks_redis_nothing(
    team: Team, redis: RedisClient, monkeypatch: pytest.MonkeyPatch, app: FastAPI
) -> None:
    if real_servers():
        await mirror_following(app)
    task = await warm(team)
    url = f"{team.tasks_url}/{task['id']}"
    await team.member.client.get(url)
    await team.member.client.get(url)  # the member map and the answer are now hot in the process
    commands = count_redis_commands(redis, monkeypatch)

    response = await team.member.client.get(url)

    assert response.headers["x-cache"] == "HIT"
    # On Redis the process follows the logout mark, account and generations (core/mirror.py) and
    # counts the request towards the shared rate limit itself, adding it to Redis later in one batch
    # for all requests (core/shared_windows.py). In memory the limiter and cache are in process.
    assert commands == []


async def test_a_miss_takes_two_redis_round_trips_at_most(
    team: Team, redis: RedisClient, monkeypatch: pytest.MonkeyPatch, app: FastAPI
) -> None:
    if real_servers():
        await mirror_following(app)
    task = await warm(team)
    commands = count_redis_commands(redis, monkeypatch)

    response = await team.member.client.get(uncached(f"{team.tasks_url}/{task['id']}"))

    assert response.headers["x-cache"] == "MISS"
    # One look at the entry and storing the answer. Generations and assignees' names are followed in
    # process (core/caching/mirror.py), the caller's access from MongoDB's change stream; the route
    # does not look at the entry again (nine round trips once, then five, then three).
    assert len(commands) <= (2 if real_servers() else 0), commands


def _shape(value: Any) -> Any:
    """The structure of a command with its values blanked: what the server is asked to do."""
    if isinstance(value, dict):
        return {
            k: _shape(v) for k, v in value.items() if k not in ("lsid", "$clusterTime", "$db", "txnNumber")
        }
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


@pytest.mark.real_servers
async def test_page_200_is_read_like_page_2(team: Team, mongo_commands: CommandLog) -> None:
    for i in range(201):
        await team.member.client.post(team.tasks_url, json={"title": f"t{i}"})

    for sort in ("-created_at", "number", "due_at"):
        finds: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 1, "sort": sort}
        for _ in range(200):
            mongo_commands.clear()
            page = (await team.member.client.get(uncached(team.tasks_url), params=params)).json()
            finds.append(
                next(c for name, c in mongo_commands.commands if name == "find" and c["find"] == "tasks")
            )
            params["cursor"] = page["next_cursor"]

        second, last = finds[1], finds[199]
        for command in (second, last):
            assert command["limit"] == 2
            assert "skip" not in command
            keyset = command["filter"]["$and"][1]["$or"]
            assert any(sort.removeprefix("-") in branch for branch in keyset), sort
        assert _shape(last) == _shape(second), sort
