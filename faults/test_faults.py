"""Faults injected into the real servers while two API processes share them.

Asserted, as a user would see it: no grant after an acknowledged revocation, whatever Redis does
(frozen, killed, restarted empty); only 503s (never a 500) while MongoDB is gone; every write that
was acknowledged is there after MongoDB restarts; and the API recovers without a restart.
"""

import asyncio
import signal
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from faults.conftest import Stack, wait_until

PASSWORD = "correct horse battery"


@dataclass
class Person:
    id: str
    headers: dict[str, str]


def person(base: str) -> Person:
    email = f"p{uuid.uuid4().hex[:10]}@example.com"
    registered = httpx.post(
        f"{base}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": "P"},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}, timeout=10
    ).json()["access_token"]
    return Person(registered.json()["id"], {"Authorization": f"Bearer {token}"})


@dataclass
class Scene:
    owner: Person
    viewer: Person
    project_url: str
    task_url: str


def scene(stack: Stack) -> Scene:
    """A project with its owner and a viewer, whose read of a task is a cache hit on the second API."""
    first, second = stack.url(0), stack.url(1)
    owner, viewer = person(first), person(first)
    key = "F" + uuid.uuid4().hex[:5].upper()
    project = httpx.post(
        f"{first}/api/v1/projects", json={"name": "Faults", "key": key}, headers=owner.headers, timeout=10
    ).json()
    project_url = f"/api/v1/projects/{project['id']}"
    added = httpx.post(
        f"{first}{project_url}/members",
        json={"user_id": viewer.id, "role": "viewer"},
        headers=owner.headers,
        timeout=10,
    )
    assert added.status_code == 201, added.text
    task = httpx.post(
        f"{first}{project_url}/tasks", json={"title": "Secret"}, headers=owner.headers, timeout=10
    ).json()
    task_url = f"{project_url}/tasks/{task['id']}"
    wait_until(
        lambda: (
            httpx.get(f"{second}{task_url}", headers=viewer.headers, timeout=5).headers.get("x-cache")
            == "HIT"
        ),
        10,
        "the viewer's read becoming a cache hit on the second API",
    )
    return Scene(owner, viewer, project_url, task_url)


def grants(stack: Stack, s: Scene, seconds: float) -> list[str]:
    """Every way the removed viewer could get in, on both APIs, for `seconds`: what let them in."""
    let_in: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for index in (0, 1):
            base = stack.url(index)
            attempts = [
                ("GET task", httpx.get(f"{base}{s.task_url}", headers=s.viewer.headers, timeout=15)),
                ("GET list", httpx.get(f"{base}{s.project_url}/tasks", headers=s.viewer.headers, timeout=15)),
            ]
            for what, response in attempts:
                assert response.status_code < 500 or response.status_code == 503, response.text
                if response.status_code < 300:
                    let_in.append(f"{what} on API {index}: {response.status_code}")
        time.sleep(0.1)
    return let_in


def remove_viewer(stack: Stack, s: Scene) -> httpx.Response:
    return httpx.delete(
        f"{stack.url(0)}{s.project_url}/members/{s.viewer.id}", headers=s.owner.headers, timeout=30
    )


def test_a_member_removed_while_redis_is_frozen_never_gets_in_again(stack: Stack) -> None:
    s = scene(stack)
    stack.redis.signal(signal.SIGSTOP)
    try:
        removed = remove_viewer(stack, s)
        assert removed.status_code == 204, removed.text
        assert grants(stack, s, 2) == []
    finally:
        stack.redis.signal(signal.SIGCONT)
    assert grants(stack, s, 3) == []


def test_a_member_removed_while_redis_is_dead_stays_out_when_it_restarts_empty(stack: Stack) -> None:
    s = scene(stack)
    stack.redis.kill()

    removed = remove_viewer(stack, s)
    assert removed.status_code == 204, removed.text
    assert grants(stack, s, 1) == []
    stack.redis.start()
    stack.redis_up()

    assert grants(stack, s, 3) == []


def test_mongodb_killed_under_writes_answers_503_then_recovers_with_nothing_lost(stack: Stack) -> None:
    s = scene(stack)
    acknowledged: list[str] = []
    statuses: dict[int, int] = {}

    async def writer(base: str, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=base, headers=s.owner.headers, timeout=30) as http:
            while not stop.is_set():
                try:
                    response = await http.post(f"{s.project_url}/tasks", json={"title": uuid.uuid4().hex})
                except httpx.TransportError:
                    continue  # no answer is not an acknowledgement
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
                else:
                    await asyncio.sleep(0.05)

    async def run() -> None:
        stop = asyncio.Event()
        writers = [asyncio.create_task(writer(stack.url(i % 2), stop)) for i in range(4)]
        await asyncio.sleep(2)
        stack.mongo.kill()
        await asyncio.sleep(4)  # the APIs keep answering, with 503s
        stack.mongo.start()
        await asyncio.to_thread(stack.mongo_up)
        before = len(acknowledged)
        deadline = time.monotonic() + 60
        while len(acknowledged) < before + 20:  # recovered, without restarting either API
            assert time.monotonic() < deadline, f"no recovery: {statuses}"
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*writers)

    asyncio.run(run())

    assert statuses.get(503, 0) > 0, statuses  # the outage was seen...
    assert set(statuses) <= {201, 503}, statuses  # ...and answered honestly, never with a 500
    stored = all_task_ids(stack, s)
    missing = [task_id for task_id in acknowledged if task_id not in stored]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged writes are gone"


def all_task_ids(stack: Stack, s: Scene) -> set[str]:
    ids: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(
            f"{stack.url(0)}{s.project_url}/tasks", params=params, headers=s.owner.headers, timeout=30
        ).json()
        ids.update(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
