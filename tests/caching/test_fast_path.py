"""Cache hits are answered before routing, with the same answer and the same checks as the route."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.core.caching.fastpath import _error_response
from backend.core.caching.reads import declared_reads, response_cache
from backend.core.config import Settings
from backend.main import create_app
from backend.tasks.service import TaskService
from backend.testing import Actor, Team, UserFactory, cached_reads, make_test_settings, problem
from tests.caching.test_response_cache import cached_urls

SAME_HEADERS = ("etag", "content-type", "content-length", "cache-control")


async def first_task(team: Team) -> str:
    task = await team.member.client.post(
        team.tasks_url, json={"title": "alpha", "assignee_ids": [team.member.id]}
    )
    return str(task.json()["id"])


async def before_routing(
    app: FastAPI, actor: Actor, url: str, counter: str = "served", **kwargs: object
) -> httpx.Response:
    """GET url, asserting the fast path answered it: a hit (`served`), or a miss it computed (`loaded`)."""
    fast = cached_reads(app)
    before = getattr(fast, counter)
    response = await actor.client.get(url, **kwargs)  # type: ignore[arg-type]
    assert getattr(fast, counter) == before + 1, f"{url} went to the route"
    return response


async def hit_before_routing(app: FastAPI, actor: Actor, url: str, **kwargs: object) -> httpx.Response:
    return await before_routing(app, actor, url, "served", **kwargs)


async def test_every_cached_route_is_answered_before_routing_as_the_route_would(
    app: FastAPI, team: Team
) -> None:
    task_id = await first_task(team)
    for url in cached_urls(team, task_id):
        miss = await team.member.client.get(url)

        hit = await hit_before_routing(app, team.member, url)
        not_modified = await hit_before_routing(
            app, team.member, url, headers={"If-None-Match": hit.headers["etag"]}
        )

        assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT"), url
        assert hit.status_code == 200
        assert hit.content == miss.content, url
        assert [hit.headers.get(h) for h in SAME_HEADERS] == [miss.headers.get(h) for h in SAME_HEADERS]
        assert hit.headers["ratelimit-remaining"]
        assert hit.headers["x-request-id"]
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert "content-type" not in not_modified.headers


def test_the_fast_path_knows_every_cached_route_in_the_contract() -> None:
    with open("api-specification.yaml", encoding="utf-8") as file:
        spec: dict[str, Any] = yaml.safe_load(file)
    cached = {
        path
        for path, operations in spec["paths"].items()
        if "X-Cache" in json.dumps(operations.get("get", {}).get("responses", {}).get("200", {}))
    }

    reads = declared_reads(create_app(make_test_settings()).routes)

    assert {read.path for read in reads} == cached


async def test_a_logged_out_token_gets_401_not_the_cached_answer(app: FastAPI, team: Team) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"
    await team.member.client.get(url)
    await hit_before_routing(app, team.member, url)

    assert (await team.member.client.post("/api/v1/auth/logout")).status_code == 204

    problem(await team.member.client.get(url), 401, "INVALID_TOKEN")


async def test_a_disabled_account_gets_401_not_the_cached_answer(
    app: FastAPI, team: Team, users: UserFactory
) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"
    await team.member.client.get(url)
    await hit_before_routing(app, team.member, url)
    root = await users.create(role="admin")

    disabled = await root.client.patch(f"/api/v1/users/{team.member.id}", json={"disabled": True})

    assert disabled.status_code == 200, disabled.text
    problem(await team.member.client.get(url), 401, "INVALID_TOKEN")


async def test_a_member_removed_after_the_member_map_was_cached_gets_404(app: FastAPI, team: Team) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"
    await team.viewer.client.get(url)
    await hit_before_routing(app, team.viewer, url)
    await team.owner.client.delete(f"{team.project_url}/members/{team.viewer.id}")
    await team.member.client.get(url)  # caches the new member map, without the viewer
    await hit_before_routing(app, team.member, url)

    problem(await team.viewer.client.get(url), 404, "PROJECT_NOT_FOUND")
    problem(await team.outsider.client.get(url), 404, "PROJECT_NOT_FOUND")


async def test_a_global_admin_outside_the_project_is_served_as_one(
    app: FastAPI, team: Team, users: UserFactory
) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"
    root = await users.create(role="admin")
    await root.client.get(url)

    hit = await hit_before_routing(app, root, url)

    assert hit.status_code == 200
    assert hit.json()["title"] == "alpha"


async def test_personal_access_tokens_get_hits_before_routing(app: FastAPI, team: Team) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"
    token = (await team.member.client.post("/api/v1/users/me/tokens", json={"name": "ci"})).json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    await team.member.client.get(url)
    fast = cached_reads(app)
    before = fast.served

    hit = await team.member.client.get(url, headers=headers)

    assert (hit.status_code, hit.headers["x-cache"]) == (200, "HIT")
    assert fast.served == before + 1


async def test_a_revoked_personal_access_token_gets_no_hit(app: FastAPI, team: Team) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"
    token = (await team.member.client.post("/api/v1/users/me/tokens", json={"name": "ci"})).json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert (await team.member.client.get(url, headers=headers)).status_code == 200

    await team.member.client.delete(f"/api/v1/users/me/tokens/{token['id']}")

    problem(await team.member.client.get(url, headers=headers), 401, "INVALID_TOKEN")


@pytest.mark.parametrize(
    "if_none_match",
    [["W/x" * 400], ['"nope"', "*"]],
    ids=["longer than the route accepts", "repeated"],
)
async def test_unusual_if_none_match_is_judged_by_the_route(
    app: FastAPI, team: Team, if_none_match: list[str]
) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"
    await team.member.client.get(url)
    oracle = await team.member.client.get(
        url + "?_oracle=1", headers=[("If-None-Match", value) for value in if_none_match]
    )
    fast = cached_reads(app)
    before = fast.served

    response = await team.member.client.get(
        url, headers=[("If-None-Match", value) for value in if_none_match]
    )

    assert response.status_code == oracle.status_code
    assert fast.served == before


@pytest.mark.tasklane_settings(log_level="INFO")
async def test_fast_hits_are_logged_counted_and_rate_limited(
    app: FastAPI, team: Team, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"
    await team.member.client.get(url)
    capsys.readouterr()

    first = await hit_before_routing(app, team.member, url, headers={"X-Request-ID": "fast-1"})
    second = await hit_before_routing(app, team.member, url)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["event"] == "request" and line["request_id"] == "fast-1"]
    assert [(a["path"], a["status"]) for a in access] == [(url, 200)]
    assert first.headers["x-request-id"] == "fast-1"
    assert int(second.headers["ratelimit-remaining"]) == int(first.headers["ratelimit-remaining"]) - 1
    metrics = (await client.get("/metrics")).text
    template = "/api/v1/projects/{project_id}/tasks/{task_id}"
    assert (
        f'http_requests_total{{handler="{template}",method="GET",status="2xx"}} 3.0' in metrics
    )  # with the miss


class TestWithLowLimits:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_test_settings(rate_limit_authenticated="3/minute")

    async def test_a_fast_hit_past_the_limit_is_429(self, app: FastAPI, users: UserFactory) -> None:
        alice = await users.create()
        project = (await alice.client.post("/api/v1/projects", json={"name": "Mine", "key": "MINE"})).json()
        url = f"/api/v1/projects/{project['id']}/members"
        await alice.client.get(url)  # the second request of the window: a miss
        last = await hit_before_routing(app, alice, url)

        assert last.headers["ratelimit-remaining"] == "0"
        problem(await alice.client.get(url), 429, "RATE_LIMITED")


class TestCors:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_test_settings(cors_origins="https://app.example.com")

    async def test_a_fast_hit_carries_the_cors_headers(self, app: FastAPI, team: Team) -> None:
        url = f"{team.tasks_url}/{await first_task(team)}"
        await team.member.client.get(url)

        hit = await hit_before_routing(app, team.member, url, headers={"Origin": "https://app.example.com"})

        assert hit.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "X-Cache" in hit.headers["access-control-expose-headers"]


def loaded_urls(app: FastAPI, team: Team, task_id: str) -> list[str]:
    """A URL of every cached read whose misses the fast path computes (those declaring `load`)."""
    reads = [read for read in declared_reads(app.routes) if read.load is not None]
    urls = {read.path: [u for u in cached_urls(team, task_id) if read.pattern.match(u)] for read in reads}
    assert reads
    assert all(urls.values()), urls  # each such read has a URL in cached_urls
    return [found[0] for found in urls.values()]


async def from_the_route(app: FastAPI, actor: Actor, url: str) -> httpx.Response:
    """The route's own answer: with the cache off, the fast path lets every request through."""
    cache = response_cache(app)
    cache.enabled = False
    try:
        return await actor.client.get(url)
    finally:
        cache.enabled = True


