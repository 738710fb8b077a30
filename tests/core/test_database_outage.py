"""MongoDB unreachable is a 503 with Retry-After, never a 500, wherever the driver gives up: in a
route or while the caller is being authenticated. The real outage (the server killed and restarted)
is exercised by the fault tier (faults/)."""

from typing import Any

import pytest
from fastapi import FastAPI
from pymongo.errors import (
    AutoReconnect,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from backend.access.facts import AccessFacts
from backend.projects.repository import ProjectRepository
from backend.tasks.repository import TaskRepository
from backend.testing import Team, problem
from tests.caching.test_fast_path import from_the_route, loaded_before_routing

FAILURES = [
    ServerSelectionTimeoutError("no servers"),
    AutoReconnect("connection closed"),
    NetworkTimeout("timed out"),
    # The server answered, but cannot serve now.
    OperationFailure("The server is in quiesce mode and will shut down", code=91),
    OperationFailure("Resource temporarily unavailable", code=365),
    ExecutionTimeout("operation exceeded time limit", code=50),
]


def unreachable(exc: Exception) -> Any:
    async def fail(*_: Any, **__: Any) -> Any:
        raise exc

    return fail


@pytest.mark.parametrize("failure", FAILURES, ids=lambda e: f"{type(e).__name__}-{getattr(e, 'code', '')}")
async def test_a_route_answers_503_when_mongodb_is_unreachable(
    team: Team, monkeypatch: pytest.MonkeyPatch, failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ProjectRepository, "by_id", unreachable(failure))

    response = await team.owner.client.patch(team.project_url, json={"name": "Renamed"})

    problem(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"
    assert "Traceback" not in caplog.text


async def test_authentication_answers_503_when_mongodb_is_unreachable(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AccessFacts, "session", unreachable(ServerSelectionTimeoutError("no servers")))

    response = await team.member.client.get(team.tasks_url)

    problem(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"


async def test_it_recovers_without_a_restart(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as outage:
        outage.setattr(AccessFacts, "session", unreachable(AutoReconnect("gone")))
        assert (await team.member.client.get(team.tasks_url)).status_code == 503

    assert (await team.member.client.get(team.tasks_url)).status_code == 200


async def test_a_command_the_server_refuses_for_itself_stays_a_500(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bad command (here: a type mismatch the server reports) is a bug to log, not an outage.
    monkeypatch.setattr(ProjectRepository, "by_id", unreachable(OperationFailure("bad value", code=2)))

    response = await team.owner.client.patch(team.project_url, json={"name": "Renamed"})

    problem(response, 500, "INTERNAL_ERROR")


@pytest.mark.parametrize("failure", FAILURES, ids=lambda e: f"{type(e).__name__}-{getattr(e, 'code', '')}")
async def test_a_read_computed_before_routing_answers_503_too(
    app: FastAPI, team: Team, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    task = (await team.member.client.post(team.tasks_url, json={"title": "Read me"})).json()
    url = f"{team.tasks_url}/{task['id']}"
    monkeypatch.setattr(TaskRepository, "by_id", unreachable(failure))
    routed = await from_the_route(app, team.member, url)

    response = await loaded_before_routing(app, team.member, url)

    problem(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"
    # Answered where the route's is: by the app's handler inside the rate limiter (its headers), or
    # by the last resort outside it.
    assert sorted(response.headers) == sorted(routed.headers)


async def test_an_outage_while_the_fast_path_decides_access_is_the_routes_503(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = (await team.member.client.post(team.tasks_url, json={"title": "Read me"})).json()
    monkeypatch.setattr(AccessFacts, "member_map", unreachable(AutoReconnect("gone")))

    response = await team.member.client.get(f"{team.tasks_url}/{task['id']}")

    problem(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"
    assert response.headers["ratelimit-limit"]  # the app's handler answered, inside the rate limiter
