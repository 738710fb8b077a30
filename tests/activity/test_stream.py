"""The live event stream, served by uvicorn (a stream needs a real server)."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.core.config import Settings
from backend.main import create_app
from backend.testing import Actor, Team, UserFactory, make_team, serve


async def next_events(lines: AsyncIterator[str], count: int, timeout: float = 10) -> list[dict[str, Any]]:
    """The next `count` events of a stream (comments skipped)."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async with asyncio.timeout(timeout):
        async for line in lines:
            if line == "":
                if "data" in current:
                    events.append(current)
                current = {}
                if len(events) == count:
                    return events
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                current[name] = value.removeprefix(" ")
    return events


async def personal_token(actor: Actor, name: str) -> tuple[str, dict[str, str]]:
    """A new personal access token of `actor`: its id, and the headers that send it."""
    created = (await actor.client.post("/api/v1/users/me/tokens", json={"name": name})).json()
    return str(created["id"]), {"Authorization": f"Bearer {created['token']}"}


async def wait_connected(lines: AsyncIterator[str]) -> None:
    async with asyncio.timeout(10):
        async for line in lines:
            if line == ": connected":
                return


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=15) as http:
        yield app, http


@pytest.fixture
async def live_team(
    served: tuple[FastAPI, httpx.AsyncClient],
) -> AsyncIterator[tuple[Team, httpx.AsyncClient]]:
    app, http = served
    users = UserFactory(app, http)
    try:
        yield await make_team(users), http
    finally:
        await users.close()


async def test_member_receives_changes_live(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    async with http.stream("GET", f"{team.project_url}/events", headers=team.viewer.headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        await wait_connected(lines)

        task = (await team.member.client.post(team.tasks_url, json={"title": "Live"})).json()
        await team.member.client.post(f"{team.tasks_url}/{task['id']}/comments", json={"body": "hi"})
        events = await next_events(lines, 2)

    assert [e["event"] for e in events] == ["task.created", "comment.created"]
    data = json.loads(events[0]["data"])
    assert data["target"]["key"] == "WEB-1"
    assert data["actor"]["display_name"] == "Max"
    assert events[0]["id"] == data["id"]


async def test_last_event_id_resumes_each_missed_event_once(
    live_team: tuple[Team, httpx.AsyncClient],
) -> None:
    team, http = live_team
    for i in range(3):
        await team.member.client.post(team.tasks_url, json={"title": f"t{i}"})
    activity = (
        await team.member.client.get(f"{team.project_url}/activity", params={"verb": "task.created"})
    ).json()
    first_id = activity["items"][-1]["id"]  # newest first: the last is WEB-1's

    headers = {**team.viewer.headers, "Last-Event-ID": first_id}
    async with http.stream("GET", f"{team.project_url}/events", headers=headers) as stream:
        lines = stream.aiter_lines()
        missed = await next_events(lines, 2)
        await team.member.client.post(team.tasks_url, json={"title": "after"})
        (live,) = await next_events(lines, 1)

    keys = [json.loads(e["data"])["target"]["key"] for e in [*missed, live]]
    assert keys == ["WEB-2", "WEB-3", "WEB-4"]


async def test_removed_member_stops_receiving(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    async with http.stream("GET", f"{team.project_url}/events", headers=team.viewer.headers) as stream:
        lines = stream.aiter_lines()
        await wait_connected(lines)
        await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")
        await team.member.client.post(team.tasks_url, json={"title": "secret after removal"})
        rest = [line async for line in lines]  # ends: the server closed the stream

    # Nothing after the removal, not even its own record: access is checked before every event.
    assert not any(line.startswith("event:") for line in rest), rest


async def test_non_member_gets_404_not_a_stream(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team

    response = await http.get(f"{team.project_url}/events", headers=team.outsider.headers)

    assert response.status_code == 404
    assert response.json()["error_code"] == "PROJECT_NOT_FOUND"


@pytest.mark.real_servers
async def test_write_through_one_instance_reaches_a_stream_on_another(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    async with (
        serve(first) as first_url,
        serve(second) as second_url,
        httpx.AsyncClient(base_url=first_url, timeout=15) as via_first,
        httpx.AsyncClient(base_url=second_url, timeout=15) as via_second,
    ):
        users = UserFactory(first, via_first)
        team = await make_team(users)
        async with via_second.stream(
            "GET", f"{team.project_url}/events", headers=team.viewer.headers
        ) as stream:
            lines = stream.aiter_lines()
            await wait_connected(lines)
            await via_first.post(team.tasks_url, json={"title": "Across"}, headers=team.member.headers)
            (event,) = await next_events(lines, 1)
        await users.close()

    assert event["event"] == "task.created"


async def test_a_global_admin_outside_the_project_keeps_the_stream(
    served: tuple[FastAPI, httpx.AsyncClient], live_team: tuple[Team, httpx.AsyncClient]
) -> None:
    app, http = served
    team, _ = live_team
    root = await UserFactory(app, http).create(role="admin")
    async with http.stream("GET", f"{team.project_url}/events", headers=root.headers) as stream:
        lines = stream.aiter_lines()
        await wait_connected(lines)
        await asyncio.sleep(2.5)  # past a re-check of access
        await team.member.client.post(team.tasks_url, json={"title": "Seen by the admin"})
        (event,) = await next_events(lines, 1)

    assert event["event"] == "task.created"


async def test_ending_the_session_closes_its_stream(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    async with http.stream("GET", f"{team.project_url}/events", headers=team.viewer.headers) as stream:
        lines = stream.aiter_lines()
        await wait_connected(lines)
        await team.viewer.client.post("/api/v1/auth/logout")
        async with asyncio.timeout(5):  # the stream re-checks access every 2 s
            rest = [line async for line in lines]

    assert not any(line.startswith("event:") for line in rest)


async def test_revoking_a_personal_access_token_closes_its_stream(
    live_team: tuple[Team, httpx.AsyncClient],
) -> None:
    team, http = live_team
    token_id, headers = await personal_token(team.viewer, "bot")
    async with http.stream("GET", f"{team.project_url}/events", headers=headers) as stream:
        lines = stream.aiter_lines()
        await wait_connected(lines)
        await team.viewer.client.delete(f"/api/v1/users/me/tokens/{token_id}")
        await team.member.client.post(team.tasks_url, json={"title": "after the revocation"})
        async with asyncio.timeout(5):
            rest = [line async for line in lines]

    assert not any(line.startswith("event:") for line in rest)


async def test_a_demoted_global_admin_stops_receiving(
    live_team: tuple[Team, httpx.AsyncClient], served: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    """A global admin sees every project; demoted while a stream is open, they see this one no more."""
    team, http = live_team
    users = UserFactory(served[0], http)
    watcher, other_admin = await users.create(role="admin"), await users.create(role="admin")
    async with http.stream("GET", f"{team.project_url}/events", headers=watcher.headers) as stream:
        lines = stream.aiter_lines()
        await wait_connected(lines)
        demoted = await other_admin.client.patch(f"/api/v1/users/{watcher.id}", json={"role": "user"})
        assert demoted.status_code == 200
        await team.member.client.post(team.tasks_url, json={"title": "after the demotion"})
        rest = [line async for line in lines]  # ends: the server closed the stream
    await users.close()

    assert not any(line.startswith("event:") for line in rest), rest