async def loaded_before_routing(app: FastAPI, actor: Actor, url: str) -> httpx.Response:
    return await before_routing(app, actor, url, "loaded")


async def test_misses_with_a_loader_are_computed_before_routing_as_the_route_would(
    app: FastAPI, team: Team
) -> None:
    task_id = await first_task(team)
    for url in loaded_urls(app, team, task_id):
        routed = await from_the_route(app, team.member, url + "?v=1")

        miss = await loaded_before_routing(app, team.member, url + "?v=2")
        hit = await hit_before_routing(app, team.member, url + "?v=2")

        assert miss.status_code == routed.status_code == 200
        assert miss.content == routed.content == hit.content, url
        assert [miss.headers.get(h) for h in (*SAME_HEADERS, "x-cache")] == [
            routed.headers.get(h) for h in (*SAME_HEADERS, "x-cache")
        ]
        assert miss.headers["x-request-id"]


async def test_a_miss_of_a_task_not_there_is_the_routes_404(app: FastAPI, team: Team) -> None:
    deleted = await first_task(team)
    assert (await team.member.client.delete(f"{team.tasks_url}/{deleted}")).status_code == 204
    for task_id in (deleted, "0123456789abcdef01234567"):
        url = f"{team.tasks_url}/{task_id}"
        routed = problem(await from_the_route(app, team.member, url), 404, "TASK_NOT_FOUND")

        fast = problem(await loaded_before_routing(app, team.member, url), 404, "TASK_NOT_FOUND")

        assert {**fast, "request_id": None} == {**routed, "request_id": None}


