"""Your live stream of notifications, served by uvicorn (a stream needs a real server)."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from backend.testing import Team
from tests.activity.test_stream import live_team, next_events, served, wait_connected

__all__ = ["live_team", "served"]  # fixtures, imported to be found here
EVENTS = "/api/v1/users/me/events"


def data(event: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(event["data"])
    return parsed


async def opened(lines: AsyncIterator[str]) -> int:
    """Waits for the stream's first event, the unread count, and returns it."""
    (first,) = await next_events(lines, 1)
    assert first["event"] == "unread_count"
    assert "id" not in first  # the browser keeps the last notification's id
    unread: int = data(first)["unread"]
    return unread


async def test_new_notifications_arrive_with_the_unread_count(
    live_team: tuple[Team, httpx.AsyncClient],
) -> None:
    team, http = live_team
    async with http.stream("GET", EVENTS, headers=team.viewer.headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        await wait_connected(lines)
        assert await opened(lines) == 0

        await team.member.client.post(
            team.tasks_url, json={"title": "Live", "assignee_ids": [team.viewer.id]}
        )
        (event,) = await next_events(lines, 1)

    assert event["event"] == "notification"
    body = data(event)
    assert body["unread"] == 1
    assert body["notification"]["kind"] == "assigned"
    assert body["notification"]["task_key"] == "WEB-1"
    assert body["notification"]["actor"]["display_name"] == "Max"
    assert event["id"] == body["notification"]["id"]


async def test_reading_sends_the_new_count(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    await team.member.client.post(team.tasks_url, json={"title": "a", "assignee_ids": [team.viewer.id]})
    async with http.stream("GET", EVENTS, headers=team.viewer.headers) as stream:
        lines = stream.aiter_lines()
        assert await opened(lines) == 1

        await team.viewer.client.post(
            "/api/v1/users/me/notifications/read", json={"up_to": "2100-01-01T00:00:00Z"}
        )
        (event,) = await next_events(lines, 1)

    assert (event["event"], data(event)) == ("unread_count", {"notification": None, "unread": 0})


async def test_a_removed_member_gets_nothing_more_of_that_project(
    live_team: tuple[Team, httpx.AsyncClient],
) -> None:
    team, http = live_team
    other = (await team.owner.client.post("/api/v1/projects", json={"name": "Other", "key": "OTH"})).json()
    await team.owner.client.post(f"/api/v1/projects/{other['id']}/members", json={"user_id": team.viewer.id})
    task = (
        await team.member.client.post(team.tasks_url, json={"title": "a", "assignee_ids": [team.viewer.id]})
    ).json()
    await team.viewer.client.put(f"{team.tasks_url}/{task['id']}/watchers/me")
    async with http.stream("GET", EVENTS, headers=team.viewer.headers) as stream:
        lines = stream.aiter_lines()
        assert await opened(lines) == 1

        await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")
        (dropped,) = await next_events(lines, 1)  # the count leaves the project out, unasked
        await team.member.client.post(f"{team.tasks_url}/{task['id']}/comments", json={"body": "secret"})
        await team.owner.client.post(
            f"/api/v1/projects/{other['id']}/tasks", json={"title": "b", "assignee_ids": [team.viewer.id]}
        )
        (after,) = await next_events(lines, 1)

    assert (dropped["event"], data(dropped)["unread"]) == ("unread_count", 0)
    assert after["event"] == "notification"  # the other project's, not the secret comment
    assert data(after)["notification"]["task_key"] == "OTH-1"
    assert data(after)["unread"] == 1


async def test_regained_access_raises_the_count(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    await team.member.client.post(team.tasks_url, json={"title": "a", "assignee_ids": [team.viewer.id]})
    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")
    async with http.stream("GET", EVENTS, headers=team.viewer.headers) as stream:
        lines = stream.aiter_lines()
        assert await opened(lines) == 0

        await team.owner.client.post(f"{team.project_url}/members", json={"user_id": team.viewer.id})
        (back,) = await next_events(lines, 1)  # within an access check, unasked

    assert (back["event"], data(back)) == ("unread_count", {"notification": None, "unread": 1})


async def test_last_event_id_resumes_missed_notifications(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    for title in ("one", "two", "three"):
        await team.member.client.post(team.tasks_url, json={"title": title, "assignee_ids": [team.viewer.id]})
    items = (await team.viewer.client.get("/api/v1/users/me/notifications")).json()["items"]
    first = items[-1]["id"]

    async with http.stream("GET", EVENTS, headers={**team.viewer.headers, "Last-Event-ID": first}) as stream:
        missed = await next_events(stream.aiter_lines(), 3)

    assert [e["event"] for e in missed] == ["notification", "notification", "unread_count"]
    assert [data(e)["notification"]["task_key"] for e in missed[:2]] == ["WEB-2", "WEB-3"]


async def test_a_ticket_opens_the_stream_from_a_browser(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    ticket = (await http.post(f"{EVENTS}/tickets", headers=team.viewer.headers)).json()
    assert httpx.URL(ticket["url"]).path == EVENTS

    async with http.stream("GET", ticket["url"]) as stream:  # no Authorization, as from EventSource
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        assert await opened(lines) == 0
        await team.member.client.post(team.tasks_url, json={"title": "x", "assignee_ids": [team.viewer.id]})
        (event,) = await next_events(lines, 1)
    assert event["event"] == "notification"

    # The ticket opens this stream only, for its owner.
    project_stream = await http.get(f"{team.project_url}/events", params={"ticket": ticket["ticket"]})
    assert project_stream.status_code == 401


async def test_ending_the_session_closes_the_stream(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    async with http.stream("GET", EVENTS, headers=team.viewer.headers) as stream:
        lines = stream.aiter_lines()
        await opened(lines)
        await team.viewer.client.post(
            "/api/v1/auth/logout", json={"refresh_token": team.viewer.refresh_token}
        )
        rest = [line async for line in lines]  # ends: the server closed the stream
    assert not any(line.startswith("event:") for line in rest), rest


async def test_anonymous_gets_401(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    _, http = live_team
    assert (await http.get(EVENTS)).status_code == 401


async def test_every_event_has_what_the_contract_requires(
    served: tuple[FastAPI, httpx.AsyncClient], live_team: tuple[Team, httpx.AsyncClient]
) -> None:
    (app, _), (team, http) = served, live_team
    stream_answer = app.openapi()["paths"][EVENTS]["get"]["responses"]["200"]["content"]["text/event-stream"]
    required = stream_answer["x-item-schema"]["required"]
    async with http.stream("GET", EVENTS, headers=team.viewer.headers) as stream:
        lines = stream.aiter_lines()
        (count,) = await next_events(lines, 1)  # an `unread_count` event: no id on the wire
        await team.member.client.post(team.tasks_url, json={"title": "a", "assignee_ids": [team.viewer.id]})
        (told,) = await next_events(lines, 1)

    for event in (count, told):
        assert set(required) <= event.keys(), (required, event)
    assert "id" in told
