"""Stream tickets: a browser's EventSource opens the project stream without an Authorization header."""

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.resources import resources_of
from backend.testing import Actor, Team
from tests.activity.test_stream import live_team, next_events, personal_token, served, wait_connected

__all__ = ["live_team", "served"]  # fixtures, imported to be found here


async def ticket_for(http: httpx.AsyncClient, team: Team, who: Actor) -> dict[str, Any]:
    """A ticket asked for through the live server, as a browser's page would (its URL names it)."""
    response = await http.post(f"{team.project_url}/events/tickets", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_ticket_opens_its_stream_without_authorization(
    live_team: tuple[Team, httpx.AsyncClient],
) -> None:
    team, http = live_team
    ticket = await ticket_for(http, team, team.viewer)
    url = httpx.URL(ticket["url"])  # absolute: a frontend on another origin opens it as it is
    assert (url.scheme, url.host, url.port) == (http.base_url.scheme, http.base_url.host, http.base_url.port)
    assert url.path == f"{team.project_url}/events"
    assert url.params["ticket"] == ticket["ticket"]

    async with http.stream("GET", ticket["url"]) as stream:  # no Authorization, as from EventSource
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        await wait_connected(lines)
        await team.member.client.post(team.tasks_url, json={"title": "Seen through a ticket"})
        (event,) = await next_events(lines, 1)

    assert event["event"] == "task.created"
    assert json.loads(event["data"])["target"]["key"] == "WEB-1"


async def test_last_event_id_in_the_query_resumes_a_new_event_source(
    live_team: tuple[Team, httpx.AsyncClient],
) -> None:
    team, http = live_team
    first = (await team.member.client.post(team.tasks_url, json={"title": "one"})).json()
    await team.member.client.post(team.tasks_url, json={"title": "two"})
    activity = (
        await team.member.client.get(f"{team.project_url}/activity", params={"verb": "task.created"})
    ).json()
    first_event = next(a["id"] for a in activity["items"] if a["target"]["id"] == first["id"])
    ticket = await ticket_for(http, team, team.viewer)

    async with http.stream("GET", f"{ticket['url']}&last_event_id={first_event}") as stream:
        assert stream.status_code == 200
        (missed,) = await next_events(stream.aiter_lines(), 1)

    assert json.loads(missed["data"])["target"]["key"] == "WEB-2"


async def refused(http: httpx.AsyncClient, url: str, **kwargs: Any) -> dict[str, Any]:
    response = await http.get(url, **kwargs)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body: dict[str, Any] = response.json()
    return body


async def test_a_ticket_opens_nothing_else(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    ticket = (await ticket_for(http, team, team.viewer))["ticket"]
    other = (await team.owner.client.post("/api/v1/projects", json={"name": "Other", "key": "OTH"})).json()
    await team.owner.client.post(f"/api/v1/projects/{other['id']}/members", json={"user_id": team.viewer.id})

    # Another stream the same person may see, any other operation, and as a bearer token: refused.
    other_stream = await refused(http, f"/api/v1/projects/{other['id']}/events", params={"ticket": ticket})
    assert other_stream["error_code"] == "INVALID_TOKEN"
    listed = await refused(http, team.tasks_url, params={"ticket": ticket})
    assert listed["error_code"] == "INVALID_TOKEN"
    as_bearer = await refused(
        http, f"{team.project_url}/events", headers={"Authorization": f"Bearer {ticket}"}
    )
    assert as_bearer["error_code"] == "INVALID_TOKEN"
    forged = await refused(http, f"{team.project_url}/events", params={"ticket": ticket[:-2] + "xx"})
    assert forged["error_code"] == "INVALID_TOKEN"


async def test_ending_the_session_refuses_its_tickets(live_team: tuple[Team, httpx.AsyncClient]) -> None:
    team, http = live_team
    ticket = await ticket_for(http, team, team.viewer)
    async with http.stream("GET", ticket["url"]) as stream:
        assert stream.status_code == 200
    logout = await team.viewer.client.post(
        "/api/v1/auth/logout", json={"refresh_token": team.viewer.refresh_token}
    )
    assert logout.status_code == 204

    assert (await refused(http, ticket["url"]))["error_code"] == "INVALID_TOKEN"


async def test_a_personal_access_token_gets_a_ticket_its_revocation_refuses(
    live_team: tuple[Team, httpx.AsyncClient],
) -> None:
    team, http = live_team
    token_id, pat = await personal_token(team.viewer, "board")
    ticket = (await http.post(f"{team.project_url}/events/tickets", headers=pat)).json()
    async with http.stream("GET", ticket["url"]) as stream:
        assert stream.status_code == 200

    await team.viewer.client.delete(f"/api/v1/users/me/tokens/{token_id}")

    assert (await refused(http, ticket["url"]))["error_code"] == "INVALID_TOKEN"


async def test_an_expired_ticket_is_refused(
    live_team: tuple[Team, httpx.AsyncClient], served: tuple[FastAPI, Any]
) -> None:
    team, http = live_team
    tickets = resources_of(served[0]).stream_tickets
    tickets.ttl = timedelta(seconds=-1)
    ticket = await ticket_for(http, team, team.viewer)

    assert (await refused(http, ticket["url"]))["error_code"] == "INVALID_TOKEN"


@pytest.mark.parametrize("who", ["outsider", "nobody"])
async def test_only_those_who_see_the_project_get_a_ticket(
    live_team: tuple[Team, httpx.AsyncClient], who: str
) -> None:
    team, http = live_team
    client = team.outsider.client if who == "outsider" else http
    response = await client.post(f"{team.project_url}/events/tickets")

    assert response.status_code == (404 if who == "outsider" else 401)