async def test_a_miss_that_fails_unexpectedly_is_the_last_resort_500(
    app: FastAPI, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{team.tasks_url}/{await first_task(team)}"

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(TaskService, "get", broken)

    problem(await from_the_route(app, team.member, url), 500, "INTERNAL_ERROR")
    problem(await loaded_before_routing(app, team.member, url), 500, "INTERNAL_ERROR")


async def test_errors_are_looked_up_as_starlette_does_inside_routing() -> None:
    """By status code first for an HTTPException; `Exception`'s and 500's handlers belong to FastAPI's
    ServerErrorMiddleware, outside the rate limiter, so the fast path leaves such errors to it."""
    app = FastAPI()

    def answer(text: str) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def handler(_: Request, __: Exception) -> Response:
            return PlainTextResponse(text)

        return handler

    app.add_exception_handler(StarletteHTTPException, answer("by class"))
    app.add_exception_handler(418, answer("by status"))
    app.add_exception_handler(Exception, answer("server error"))
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})

    teapot = await _error_response(app, request, StarletteHTTPException(418))
    other = await _error_response(app, request, StarletteHTTPException(404))

    assert (teapot.body, other.body) == (b"by status", b"by class")
    with pytest.raises(RuntimeError):
        await _error_response(app, request, RuntimeError("a bug"))
