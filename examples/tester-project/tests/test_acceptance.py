"""Acceptance tests a QA engineer writes against Tasklane, with the plugin's fixtures only."""

import httpx
import pytest


async def test_live(client):
    assert (await client.get("/health/live")).status_code == 200


async def test_an_outsider_cannot_see_the_project(team, problem):
    response = await team.outsider.client.get(team.project_url)

    problem(response, 404, "PROJECT_NOT_FOUND")


async def test_a_viewer_reads_but_cannot_write(team, problem):
    assert (await team.viewer.client.get(team.tasks_url)).status_code == 200

    problem(await team.viewer.client.post(team.tasks_url, json={"title": "No"}), 403, "INSUFFICIENT_ROLE")


async def test_factories_build_what_search_finds(users, factory):
    alice, bob = await users.create(), await users.create()
    project = await factory.project(alice, members=[(bob, "member")])
    await factory.task(project, bob, title="Checkout button is misaligned", labels=["ui"])
    await factory.task(project, bob, title="Write release notes")

    found = await bob.client.get(f"/api/v1/projects/{project['id']}/tasks", params={"q": "checkout"})

    assert [t["title"] for t in found.json()["items"]] == ["Checkout button is misaligned"]


async def test_a_logged_out_session_is_refused(users, problem):
    alice = await users.create()
    await alice.client.post("/api/v1/auth/logout")

    problem(await alice.client.get("/api/v1/users/me"), 401, "INVALID_TOKEN")


@pytest.mark.tasklane_settings(max_body_bytes=1024)
async def test_settings_per_test(users, problem):
    alice = await users.create()

    response = await alice.client.post("/api/v1/projects", json={"name": "x" * 2000, "key": "BIG"})

    problem(response, 413, "PAYLOAD_TOO_LARGE")


async def test_a_real_socket(live_server, team):
    async with httpx.AsyncClient(base_url=live_server, headers=team.member.headers) as http:
        response = await http.get(team.tasks_url)

    assert response.status_code == 200
